/**
 * The verified-token cache: the same token string gets the same answer without a second signature
 * check, for at most its lifetime and the key source's freshness window, and never once the key that
 * verified it is retired. A hit still re-checks the clock and the revocation store (the pipeline
 * does that).
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import type { KeyState } from '../keys/verify-key.js'
import { REJECTION_CACHE } from '../limits.js'

/** What the cache needs of an entry. */
export interface Cacheable {
  readonly token: string
  readonly key: KeyState
  /** Epoch ms after which the entry is not served; set by `admit`. */
  until: number
}

/**
 * A 30-bit hash of a token's last 8 characters, for the tables below only (never a security check:
 * every table compares the whole token). A cached token is a compact JWS, which ends in its
 * signature: 8 base64url characters of it carry 44+ bits (its last character 2 to 6), more than
 * the index uses. 8, not more: each `charCodeAt` costs a few cycles, and the hash is taken once per
 * request (the verifier passes it to each table). FNV-1a over 4-character words, then murmur3's
 * finalizer, so that the low bits (the bucket) mix every character.
 */
export function tokenHash(token: string): number {
  const n = token.length
  let h = 0x811c9dc5
  if (n >= 8) {
    h = Math.imul(h ^ (token.charCodeAt(n - 8) | (token.charCodeAt(n - 7) << 8) | (token.charCodeAt(n - 6) << 16) | (token.charCodeAt(n - 5) << 24)), 0x01000193)
    h = Math.imul(h ^ (token.charCodeAt(n - 4) | (token.charCodeAt(n - 3) << 8) | (token.charCodeAt(n - 2) << 16) | (token.charCodeAt(n - 1) << 24)), 0x01000193)
  } else {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h & 0x3fffffff
}

/**
 * An LRU of verified tokens with an admission filter and a front table.
 *
 * Admission. While the cache has room and tokens repeat, a verified token is cached at once. Once
 * it is full, or under churn (fewer than 1 in 16 lookups hit, over the last 1024), a token is cached
 * on its second verification: the first only writes its hash into the bucket's "seen" ways, so a
 * token that never comes back costs no entry — no LRU insertion, no eviction, no entry that survives
 * into the heap's old generation for nobody to read (measured, issue 20: a full cache admitting at
 * once made never-seen tokens among hitting ones ~20 % slower than `cache: false`); a token that
 * repeats pays one extra verification in its lifetime. "Seen" holds small token hashes (never
 * tokens), fixed in size, three ways per bucket: a collision only admits a token early, or forgets
 * one. Every cached token was marked seen when it was admitted, so a token whose hash is not seen
 * was not verified recently: the LRU lookup (which hashes the whole token: ~1 ns per character, an
 * RS256 token has 800) is skipped; should its way have been reused meanwhile, a cached token is
 * simply verified once more. Without churn, the LRU is also asked when the bucket's front holds
 * another token, so that four active tokens of a steady pool sharing a bucket (three ways) do not
 * re-verify each other out.
 *
 * Keeping. What the LRU stores is `keep(entry)`: for verified tokens, a copy (`retain` in claims.ts),
 * so that the objects a verification allocates for its request all die young and V8 does not learn
 * to allocate them in the old generation (see `retain`).
 *
 * Front. Hits are served from `front` first: per bucket, the entry last found or cached there. It
 * compares the whole token (never the hash alone) and the deadline, and skips the LRU's lookup,
 * which hashes the whole token on each request (a request's header is always a new string). The
 * LRU's `dispose` takes evicted entries out of `front`.
 *
 * One cache line. A bucket is 4 words of `buckets`: the hash of the token `front` holds for it, and
 * the 3 seen ways; 16 bytes, so a bucket never straddles a 64-byte line. A never-seen token reads
 * that one line and nothing else (`front` only when the hash matches): between two requests a
 * server allocates kilobytes, which evicts the tables from the CPU's caches, and each table read is
 * then a memory access (issue 20, `PART=isolated` of bench/cache-paths.ts: a never-seen token's
 * whole path through the caches, with 4 KB allocated between tokens, 290–360 ns with the former
 * separate tables and three hashes, 150–190 ns now; 180–240 and 50–80 ns without the allocation).
 */
export class TokenCache<E extends Cacheable> {
  private readonly lru: LRUCache<string, E>
  /** Per bucket: [0] the front entry's hash + 1 (0: none), [1..3] seen hashes + 1 (0: free). */
  private readonly buckets: Int32Array
  private readonly front: (E | undefined)[]
  private readonly mask: number
  private readonly max: number
  /** A linear congruential state: which way a full bucket gives up (at random, so two tokens cannot keep evicting each other). */
  private rand = 0x2545f491
  private lookups = 0
  private hits = 0
  private churn = false

  /**
   * @param max Entries at most.
   * @param keep What the cache stores of an admitted entry (the entry itself by default).
   */
  constructor(
    max: number,
    private readonly keep: (entry: E) => E = (entry) => entry,
  ) {
    // at least as many buckets as entries: 3 seen ways each hold the hashes of the active tokens
    let count = 1024
    while (count < max && count < 1 << 21) count *= 2
    this.buckets = new Int32Array(count * 4)
    this.mask = count - 1
    this.max = max
    this.front = new Array<E | undefined>(count)
    const front = this.front
    const buckets = this.buckets
    const mask = this.mask
    this.lru = new LRUCache<string, E>({
      max,
      ttlAutopurge: false,
      dispose: (entry, token) => {
        const slot = tokenHash(token) & mask
        if (front[slot] === entry) {
          front[slot] = undefined
          buckets[slot << 2] = 0
        }
      },
    })
  }

  /**
   * The live entry of this token (within its TTL, its key not retired), counted for the churn
   * detector. `hash`: `tokenHash(token)`, when the caller has it already.
   */
  get(token: string, hash: number = tokenHash(token)): E | undefined {
    const slot = hash & this.mask
    const b = slot << 2
    const buckets = this.buckets
    const tag = hash + 1
    const front = buckets[b]
    let hit = front === tag ? this.frontHit(token, slot) : undefined
    // the LRU (which hashes the whole token) is asked for a token seen recently; without churn also
    // when the bucket's front holds another token: several active tokens share this bucket, and a
    // seen way of this one may have been taken by the others (see above)
    if (hit === undefined && (this.wasSeen(b, tag) || (!this.churn && front !== 0 && front !== tag))) {
      hit = this.lru.get(token)
      if (hit !== undefined) {
        // a refetch dropped the key that verified it: verify again (the key is gone, so it fails)
        if (hit.key.retired) {
          this.lru.delete(token)
          hit = undefined
        } else {
          this.front[slot] = hit
          buckets[b] = tag
        }
      }
    }
    if (++this.lookups === 1024) {
      this.churn = (this.hits + (hit ? 1 : 0)) * 16 < this.lookups
      this.lookups = this.hits = 0
    } else if (hit) this.hits++
    return hit
  }

  /** `get` from the front table only, not counted: whether this exact token is served right now. */
  peek(token: string): E | undefined {
    const hash = tokenHash(token)
    const slot = hash & this.mask
    return this.buckets[slot << 2] === hash + 1 ? this.frontHit(token, slot) : undefined
  }

  /**
   * Caches a verified token: at once while the cache has room and tokens repeat, else from its
   * second verification on (see above). Answers what to hand out: the kept entry when it was
   * cached (so that the first request and every hit share one context), else `entry`.
   * The entry is served until `notAfterMs` (its `exp` with the tolerance) and at most `maxAgeMs`.
   * `hash`: `tokenHash(token)`, when the caller has it already.
   */
  admit(token: string, entry: E, notAfterMs: number, maxAgeMs: number, hash: number = tokenHash(token)): E {
    const slot = hash & this.mask
    const b = slot << 2
    const buckets = this.buckets
    const tag = hash + 1
    // once the cache is full, or under churn, the first verification is only remembered (as its
    // hash): a token earns its slot on the second
    if (!this.wasSeen(b, tag)) {
      this.markSeen(b, tag)
      if (this.churn || this.lru.size >= this.max) return entry
    }
    const now = Date.now()
    const ttl = Math.min(notAfterMs - now, maxAgeMs)
    if (ttl <= 0) return entry
    const kept = this.keep(entry)
    kept.until = now + ttl
    this.lru.set(token, kept, { ttl })
    this.front[slot] = kept
    buckets[b] = tag
    return kept
  }

  /** Whether `tag` (a token hash + 1) is in one of bucket `b`'s seen ways. */
  private wasSeen(b: number, tag: number): boolean {
    const buckets = this.buckets
    return buckets[b + 1] === tag || buckets[b + 2] === tag || buckets[b + 3] === tag
  }

  /**
   * Writes `tag` into a free seen way of bucket `b`, else over one of the three chosen at random
   * (that token's first verification is forgotten: it is verified once more). A fixed choice could
   * make two tokens take each other's place on every request, so that neither is ever cached.
   */
  private markSeen(b: number, tag: number): void {
    const buckets = this.buckets
    let way = buckets[b + 1] === 0 ? 1 : buckets[b + 2] === 0 ? 2 : buckets[b + 3] === 0 ? 3 : 0
    if (way === 0) {
      this.rand = (Math.imul(this.rand, 1103515245) + 12345) | 0
      way = 1 + ((this.rand >>> 16) % 3)
    }
    buckets[b + way] = tag
  }

  private frontHit(token: string, slot: number): E | undefined {
    const e = this.front[slot]
    return e !== undefined && e.token === token && e.until > Date.now() && !e.key.retired ? e : undefined
  }
}

/** A remembered bad signature: the token, where its keys come from, and the keys that failed it. */
export interface Rejection<Source> {
  readonly token: string
  /** The issuer's key source, asked again for `kid`/`alg` on each hit. */
  readonly source: Source
  readonly kid: string | undefined
  readonly alg: string
  /** The keys tried, in order: the failure holds while the source still selects exactly these. */
  readonly keys: readonly unknown[]
  readonly until: number
}

/**
 * The negative cache: tokens whose signature no key verified, so that a flood of one bad token costs
 * a lookup and a key selection, not a signature check per request. A fixed number of slots
 * (`REJECTION_CACHE.slots`), indexed like `TokenCache`'s front table and compared on the whole
 * token; a new failure takes its slot over. An entry lives `REJECTION_CACHE.ttlMs` at most, and is
 * served only while the key source selects the very keys that failed it (the pipeline checks:
 * a refetch that retires a key, or adds one that may verify the token, makes the token verified
 * again). Only a failure that is the token's own goes in (see verifier.ts): never a key outage, a
 * `kid` the key set lacks, or a store error.
 */
export class RejectionCache<Source> {
  private readonly slots: (Rejection<Source> | undefined)[] = new Array<Rejection<Source> | undefined>(REJECTION_CACHE.slots)

  /** The live rejection of this exact token, if one is remembered. `hash`: `tokenHash(token)`, when the caller has it already. */
  get(token: string, hash: number = tokenHash(token)): Rejection<Source> | undefined {
    const e = this.slots[hash & (REJECTION_CACHE.slots - 1)]
    return e !== undefined && e.token === token && e.until > Date.now() ? e : undefined
  }

  /** Remembers that `keys` (what `source` selected for `kid`/`alg`) did not verify `token`. */
  remember(token: string, source: Source, kid: string | undefined, alg: string, keys: readonly unknown[]): void {
    if (token.length > REJECTION_CACHE.maxTokenLength || keys.length === 0) return
    this.slots[tokenHash(token) & (REJECTION_CACHE.slots - 1)] = { token, source, kid, alg, keys, until: Date.now() + REJECTION_CACHE.ttlMs }
  }

  /** Forgets this token's rejection (its keys changed). */
  forget(token: string): void {
    const slot = tokenHash(token) & (REJECTION_CACHE.slots - 1)
    if (this.slots[slot]?.token === token) this.slots[slot] = undefined
  }
}
