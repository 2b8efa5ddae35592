import { describe, expect, it, vi } from 'vitest'
import {
  createVerifier,
  InvalidTokenError,
  KeySourceUnavailableError,
  toErrorResponse,
  type AuthError,
  type IssuerOptions,
  type JWK,
} from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { MAX_JWKS_KEYS as MAX_KEYS } from '../../src/core/limits.js'
import { createJwksCache, type JwksEvent } from '../../src/core/sources/jwks-cache.js'
import { useFrozenClock } from '../helpers/clock.js'
import { useIssuers } from '../helpers/issuers.js'
import { rejection } from '../helpers/rejection.js'

const issuers = useIssuers()
const clock = useFrozenClock()
let n = 0

/** A fresh ES256 issuer at its own URL, served through msw. */
function serve(options: { algorithm?: 'ES256' | 'RS256' } = {}): Promise<TestIssuer> {
  return issuers.serve({ issuer: `https://jwks-${++n}.issuer.test`, algorithm: options.algorithm ?? 'ES256' })
}

/** A verifier without the token cache; muted unless a test gives a logger (see 'logger' below). */
function verifierFor(issuer: TestIssuer, overrides: Partial<IssuerOptions> = {}) {
  return createVerifier(issuer.verifierOptions('jwks', { cache: false, logger: false, ...overrides }))
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('JWKS cache', () => {
  it('fetches the JWKS once for 200 concurrent cold verifications', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer)
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => issuer.sign({ sub: `u${i}` })))
    const results = await Promise.all(tokens.map((t) => verifier.verifyAccessToken(t)))
    expect(results.map((r) => r.subject)).toEqual(tokens.map((_, i) => `u${i}`))
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 })
  })

  it('fetches discovery once and the JWKS once for 200 concurrent cold verifications', async () => {
    const issuer = await serve()
    const verifier = createVerifier(issuer.verifierOptions('discovery', { cache: false }))
    const token = await issuer.sign()
    const results = await Promise.all(Array.from({ length: 200 }, () => verifier.verifyAccessToken(token)))
    expect(results).toHaveLength(200)
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it('bounds refetches for a flood of unknown kids by the cooldown', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { cooldown: '30s' } })
    await verifier.verifyAccessToken(await issuer.sign())
    const flood = () =>
      Promise.all(Array.from({ length: 50 }, async (_, i) => rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid: `forged-${i}` })))))

    const first = await flood()
    expect(first.every((e) => e instanceof InvalidTokenError && e.status === 401)).toBe(true)
    expect(first[0]!.reason).toMatch(/no JWKS key fits kid "forged-0" and alg ES256 \(refetch cooling down\)/)
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(29)
    await flood()
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(2)
    const afterCooldown = await flood()
    expect(afterCooldown.every((e) => e.status === 401)).toBe(true)
    expect(issuer.requests.jwks).toBe(2)
  })

  it('picks up a rotated key once the cooldown has passed', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer)
    await verifier.verifyAccessToken(await issuer.sign())
    const { kid } = await issuer.rotateKeys()
    const rotated = await issuer.sign()
    expect(rotated).not.toBe('')

    const early = await rejection(verifier.verifyAccessToken(rotated))
    expect(early).toBeInstanceOf(InvalidTokenError)
    expect(early.reason).toContain(`kid "${kid}"`)

    clock.advance(31)
    const auth = await verifier.verifyAccessToken(rotated)
    expect(auth.header.kid).toBe(kid)
    expect(issuer.requests.jwks).toBe(2)
  })

  it('lets every request of a key-rotation burst wait for the one refetch in flight', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { cooldown: '1s' } })
    await verifier.verifyAccessToken(await issuer.sign())
    // the issuer starts signing with k2 and publishes k1 + k2
    const { kid } = await issuer.rotateKeys()
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.sign({ sub: `u${i}` })))
    clock.advance(2)
    const results = await Promise.allSettled(burst.map((t) => verifier.verifyAccessToken(t)))
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as AuthError).reason)
    expect(refused).toEqual([])
    expect(results.map((r) => r.status === 'fulfilled' && r.value.header.kid)).toEqual(burst.map(() => kid))
    expect(issuer.requests.jwks).toBe(2)
  })

  it('lets a request for an unknown kid wait for a refetch in flight, then refuses it without "cooling down"', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { cooldown: '1s' } })
    await verifier.verifyAccessToken(await issuer.sign())
    await issuer.rotateKeys()
    const [rotated, forged] = await Promise.all([issuer.sign(), issuer.sign({}, { kid: 'forged' })])
    clock.advance(2)
    const [ok, error] = await Promise.all([verifier.verifyAccessToken(rotated), rejection(verifier.verifyAccessToken(forged))])
    expect(ok.subject).toBe('user-123')
    expect(error.reason).toBe('no JWKS key fits kid "forged" and alg ES256')
    expect(issuer.requests.jwks).toBe(2)
  })

  it('refetches after cacheMaxAge and not before', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { cacheMaxAge: '10m' } })
    await verifier.verifyAccessToken(await issuer.sign())
    clock.advance(600)
    await verifier.verifyAccessToken(await issuer.sign())
    expect(issuer.requests.jwks).toBe(1)
    clock.advance(1)
    await verifier.verifyAccessToken(await issuer.sign())
    expect(issuer.requests.jwks).toBe(2)
  })

  it('keeps verifying with stale keys while the endpoint is down, within staleMaxAge, then answers 503', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { cacheMaxAge: '10m', staleMaxAge: '1h' } })
    await verifier.verifyAccessToken(await issuer.sign())
    issuer.simulate('jwks', 500)

    clock.advance(11 * 60)
    const stale = await verifier.verifyAccessToken(await issuer.sign())
    expect(stale.subject).toBe('user-123')
    expect(issuer.requests.jwks).toBe(2)

    clock.advance(48 * 60) // 59 min after the fetch: still within 10 min + 1 h
    await expect(verifier.verifyAccessToken(await issuer.sign({ sub: 'later' }))).resolves.toMatchObject({ subject: 'later' })

    clock.advance(12 * 60) // 71 min after the fetch
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.status).toBe(503)
    expect(error.reason).toMatch(/JWKS unavailable: GET https:\/\/jwks-\d+\.issuer\.test\/\.well-known\/jwks\.json answered 500/)
    expect(toErrorResponse(error).headers['retry-after']).toMatch(/^\d+$/)
  })

  it('serves a stale key only for a kid it has', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer)
    await verifier.verifyAccessToken(await issuer.sign())
    issuer.simulate('jwks', 500)
    clock.advance(11 * 60)
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid: 'unknown' })))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
  })

  it('answers 503 with Retry-After when the JWKS cannot be fetched and none is cached', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', 404)
    const verifier = verifierFor(issuer)
    const error = (await rejection(verifier.verifyAccessToken(await issuer.sign()))) as KeySourceUnavailableError
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.retryAfter).toBe(5)
    expect(error.reason).toMatch(/answered 404/)
    const response = toErrorResponse(error)
    expect(response.headers['retry-after']).toBe('5')
    expect(response.headers['www-authenticate']).toBeUndefined()
  })

  it('answers at once during the backoff after a failure, then tries again', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', 500)
    const verifier = verifierFor(issuer)
    await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(2)
    const during = (await rejection(verifier.verifyAccessToken(await issuer.sign()))) as KeySourceUnavailableError
    expect(during).toBeInstanceOf(KeySourceUnavailableError)
    expect(during.retryAfter).toBe(3)
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(4)
    issuer.simulate('jwks', null)
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123', issuer: issuer.issuer })
    expect(issuer.requests.jwks).toBe(2)
  })

  it('answers 503 when the endpoint hangs past the timeout', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', 'timeout')
    const verifier = verifierFor(issuer, { jwks: { timeout: '200ms' } })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/timed out after 200 ms/)
  })

  it('rejects an oversized body with 503', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', 'oversized')
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/exceeds 524288/)
  })

  it('applies a smaller maxResponseBytes', async () => {
    const issuer = await serve()
    const verifier = verifierFor(issuer, { jwks: { maxResponseBytes: 1024 } })
    issuer.simulate('jwks', () => json({ keys: [...issuer.jwks().keys, { kty: 'x', pad: 'p'.repeat(2000) }] }))
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/exceeds 1024/)
  })

  it.each([
    ['non-JSON', () => new Response('{"keys": [', { headers: { 'content-type': 'application/json' } }), /body is not JSON/],
    ['a JSON array', () => json([]), /not a JSON object/],
    ['no keys array', () => json({ keys: 'none' }), /has no "keys" array/],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://evil.test/jwks' } }), /answered 302/],
  ])('answers %s with 503 and Retry-After', async (_what, responder, reason) => {
    const issuer = await serve()
    issuer.simulate('jwks', responder)
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(reason)
    expect(toErrorResponse(error).headers['retry-after']).toBe('5')
  })

  it('skips malformed, encryption-only and weak keys without failing the others', async () => {
    const issuer = await serve()
    const good = issuer.jwks().keys[0]!
    const weak = await weakRsaJwk()
    issuer.simulate('jwks', () =>
      json({
        keys: [
          'garbage',
          null,
          { kty: 'RSA' },
          { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'short' },
          { ...good, kid: 'enc', use: 'enc' },
          { ...good, kid: 'ops', key_ops: ['encrypt'] },
          { ...weak, kid: 'weak' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
          good,
        ],
      }),
    )
    const verifier = verifierFor(issuer, { jwks: { cooldown: 0 } })
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ header: { kid: issuer.kid } })
    for (const kid of ['enc', 'ops', 'weak', 'hmac', 'short']) {
      const error = await rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid })))
      expect(error).toBeInstanceOf(InvalidTokenError)
      expect(error.reason).toContain(`no JWKS key fits kid "${kid}"`)
    }
  })

  it('uses a key whose key_ops include verify', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', () => json({ keys: issuer.jwks().keys.map((k) => ({ ...k, key_ops: ['verify'] })) }))
    await expect(verifierFor(issuer).verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123', header: { kid: issuer.kid } })
  })

  it('selects the key by kty and alg when the token has no kid', async () => {
    const issuer = await serve()
    const other = await createTestIssuer({ algorithm: 'EdDSA' })
    issuer.simulate('jwks', () => json({ keys: [...other.jwks().keys, ...issuer.jwks().keys].map(({ kid: _, ...k }) => k) }))
    const auth = await verifierFor(issuer).verifyAccessToken(await issuer.sign({}, { kid: undefined }))
    expect(auth.header.kid).toBeUndefined()
  })

  it('verifies a token naming an unknown kid with a published key without kid, after one refetch (the rule of static keys)', async () => {
    const issuer = await serve()
    issuer.simulate('jwks', () => json({ keys: issuer.jwks().keys.map(({ kid: _, ...k }) => k) }))
    const verifier = verifierFor(issuer, { jwks: { cooldown: '30s' } })
    await verifier.warmUp()
    clock.advance(31)
    const auth = await verifier.verifyAccessToken(await issuer.sign({ sub: 'unnamed' }, { kid: 'not-published' }))
    expect(auth).toMatchObject({ subject: 'unnamed', header: { kid: 'not-published' } })
    // the unknown kid refetched once (a rotation may have brought it), then fell back
    expect(issuer.requests.jwks).toBe(2)
    // inside the cooldown the fallback answers without a refetch
    await expect(verifier.verifyAccessToken(await issuer.sign({ sub: 'again' }, { kid: 'also-unknown' }))).resolves.toMatchObject({ subject: 'again' })
    expect(issuer.requests.jwks).toBe(2)
  })

  it('rejects a token without kid when no key fits its alg', async () => {
    const issuer = await serve()
    const other = await createTestIssuer({ algorithm: 'EdDSA' })
    issuer.simulate('jwks', () => json(other.jwks()))
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await issuer.sign({}, { kid: undefined })))
    expect(error.reason).toMatch(/no JWKS key fits the token \(no kid\) and alg ES256/)
  })

  it('rejects a kid that names a key of another type', async () => {
    const issuer = await serve()
    const other = await createTestIssuer({ algorithm: 'EdDSA', kid: 'shared' })
    issuer.simulate('jwks', () => json(other.jwks()))
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await issuer.sign({}, { kid: 'shared' })))
    expect(error.reason).toMatch(/no JWKS key fits kid "shared" and alg ES256/)
  })

  it('rejects a kid that matches two keys as ambiguous', async () => {
    const issuer = await serve()
    const key = issuer.jwks().keys[0]!
    issuer.simulate('jwks', () => json({ keys: [key, { ...key }] }))
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await issuer.sign()))
    expect(error.reason).toMatch(/matches 2 keys: ambiguous/)
  })

  it('rejects a token signed by another key with the right kid', async () => {
    const issuer = await serve()
    const impostor = await createTestIssuer({ algorithm: 'ES256', kid: issuer.kid })
    const error = await rejection(verifierFor(issuer).verifyAccessToken(await impostor.sign({ iss: issuer.issuer })))
    expect(error.reason).toBe('signature verification failed')
  })

  it('sends the configured headers and uses the configured fetch', async () => {
    const issuer = await serve()
    const seen: Request[] = []
    const fetchSpy = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      seen.push(request)
      return issuer.handler(request)
    }) as unknown as typeof fetch
    const verifier = verifierFor(issuer, { jwks: { headers: { 'user-agent': 'orders-api/1.0' }, fetch: fetchSpy } })
    await verifier.verifyAccessToken(await issuer.sign())
    expect(fetchSpy).toHaveBeenCalledOnce()
    expect(seen[0]!.headers.get('user-agent')).toBe('orders-api/1.0')
    expect(seen[0]!.headers.get('accept')).toBe('application/json')
    expect(seen[0]!.redirect).toBe('manual')
  })

  describe('cached tokens and the key that verified them', () => {
    /** A verifier with the verified-token cache on. */
    const cachedVerifierFor = (issuer: TestIssuer, overrides: Partial<IssuerOptions> = {}) =>
      createVerifier(issuer.verifierOptions('jwks', { jwks: { cooldown: '1s' }, logger: false, ...overrides }))

    it('refuses a cached token at the first lookup after a refetch has dropped its signing key', async () => {
      const issuer = await serve()
      const verifier = cachedVerifierFor(issuer)
      const leaked = await issuer.sign()
      const first = await verifier.verifyAccessToken(leaked)
      expect(await verifier.verifyAccessToken(leaked)).toBe(first) // served from the cache
      // the issuer withdraws k1 (it leaked) and signs with k2 only
      await issuer.rotateKeys({ keepPrevious: false })
      clock.advance(2)
      await verifier.verifyAccessToken(await issuer.sign())
      expect(issuer.requests.jwks).toBe(2)
      const error = await rejection(verifier.verifyAccessToken(leaked))
      expect(error).toBeInstanceOf(InvalidTokenError)
      expect(error.reason).toMatch(/^no JWKS key fits kid ".+" and alg ES256/)
      // also through authenticate (the header path has its own look at the cache)
      expect((await rejection(verifier.authenticate(`Bearer ${leaked}`))).status).toBe(401)
    })

    it('keeps serving cached tokens whose key the refetch still publishes', async () => {
      const issuer = await serve()
      const verifier = cachedVerifierFor(issuer)
      const token = await issuer.sign()
      const first = await verifier.verifyAccessToken(token)
      await issuer.rotateKeys()
      clock.advance(2)
      await verifier.verifyAccessToken(await issuer.sign())
      expect(issuer.requests.jwks).toBe(2)
      expect(await verifier.verifyAccessToken(token)).toBe(first)
    })

    it('keeps serving cached tokens when a refetch fails', async () => {
      const issuer = await serve()
      const verifier = cachedVerifierFor(issuer)
      const token = await issuer.sign()
      const first = await verifier.verifyAccessToken(token)
      issuer.simulate('jwks', 500)
      clock.advance(2)
      await rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid: 'new' })))
      expect(issuer.requests.jwks).toBe(2)
      expect(await verifier.verifyAccessToken(token)).toBe(first)
    })
  })

  describe('logger', () => {
    it('warns once per cause per minute while the JWKS cannot be fetched, with the root cause', async () => {
      const issuer = await serve()
      issuer.simulate('jwks', 503)
      const warn = vi.fn()
      const verifier = verifierFor(issuer, { logger: { warn } })
      await rejection(verifier.verifyAccessToken(await issuer.sign()))
      expect(warn).toHaveBeenCalledOnce()
      expect(warn.mock.calls[0]![0]).toBe(
        `bearer-guard: JWKS unavailable, answering 503 until it can be fetched: GET ${issuer.jwksUri} answered 503`,
      )
      // the next attempts, after each back-off, fail the same way: no new warning within the minute
      for (let i = 0; i < 5; i++) {
        clock.advance(6)
        await rejection(verifier.verifyAccessToken(await issuer.sign()))
      }
      expect(issuer.requests.jwks).toBe(6)
      expect(warn).toHaveBeenCalledOnce()
      // a minute after the first warning, it says so again, and how many it held back
      clock.advance(31)
      await rejection(verifier.verifyAccessToken(await issuer.sign()))
      expect(warn).toHaveBeenCalledTimes(2)
      expect(warn.mock.calls[1]![0]).toMatch(/answered 503 \(5 more in the last minute\)$/)
      // another cause is told at once
      issuer.simulate('jwks', 'bad-json')
      clock.advance(6)
      await rejection(verifier.verifyAccessToken(await issuer.sign()))
      expect(warn).toHaveBeenCalledTimes(3)
      expect(warn.mock.calls[2]![0]).toMatch(/body is not JSON$/)
    })

    it('warns when a refresh fails and stale keys are served', async () => {
      const issuer = await serve()
      const warn = vi.fn()
      const verifier = verifierFor(issuer, { logger: { warn } })
      await verifier.verifyAccessToken(await issuer.sign())
      issuer.simulate('jwks', 500)
      clock.advance(11 * 60)
      await verifier.verifyAccessToken(await issuer.sign())
      expect(warn).toHaveBeenCalledOnce()
      expect(warn.mock.calls[0]![0]).toBe(
        `bearer-guard: JWKS refresh failed, still using the keys fetched 660 s ago (for up to 3540 s more): GET ${issuer.jwksUri} answered 500`,
      )
    })

    it('warns about each skipped key, once per minute, but not about keys of another use', async () => {
      const issuer = await serve()
      const warn = vi.fn()
      const good = issuer.jwks().keys[0]!
      const encryption = { ...good, kid: 'enc', use: 'enc', alg: 'ECDH-ES' }
      const hmac = { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }
      issuer.simulate('jwks', () => json({ keys: [{ kty: 'RSA', kid: 'bad' }, encryption, hmac, ...issuer.jwks().keys] }))
      const verifier = verifierFor(issuer, { logger: { warn }, jwks: { cooldown: 0 } })
      await verifier.verifyAccessToken(await issuer.sign())
      await rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid: 'other' })))
      expect(issuer.requests.jwks).toBe(2)
      expect(warn.mock.calls).toEqual([[`bearer-guard: JWKS at ${issuer.jwksUri}: key "bad" skipped: RSA key without n/e`]])
    })

    it('warns about a skipped static key when the verifier is made', async () => {
      const issuer = await serve()
      const warn = vi.fn()
      createVerifier({ ...issuer.verifierOptions('keys'), keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, ...issuer.jwks().keys], logger: { warn } })
      expect(warn.mock.calls).toEqual([['bearer-guard: option "keys": key "hmac" skipped: kty "oct"']])
    })

    it('says nothing with logger: false', async () => {
      const issuer = await serve()
      issuer.simulate('jwks', 503)
      const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
      try {
        await rejection(verifierFor(issuer, { logger: false }).verifyAccessToken(await issuer.sign()))
        expect(spy).not.toHaveBeenCalled()
      } finally {
        spy.mockRestore()
      }
    })

    it('warns on console by default', async () => {
      const issuer = await serve()
      issuer.simulate('jwks', 503)
      const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
      try {
        await rejection(createVerifier(issuer.verifierOptions('jwks', { cache: false })).verifyAccessToken(await issuer.sign()))
        expect(spy).toHaveBeenCalledWith(expect.stringMatching(/^bearer-guard: JWKS unavailable, answering 503 until it can be fetched: GET .* answered 503$/))
      } finally {
        spy.mockRestore()
      }
    })
  })

  describe('warmUp', () => {
    it('fetches the keys before the first request', async () => {
      const issuer = await serve()
      const verifier = verifierFor(issuer)
      await verifier.warmUp()
      expect(issuer.requests.jwks).toBe(1)
      await verifier.verifyAccessToken(await issuer.sign())
      expect(issuer.requests.jwks).toBe(1)
    })

    it('fetches discovery and the JWKS', async () => {
      const issuer = await serve()
      await createVerifier(issuer.verifierOptions('discovery')).warmUp()
      expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
    })

    it('rejects with KeySourceUnavailableError when the endpoint is down', async () => {
      const issuer = await serve()
      issuer.simulate('jwks', 503)
      await expect(verifierFor(issuer).warmUp()).rejects.toBeInstanceOf(KeySourceUnavailableError)
    })

    it('does nothing for a secret or static keys', async () => {
      const issuer = await serve()
      await createVerifier(issuer.verifierOptions('keys')).warmUp()
      await createVerifier({ issuer: 'x', audience: 'y', secret: 's'.repeat(32) }).warmUp()
      expect(issuer.requests).toEqual({ discovery: 0, jwks: 0 })
    })
  })

  describe('createJwksCache', () => {
    const options = { timeoutMs: 1000, maxBytes: 512 * 1024, cacheMaxAge: 600, cooldown: 30, staleMaxAge: 3600 }

    it('fetches on first use, answers synchronously while fresh, and refetches an unknown kid once per cooldown', async () => {
      const issuer = await serve()
      const cache = createJwksCache(new URL(issuer.jwksUri), options)
      expect(issuer.requests.jwks).toBe(0)
      const cold = cache.select(issuer.kid, 'ES256')
      expect(cold).toBeInstanceOf(Promise)
      expect((await cold).map((k) => k.kid)).toEqual([issuer.kid])
      expect(issuer.requests.jwks).toBe(1)
      // warm: the same keys, without a promise and without a request
      const warm = cache.select(issuer.kid, 'ES256')
      expect(Array.isArray(warm) && warm.map((k) => k.kid)).toEqual([issuer.kid])
      // an unknown kid inside the cooldown is refused at once, without a refetch
      expect(() => cache.select('rotated', 'ES256')).toThrow(/no JWKS key fits kid "rotated" and alg ES256 \(refetch cooling down\)/)
      expect(issuer.requests.jwks).toBe(1)
      // after the cooldown an unknown kid refetches once (a rotation), then is refused
      clock.advance(31)
      expect((await rejection(Promise.resolve().then(() => cache.select('rotated', 'ES256')))).reason).toBe('no JWKS key fits kid "rotated" and alg ES256')
      expect(issuer.requests.jwks).toBe(2)
      // past cacheMaxAge even a known kid refetches
      clock.advance(601)
      const stale = cache.select(issuer.kid, 'ES256')
      expect(stale).toBeInstanceOf(Promise)
      expect((await stale).map((k) => k.kid)).toEqual([issuer.kid])
      expect(issuer.requests.jwks).toBe(3)
    })

    it('tells onEvent about skipped keys and failures', async () => {
      const issuer = await serve()
      const events: JwksEvent[] = []
      const cache = createJwksCache(new URL(issuer.jwksUri), { ...options, onEvent: (e) => events.push(e) })
      issuer.simulate('jwks', () => json({ keys: [{ kty: 'RSA', kid: 'bad' }, 7, ...issuer.jwks().keys] }))
      await cache.reload()
      expect(events).toEqual([
        { type: 'skipped-key', detail: 'key "bad" skipped: RSA key without n/e', uri: issuer.jwksUri, cause: 'key "bad": RSA key without n/e' },
        { type: 'skipped-key', detail: 'key without kid skipped: not an object', uri: issuer.jwksUri, cause: 'key without kid: not an object' },
        { type: 'fetched', detail: `1 keys from ${issuer.jwksUri}`, uri: issuer.jwksUri, retried: false },
      ])
      issuer.simulate('jwks', 500)
      await expect(cache.reload()).rejects.toBeInstanceOf(KeySourceUnavailableError)
      expect(events.at(-1)).toEqual({
        type: 'fetch-failed',
        detail: `GET ${issuer.jwksUri} answered 500`,
        uri: issuer.jwksUri,
        cause: 'status:500',
        stale: { fetchedAt: clock.now(), until: clock.now() + (600 + 3600) * 1000 },
        retried: false,
      })
    })

    it(`reads at most ${MAX_KEYS} keys`, async () => {
      const issuer = await serve()
      const key = issuer.jwks().keys[0]!
      issuer.simulate('jwks', () => json({ keys: Array.from({ length: MAX_KEYS + 5 }, (_, i) => ({ ...key, kid: `k${i}` })) }))
      const cache = createJwksCache(new URL(issuer.jwksUri), options)
      await cache.reload()
      expect(cache.select(`k${MAX_KEYS - 1}`, 'ES256')).toHaveLength(1)
      expect(() => cache.select(`k${MAX_KEYS}`, 'ES256')).toThrow(`no JWKS key fits kid "k${MAX_KEYS}"`)
    })
  })
})

/** A 1024-bit RSA public JWK: too weak to be used. */
async function weakRsaJwk(): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const { kty, n, e } = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JWK
  return { kty, n, e, alg: 'RS256', use: 'sig' }
}
