/**
 * An in-memory jti denylist for one process: bounded (LRU), each entry expiring with its token.
 * For several instances, use `createRedisRevocationStore` from `bearer-guard/redis`.
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import { MIN_MILLISECOND_TIMESTAMP, REVOCATION_SLACK_MS } from '../limits.js'
import type { RevocationStore } from '../types.js'

export interface MemoryRevocationStoreOptions {
  /** Most jtis kept. When full, the entry closest to eviction is dropped (least recently used). Default: `100000`. */
  max?: number
}

/**
 * The wall clock, for lru-cache's TTLs: entries expire on the clock that `exp` is checked against
 * (lru-cache would otherwise use `performance.now()`, which drifts from `Date.now()`).
 */
export const WALL_CLOCK = { now: () => Date.now() }

/**
 * Milliseconds since the epoch of `revoke()`'s `expiresAt`: a `Date` (`auth.expiresAt`) or a
 * NumericDate in seconds (`claims.exp`, RFC 7519 §2). Throws a `TypeError` naming the fix for
 * anything else, and for a number that can only be milliseconds (never read as seconds).
 */
export function expiresAtMs(expiresAt: Date | number): number {
  if (typeof expiresAt === 'number' && expiresAt >= MIN_MILLISECOND_TIMESTAMP && Number.isFinite(expiresAt)) {
    throw new TypeError(
      `bearer-guard: revoke() expiresAt ${expiresAt} looks like milliseconds: pass seconds (claims.exp) or a Date`,
    )
  }
  // a Date from another realm (a vm context, an edge sandbox) is still a Date
  const isDate = Object.prototype.toString.call(expiresAt) === '[object Date]'
  const ms = isDate
    ? Date.prototype.getTime.call(expiresAt)
    : typeof expiresAt === 'number' && expiresAt >= 0
      ? expiresAt * 1000
      : Number.NaN
  if (!Number.isFinite(ms)) {
    throw new TypeError(
      'bearer-guard: revoke() needs expiresAt as a Date or a NumericDate in seconds (auth.expiresAt or claims.exp)',
    )
  }
  return ms
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
 * await revocation.revoke(auth.claims.jti, auth.expiresAt) // or claims.exp, in seconds
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): RevocationStore & { readonly size: number } {
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('bearer-guard: invalid option "max": expected a positive integer')
  const entries = new LRUCache<string, true>({ max, ttlAutopurge: false, perf: WALL_CLOCK })
  return {
    isRevoked(jti) {
      return entries.get(jti) === true
    },
    revoke(jti, expiresAt) {
      if (typeof jti !== 'string' || jti.length === 0) throw new TypeError('bearer-guard: revoke() needs a jti string')
      const ttl = expiresAtMs(expiresAt) + REVOCATION_SLACK_MS - Date.now()
      if (!(ttl > 0)) return // long expired: nothing to deny
      entries.set(jti, true, { ttl: Math.ceil(ttl) })
    },
    get size() {
      return entries.size
    },
  }
}
