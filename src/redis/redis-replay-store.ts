/**
 * `createRedisReplayStore`: the DPoP proof replay store (RFC 9449 §11.1) shared by every instance
 * of a service through Redis, one atomic `SET key 1 PX <ms> NX` per proof.
 *
 * Subpath export `'bearer-guard/redis'`.
 *
 * @module bearer-guard/redis
 */
import { KeySourceUnavailableError } from '../core/errors.js'
import { withTimeout, errorText } from './commands.js'
import { durationMs, methods, nonEmptyString, optional, optionReader, required } from './config.js'
import type { RedisReplayClientLike, RedisReplayStore, RedisReplayStoreOptions } from './types.js'
import { jtiId } from './wire.js'

/** Shortest time a proof id is kept: an `expiresAt` already past (clocks apart) still blocks a replay for a second. */
const MIN_TTL_MS = 1000

const RULES = {
  client: required(methods<RedisReplayClientLike>(['set'], 'an ioredis client')),
  prefix: optional(nonEmptyString, 'bearer-guard:dpop:'),
  commandTimeout: optional(durationMs, 1000),
} satisfies { [K in keyof RedisReplayStoreOptions]-?: unknown }

/**
 * Creates a DPoP replay store shared through Redis, for `dpop: { replay }` of `createVerifier`.
 *
 * Every proof costs one round trip: `SET <prefix><id> 1 PX <ms until expiresAt> NX`. Redis runs it
 * atomically, so of two instances behind a load balancer that receive the same proof, exactly one
 * stores it and accepts; the other is told it was seen and refuses. An id longer than 1024
 * characters is stored as its SHA-256. When Redis is down, slow (`commandTimeout`) or answers
 * anything but `OK` or nil, `mark` rejects with a `KeySourceUnavailableError`: the request is
 * answered 503, and a proof is never accepted without Redis having recorded it.
 *
 * @example Share seen proofs between the instances of a service.
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createVerifier } from 'bearer-guard'
 * import { createRedisReplayStore } from 'bearer-guard/redis'
 *
 * const replay = createRedisReplayStore({ client: new Redis(process.env.REDIS_URL!) })
 * const verifier = createVerifier({ issuer, audience, dpop: { mode: 'required', replay } })
 * ```
 *
 * @param options The client, and optionally `prefix` and `commandTimeout`; see {@link RedisReplayStoreOptions}.
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  const read = optionReader(RULES, options)
  const client = read('client')
  const prefix = read('prefix')
  const timeoutMs = read('commandTimeout')

  return {
    async mark(id: string, expiresAt: number): Promise<boolean> {
      if (typeof id !== 'string' || id.length === 0) throw new TypeError('bearer-guard: mark() needs an id string')
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
        throw new TypeError('bearer-guard: mark() needs expiresAt as a NumericDate in seconds')
      }
      const ttlMs = Math.max(MIN_TTL_MS, Math.ceil(expiresAt * 1000 - Date.now()))
      let reply: unknown
      try {
        reply = await withTimeout(
          Promise.resolve().then(() => client.set(prefix + jtiId(id), '1', 'PX', ttlMs, 'NX')),
          timeoutMs,
          'SET',
        )
      } catch (err) {
        throw unavailable(errorText(err), err)
      }
      if (reply === 'OK') return true
      if (reply === null) return false
      throw unavailable(`unexpected SET reply ${JSON.stringify(reply)?.slice(0, 64)}`)
    },
  }
}

/** The store's failure; the verifier answers it 503 (its `reason` names the replay store). */
function unavailable(detail: string, cause?: unknown): KeySourceUnavailableError {
  return new KeySourceUnavailableError({
    reason: `Redis SET NX failed: ${detail}`,
    description: 'replay check unavailable, retry later',
    cause,
  })
}
