/**
 * The local mirror of revoked jtis, which answers `isRevoked` without the network: a bounded LRU
 * keyed by id (see wire.ts), each entry expiring with its token on the wall clock. Once live entries
 * were evicted, a miss is no longer proof of absence and the store asks Redis.
 *
 * @module bearer-guard/redis
 */
import { LRUCache } from 'lru-cache'
import { WALL_CLOCK } from '../core/stores/memory-revocation.js'
import type { RevocationLogger } from './types.js'

export interface Mirror {
  has(id: string): boolean
  /** Mirrors `id` until `untilMs` (ms since the epoch); `Infinity` (a key without TTL) keeps it until evicted. */
  remember(id: string, untilMs: number): void
  /** True once an unexpired entry was evicted: a miss may then be a revoked jti. */
  readonly overflowed: boolean
  readonly size: number
  /** After a complete resync that found `found` keys: drops expired entries and re-decides `overflowed`. */
  settle(found: number): void
}

export function createMirror(max: number, log: RevocationLogger): Mirror {
  let overflowed = false
  const entries = new LRUCache<string, number>({
    max,
    perf: WALL_CLOCK,
    dispose(untilMs, _id, reason) {
      if (reason === 'evict' && untilMs > Date.now() && !overflowed) {
        overflowed = true
        log.warn?.(`bearer-guard/redis: more than ${max} revoked jtis; lookups missing the mirror now ask Redis`)
      }
    },
  })
  return {
    has: (id) => entries.has(id),
    remember(id, untilMs) {
      if (untilMs === Infinity) {
        entries.set(id, untilMs, { ttl: 0 })
        return
      }
      const ttl = Math.ceil(untilMs - Date.now())
      if (ttl > 0) entries.set(id, untilMs, { ttl })
    },
    get overflowed() {
      return overflowed
    },
    get size() {
      return entries.size
    },
    settle(found) {
      entries.purgeStale()
      if (overflowed && entries.size < max) overflowed = found >= max
    },
  }
}
