/**
 * The verified-token cache (src/core/engine/token-cache.ts) on its own: `get`/`admit`, the key's
 * retirement, the deadline given at admission, and the churn rule (under a stream of never-repeated
 * tokens a token is cached on its second verification only); `tokenHash`, and tokens that share a
 * bucket of the index.
 */
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { RejectionCache, TokenCache, tokenHash, type Cacheable } from '../../../src/core/engine/token-cache.js'

interface Entry extends Cacheable {
  key: { retired: boolean }
}

const entry = (token: string, key = { retired: false }): Entry => ({ token, key, until: 0 })
const HOUR = 3_600_000

describe('TokenCache', () => {
  it('serves an admitted token, and only that exact token', () => {
    const cache = new TokenCache<Entry>(100)
    const e = entry('header.payload.signature-1')
    cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    expect(cache.get('header.payload.signature-1')).toBe(e)
    expect(cache.get('header.payload.signature-2')).toBeUndefined()
    // a request's header is a new string: equal text is enough
    expect(cache.get(['header', 'payload', 'signature-1'].join('.'))).toBe(e)
  })

  it('stops serving a token once its key is retired', () => {
    const cache = new TokenCache<Entry>(100)
    const key = { retired: false }
    const e = entry('a.b.c', key)
    cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    key.retired = true
    expect(cache.get('a.b.c')).toBeUndefined()
    expect(cache.peek('a.b.c')).toBeUndefined()
  })

  it('does not admit a token whose deadline has passed, and bounds the entry by the shorter of deadline and max age', () => {
    const cache = new TokenCache<Entry>(100)
    const old = entry('x.y.old')
    cache.admit(old.token, old, Date.now() - 1, HOUR)
    expect(cache.get(old.token)).toBeUndefined()
    const e = entry('x.y.z')
    const before = Date.now()
    cache.admit(e.token, e, before + HOUR, 5_000)
    expect(e.until).toBeGreaterThanOrEqual(before + 5_000)
    expect(e.until).toBeLessThan(before + HOUR)
  })

  it('under churn, caches a never-seen token on its second verification only', () => {
    const cache = new TokenCache<Entry>(100)
    // 1024 lookups without a hit: the cache is in churn
    for (let i = 0; i < 1024; i++) expect(cache.get(`churn.${i}.token`)).toBeUndefined()
    const e = entry('fresh.token.once')
    cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    expect(cache.get(e.token)).toBeUndefined()
    cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    expect(cache.get(e.token)).toBe(e)
  })

  it('without churn, caches a token on its first verification', () => {
    const cache = new TokenCache<Entry>(100)
    const e = entry('steady.token.1')
    cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    expect(cache.get(e.token)).toBe(e)
  })

  it('stores what `keep` makes of an admitted entry, and answers it from admission on', () => {
    const cache = new TokenCache<Entry>(100, (e) => ({ ...e }))
    const e = entry('kept.token.1')
    const kept = cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    expect(kept).not.toBe(e)
    expect(kept).toEqual({ ...e, until: kept.until })
    expect(kept.until).toBeGreaterThan(Date.now())
    expect(cache.get(e.token)).toBe(kept)
    expect(cache.peek(e.token)).toBe(kept)
  })

  it('answers the entry itself when it is not cached (a first sighting under churn, a past deadline)', () => {
    let copies = 0
    const cache = new TokenCache<Entry>(100, (e) => (copies++, { ...e }))
    for (let i = 0; i < 1024; i++) expect(cache.get(`churn.token.${i}`)).toBeUndefined()
    const fresh = entry('never.seen.before')
    expect(cache.admit(fresh.token, fresh, Date.now() + HOUR, HOUR)).toBe(fresh)
    const old = entry('expired.token.1')
    expect(cache.admit(old.token, old, Date.now() - 1, HOUR)).toBe(old)
    expect(copies).toBe(0)
  })

  it('serves active tokens that share one bucket, more of them than its seen ways, without churn', () => {
    // with max 100 the index has 1,024 buckets: five tokens of one bucket, whose three seen ways
    // cannot hold all their marks; the front holds one of them, the LRU serves the others
    const entries = sameBucket(5, 1024).map((t) => entry(t))
    const cache = new TokenCache<Entry>(100)
    for (const e of entries) cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    for (let round = 0; round < 3; round++) for (const e of entries) expect(cache.get(e.token)).toBe(e)
    for (const e of entries) expect(cache.get(e.token, tokenHash(e.token))).toBe(e)
  })

  it('under churn, caches three tokens of one bucket on their second verification, and serves them all', () => {
    const entries = sameBucket(3, 1024).map((t) => entry(t))
    const cache = new TokenCache<Entry>(100)
    for (let i = 0; i < 1024; i++) cache.get(`churn.${i}.token`)
    for (const e of entries) cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    for (const e of entries) expect(cache.get(e.token)).toBeUndefined()
    for (const e of entries) cache.admit(e.token, e, Date.now() + HOUR, HOUR)
    for (let round = 0; round < 3; round++) for (const e of entries) expect(cache.get(e.token)).toBe(e)
  })

  it('takes an evicted entry out of the front: neither get nor peek serves it', () => {
    const cache = new TokenCache<Entry>(1)
    const a = entry('evicted.first.aaaaaaaa')
    const b = entry('evicted.second.bbbbbbbb')
    cache.admit(a.token, a, Date.now() + HOUR, HOUR)
    expect(cache.peek(a.token)).toBe(a)
    // full: b's first verification is only remembered, its second takes a's place
    expect(cache.admit(b.token, b, Date.now() + HOUR, HOUR)).toBe(b)
    expect(cache.get(a.token)).toBe(a)
    cache.admit(b.token, b, Date.now() + HOUR, HOUR)
    expect(cache.peek(a.token)).toBeUndefined()
    expect(cache.get(a.token)).toBeUndefined()
    expect(cache.get(b.token)).toBe(b)
  })

  it('takes a hash from the caller, and computes the same one without it', () => {
    const cache = new TokenCache<Entry>(100)
    const e = entry('hash.given.by-caller')
    cache.admit(e.token, e, Date.now() + HOUR, HOUR, tokenHash(e.token))
    expect(cache.get(e.token)).toBe(e)
    expect(cache.get(e.token, tokenHash(e.token))).toBe(e)
    const rejections = new RejectionCache<string>()
    rejections.remember(e.token, 'source', 'kid', 'RS256', ['key'])
    expect(rejections.get(e.token, tokenHash(e.token))).toMatchObject({ token: e.token, kid: 'kid' })
    expect(rejections.get(e.token)).toMatchObject({ token: e.token })
  })
})

