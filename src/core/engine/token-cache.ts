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

/** A 30-bit hash of a token's last characters (its signature): for the admission filter only. */
function tokenHash(token: string): number {
  let h = 0x811c9dc5
  for (let i = Math.max(0, token.length - 24); i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193)
  return h & 0x3fffffff
}

/**
 * An LRU of verified tokens with an admission filter and a front table.
 *
 * Admission. While the cache has room and tokens repeat, a verified token is cached at once. Once
 * it is full, or under churn (fewer than 1 in 16 lookups hit, over the last 1024), a token is cached
 * on its second verification: the first only writes its hash into `seen`, so a token that never
 * comes back costs no entry — no LRU insertion, no eviction, no entry that survives into the heap's
 * old generation for nobody to read (measured, issue 20: a full cache admitting at once made
 * never-seen tokens among hitting ones ~20 % slower than `cache: false`); a token that repeats pays
 * one extra verification in its lifetime. `seen` is a table of small token hashes (never tokens),
 * fixed in size, two slots per hash: a collision only admits a token early, or forgets one. Under
 * churn, a token whose hash is not in `seen` was not verified
 * recently: the LRU lookup (which hashes the whole token) is skipped; should its slot have been
 * reused meanwhile, a cached token is simply verified once more. Without churn the LRU is always
 * asked, so two tokens of a steady pool that share a slot do not re-verify each other out.
 *
 * Keeping. What the LRU stores is `keep(entry)`: for verified tokens, a copy (`retain` in claims.ts),
 * so that the objects a verification allocates for its request all die young and V8 does not learn
 * to allocate them in the old generation (see `retain`).
 *
 * Front. Hits are served from `front` first: per `seen` slot, the entry last found or cached there.
 * It compares the whole token (never the hash alone) and the deadline, and skips the LRU's lookup,
 * which hashes the whole token on each request (a request's header is always a new string). The
 * LRU's `dispose` takes evicted entries out of `front`.
 */
export class TokenCache<E extends Cacheable> {
  private readonly lru: LRUCache<string, E>
  private readonly seen: Int32Array
  private readonly front: (E | undefined)[]
  private readonly mask: number
  private readonly max: number
  /** Bits dropped for `seen`'s second slot of a hash (see `second`). */
  private readonly shift: number
  /** A linear congruential state: which slot a full pair gives up (at random, so two tokens cannot keep evicting each other). */
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
    let size = 2048
    while (size < 2 * max && size < 1 << 22) size *= 2
    this.seen = new Int32Array(size)
    this.mask = size - 1
    this.max = max
    this.shift = 32 - Math.log2(size)
    this.front = new Array<E | undefined>(size)
    const front = this.front
    const mask = this.mask
    this.lru = new LRUCache<string, E>({
      max,
      ttlAutopurge: false,
      dispose: (entry, token) => {
        const slot = tokenHash(token) & mask
        if (front[slot] === entry) front[slot] = undefined
      },
    })
  }

  /** The live entry of this token (within its TTL, its key not retired), counted for the churn detector. */
  get(token: string): E | undefined {
    const hash = tokenHash(token)
    const slot = hash & this.mask
    let hit = this.frontHit(token, slot)
    // under churn, a token whose hash is not in `seen` is taken as never seen (no LRU lookup);
    // otherwise the LRU is asked too, so two active tokens sharing a slot are both served
    if (hit === undefined && (!this.churn || this.wasSeen(hash))) {
      hit = this.lru.get(token)
      if (hit !== undefined) {
        // a refetch dropped the key that verified it: verify again (the key is gone, so it fails)
        if (hit.key.retired) {
          this.lru.delete(token)
          hit = undefined
        } else this.front[slot] = hit
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
    return this.frontHit(token, tokenHash(token) & this.mask)
  }

  /**
   * Caches a verified token: at once while the cache has room and tokens repeat, else from its
   * second verification on (see above). Answers what to hand out: the kept entry when it was
   * cached (so that the first request and every hit share one context), else `entry`.
   * The entry is served until `notAfterMs` (its `exp` with the tolerance) and at most `maxAgeMs`.
   */
  admit(token: string, entry: E, notAfterMs: number, maxAgeMs: number): E {
    const hash = tokenHash(token)
    const slot = hash & this.mask
    // once the cache is full, or under churn, the first verification is only remembered (as its
    // hash): a token earns its slot on the second
    if (!this.wasSeen(hash)) {
      this.markSeen(hash)
      if (this.churn || this.lru.size >= this.max) return entry
    }
    const now = Date.now()
    const ttl = Math.min(notAfterMs - now, maxAgeMs)
    if (ttl <= 0) return entry
    const kept = this.keep(entry)
    kept.until = now + ttl
    this.lru.set(token, kept, { ttl })
    this.front[slot] = kept
    return kept
  }

  /**
   * `seen` is two-way: a hash may sit in either of two slots, so two tokens that share one slot (with
   * 1,000 active tokens in 32,768 slots, a few dozen pairs do) are both remembered, and both get
   * cached, instead of wiping each other out for ever.
   */
  private wasSeen(hash: number): boolean {
    const seen = this.seen
    return seen[hash & this.mask] === hash + 1 || seen[this.second(hash)] === hash + 1
  }

  /** The second slot of a hash: its top bits (multiplicative hashing), never the first slot. */
  private second(hash: number): number {
    const b = Math.imul(hash, 0x9e3779b1) >>> this.shift
    return b === (hash & this.mask) ? b ^ 1 : b
  }

  /**
   * Writes `hash` into a free one of its two slots, else over one of them chosen at random (that
   * token's first verification is forgotten: it is verified once more). A fixed choice could make
   * two tokens take each other's place on every request, so that neither is ever cached.
   */
  private markSeen(hash: number): void {
    const seen = this.seen
    const a = hash & this.mask
    const b = this.second(hash)
    let slot = a
    if (seen[a] !== 0) {
      this.rand = (Math.imul(this.rand, 1103515245) + 12345) | 0
      slot = seen[b] === 0 || this.rand < 0 ? b : a
    }
    seen[slot] = hash + 1
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

  /** The live rejection of this exact token, if one is remembered. */
  get(token: string): Rejection<Source> | undefined {
    const e = this.slots[tokenHash(token) & (REJECTION_CACHE.slots - 1)]
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
