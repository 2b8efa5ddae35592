/**
 * The verified-token cache (src/core/engine/token-cache.ts) on its own: `get`/`admit`, the key's
 * retirement, the deadline given at admission, and the churn rule (under a stream of never-repeated
 * tokens a token is cached on its second verification only).
 */
import { describe, expect, it } from 'vitest'
import { TokenCache, type Cacheable } from '../../../src/core/engine/token-cache.js'

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
})