describe('tokenHash', () => {
  it('reads the last 8 characters (a compact JWS ends in its signature), equal for equal text', () => {
    const token = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.${randomBytes(256).toString('base64url')}`
    expect(tokenHash(token)).toBe(tokenHash(token.split('.').join('.')))
    expect(tokenHash(`other.prefix.${token.slice(-8)}`)).toBe(tokenHash(token))
    expect(tokenHash(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).not.toBe(tokenHash(token))
  })

  it('answers a 30-bit number for any string, short ones and non-ASCII ones too', () => {
    for (const s of ['', 'a', 'abcdefg', 'abcdefgh', 'ключ-токен', '\uffff'.repeat(9), 'x'.repeat(9000)]) {
      const h = tokenHash(s)
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true)
    }
    expect(tokenHash('abc')).not.toBe(tokenHash('abd'))
  })

  it('spreads signatures evenly over the buckets, in the low bits the index uses', () => {
    // 16,384 HS256-sized signatures over 16,384 buckets. A uniform hash leaves ~e^-1 of them empty
    // (0.360–0.375 over 1,000 random trials) and its fullest bucket holds 6–10. The signatures are
    // fixed (SHA-256 of a counter), so the test cannot flake; the bounds are still ones a uniform
    // hash passes on any input: a bucket of 13 or more comes once in ~10^6 trials (Poisson(1)
    // tail × 16,384), where `< 10` failed once in ~500 (CI, 2026-12-04: a bucket of 11).
    const counts = new Uint16Array(16384)
    for (let i = 0; i < 16384; i++) {
      const signature = createHash('sha256').update(`signature ${i}`).digest('base64url')
      counts[tokenHash(`h.p.${signature}`) & 16383]!++
    }
    const empty = counts.filter((n) => n === 0).length
    expect(empty / 16384).toBeGreaterThan(0.34)
    expect(empty / 16384).toBeLessThan(0.4)
    expect(Math.max(...counts)).toBeLessThan(13)
  })
})

/** `n` distinct JWS-like tokens whose hashes fall into one bucket of an index of `buckets` buckets. */
function sameBucket(n: number, buckets: number): string[] {
  const first = `h.p.${randomBytes(32).toString('base64url')}`
  const bucket = tokenHash(first) & (buckets - 1)
  const found = [first]
  while (found.length < n) {
    const t = `h.p.${randomBytes(32).toString('base64url')}`
    if ((tokenHash(t) & (buckets - 1)) === bucket) found.push(t)
  }
  return found
}
