/**
 * `createRedisRevocationStore`: a jti denylist shared by every instance of a service through Redis,
 * answered from a local mirror so a revocation check never waits on the network. This file is the
 * facade; the parts live beside it: config.ts (options), wire.ts (keys and messages), mirror.ts,
 * commands.ts (every awaited command, with its timeout), state.ts (the state machine) and sync.ts
 * (subscriber, resync, heartbeat).
 *
 * Subpath export `'bearer-guard/redis'`.
 *
 * @module bearer-guard/redis
 */
import { REVOCATION_SLACK_MS } from '../core/limits.js'
import { expiresAtMs } from '../core/stores/memory-revocation.js'
import { createCommands } from './commands.js'
import { parseOptions } from './config.js'
import { createMirror } from './mirror.js'
import { startSync } from './sync.js'
import type { RedisRevocationStore, RedisRevocationStoreOptions } from './types.js'
import { jtiId, keyspace } from './wire.js'

/**
 * Creates a revocation store shared through Redis.
 *
 * `isRevoked` reads a local mirror (bounded, each entry expiring with its token), kept current by
 * pub/sub and a periodic SCAN resync: a revocation on one instance is refused by the others within
 * about a millisecond of Redis' round trip. While Redis is unreachable the mirror keeps answering;
 * once it has not been proven complete for `maxStaleness`, checks fail closed with a 503.
 *
 * > [!WARNING]
 * > Revocation is one-way: deleting a key in Redis does not un-revoke a jti on instances that
 * > mirrored it, until its token expires.
 *
 * @example Share revocations between the instances of a service.
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createVerifier } from 'bearer-guard'
 * import { createRedisRevocationStore } from 'bearer-guard/redis'
 *
 * const revocation = createRedisRevocationStore({ client: new Redis(process.env.REDIS_URL!) })
 * await revocation.ready('5s').catch(() => {}) // optional: wait for the first sync
 * const verifier = createVerifier({ issuer, audience, revocation })
 * // on logout (a Date, or claims.exp in seconds):
 * await revocation.revoke(auth.claims.jti!, auth.expiresAt)
 * ```
 *
 * @param options The client and tuning; see {@link RedisRevocationStoreOptions}.
 */
export function createRedisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  const config = parseOptions(options)
  const mirror = createMirror(config.max, config.log)
  const commands = createCommands(config, keyspace(config.clientPrefix, config.prefix))
  const sync = startSync(config, mirror, commands)

  return {
    isRevoked(jti: string): boolean | Promise<boolean> {
      sync.assertFresh()
      if (typeof jti !== 'string' || jti.length === 0) return false
      const id = jtiId(jti)
      if (mirror.has(id)) return true
      return mirror.overflowed ? commands.exists(id) : false
    },

    async revoke(jti: string, expiresAt: Date | number): Promise<void> {
      if (typeof jti !== 'string' || jti.length === 0) throw new TypeError('bearer-guard: revoke() needs a jti string')
      const untilMs = Math.ceil(expiresAtMs(expiresAt) + REVOCATION_SLACK_MS)
      if (untilMs <= Date.now()) return // long expired: nothing to deny
      const id = jtiId(jti)
      mirror.remember(id, untilMs)
      await commands.share(id, untilMs)
    },

    ready: (timeout) => sync.ready(timeout),
    resync: () => sync.resync(),

    get status() {
      const { ms, stale } = sync.staleness()
      return { size: mirror.size, synced: sync.state.phase === 'synced', stalenessMs: ms, stale }
    },

    close: () => sync.close(),
  }
}
