/**
 * An in-memory jti denylist for one process: bounded (LRU), each entry expiring with its token.
 * For several instances, use `createRedisRevocationStore` from `bearer-guard/redis`.
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import { MAX_DURATIONS } from './options.js'
import type { RevocationStore } from './types.js'

/**
 * How long past `exp` a revocation is kept: the largest `clockTolerance` a verifier accepts, so a
 * revoked token can never be accepted again inside its tolerance window.
 */
export const REVOCATION_SLACK_MS = MAX_DURATIONS.clockTolerance * 1000

export interface MemoryRevocationStoreOptions {
  /** Most jtis kept. When full, the entry closest to eviction is dropped (least recently used). Default: `100000`. */
  max?: number
}

/**
 * A `RevocationStore` kept in process memory.
 *
 * > [!WARNING]
 * > It is lost on restart and not seen by other instances of the service.
 *
 * @example Revoke a token on logout.
 * ```ts
 * const revocation = createMemoryRevocationStore()
 * const verifier = createVerifier({ issuer, audience, revocation })
 * await revocation.revoke(auth.claims.jti, auth.expiresAt)
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): RevocationStore & { readonly size: number } {
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('bearer-guard: invalid option "max": expected a positive integer')
  const entries = new LRUCache<string, true>({ max, ttlAutopurge: false })
  return {
    isRevoked(jti) {
      return entries.get(jti) === true
    },
    revoke(jti, expiresAt) {
      if (typeof jti !== 'string' || jti.length === 0) throw new TypeError('bearer-guard: revoke() needs a jti string')
      const ttl = expiresAt.getTime() + REVOCATION_SLACK_MS - Date.now()
      if (!(ttl > 0)) return // long expired: nothing to deny
      entries.set(jti, true, { ttl: Math.ceil(ttl) })
    },
    get size() {
      return entries.size
    },
  }
}
