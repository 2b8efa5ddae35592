/**
 * An in-memory replay store for DPoP proofs of one process: bounded, each `jti` kept until its
 * proof could no longer be accepted. For several instances behind a load balancer, use
 * `createRedisReplayStore` from `bearer-guard/redis`.
 *
 * @module bearer-guard
 */
import type { ReplayStore } from '../types.js'

export interface MemoryReplayStoreOptions {
  /**
   * Most proofs remembered at once. When every entry is still live, `mark` throws (the request is
   * answered 503): a live entry is never dropped, since dropping it would let its proof be replayed.
   * Default: `100000` (about 1,500 DPoP requests a second with the default 60 s proof window).
   */
  max?: number
}

/**
 * A `ReplayStore` kept in process memory: `mark(id, expiresAt)` is `true` the first time `id` is
 * seen before `expiresAt` (NumericDate seconds), `false` afterwards.
 *
 * > [!WARNING]
 * > Another instance of the service does not see it: a proof replayed to another instance is
 * > accepted there once. Behind a load balancer, use `createRedisReplayStore`.
 *
 * @example The default of `dpop.replay`, with a larger bound.
 * ```ts
 * import { createMemoryReplayStore, createVerifier } from 'bearer-guard'
 * const verifier = createVerifier({ issuer, audience, dpop: { replay: createMemoryReplayStore({ max: 500_000 }) } })
 * ```
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore & { readonly size: number } {
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('bearer-guard: invalid option "max": expected a positive integer')
  // id → expiry in ms; insertion order is close to expiry order (proofs arrive about when signed)
  const entries = new Map<string, number>()

  function sweep(now: number, all: boolean): void {
    for (const [id, until] of entries) {
      if (until <= now) entries.delete(id)
      else if (!all) return
    }
  }

  return {
    mark(id, expiresAt) {
      if (typeof id !== 'string' || id.length === 0) throw new TypeError('bearer-guard: mark() needs an id string')
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new TypeError('bearer-guard: mark() needs expiresAt in seconds')
      const now = Date.now()
      const seen = entries.get(id)
      if (seen !== undefined && seen > now) return false
      const until = expiresAt * 1000
      if (until <= now) return true // its proof is past the window anyway: nothing to remember
      if (seen !== undefined) entries.delete(id)
      else if (entries.size >= max) {
        sweep(now, false)
        if (entries.size >= max) sweep(now, true)
        if (entries.size >= max) throw new Error(`replay store full: ${max} live proofs`)
      }
      entries.set(id, until)
      return true
    },
    get size() {
      return entries.size
    },
  }
}
