/**
 * Opaque tokens through RFC 7662 introspection: routing, the answer checked like a JWT's claims,
 * failures (401 for a dead token, 503 for a dead endpoint, never an accepted unknown token), single
 * flight, the cache (hash keys, exp, cacheMaxAge, max-age, no-store, negative answers), client
 * authentication, RFC 9701 signed answers and the options' TypeErrors.
 */
import { exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createMemoryRevocationStore, createVerifier, type AuthContext, type VerifierOptions } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { tokenKey } from '../../src/core/engine/introspected.js'
import { useFrozenClock } from '../helpers/clock.js'
import { dpopClient } from '../helpers/dpop.js'
import { rejection } from '../helpers/rejection.js'

let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience: 'orders-api' })
})

function verifierFor(introspection: Record<string, unknown> = {}, options: Partial<VerifierOptions> = {}) {
  return createVerifier({ ...issuer.verifierOptions('keys'), logger: false, introspection: issuer.introspectionOptions(introspection), ...options } as VerifierOptions)
}

/** A fetch that records each request (method, headers, form) before the issuer answers it. */
function recording(answer: (request: Request) => Promise<Response> = issuer.fetch as never) {
  const seen: { url: string; headers: Headers; form: URLSearchParams }[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    seen.push({ url: request.url, headers: request.headers, form: new URLSearchParams(await request.clone().text()) })
    return answer(request)
  }) as typeof globalThis.fetch
  return { fetch, seen }
}

const count = () => issuer.introspectionRequests

describe('introspection: routing and the answer', () => {
  it('introspects an opaque token and answers the same AuthContext a JWT gets', async () => {
    const token = issuer.opaque({ scope: 'orders:read orders:write', roles: ['admin'] }, { subject: 'alice' })
    const auth = await verifierFor().verifyAccessToken(token)
    expect(auth).toMatchObject({
      token,
      header: {},
      subject: 'alice',
      issuer: issuer.issuer,
      audience: ['orders-api'],
      scopes: ['orders:read', 'orders:write'],
      roles: ['admin'],
    })
    expect(auth.claims).toMatchObject({ active: true, client_id: issuer.introspectionClient.clientId, token_type: 'Bearer' })
    expect(auth.expiresAt).toBeInstanceOf(Date)
    expect(Object.isFrozen(auth)).toBe(true)
  })

  it("verifies a JWT locally under use: 'opaque' (no introspection call)", async () => {
    const verifier = verifierFor()
    const before = count()
    const auth = await verifier.verifyAccessToken(await issuer.sign({}, { subject: 'bob' }))
    expect(auth.subject).toBe('bob')
    expect(count()).toBe(before)
  })

  it('works through authenticate() with an opaque bearer token', async () => {
    const token = issuer.opaque()
    const auth = await verifierFor().authenticate(`Bearer ${token}`)
    expect(auth.token).toBe(token)
  })

  it('refuses a token the server does not know (active: false) with 401 invalid_token', async () => {
    const error = await rejection(verifierFor().verifyAccessToken('not-a-token-the-issuer-knows'))
    expect(error).toMatchObject({ status: 401, code: 'invalid_token', description: 'invalid token' })
    expect(error.reason).toContain('not active')
  })

  it('refuses a revoked opaque token', async () => {
    const token = issuer.opaque()
    const verifier = verifierFor({ cacheMaxAge: 0 })
    await verifier.verifyAccessToken(token)
    issuer.revoke(token)
    expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401, code: 'invalid_token' })
  })

  it('refuses an expired opaque token (the server says inactive)', async () => {
    const token = issuer.opaque({}, { expiresIn: '-1m' })
    expect(await rejection(verifierFor().verifyAccessToken(token))).toMatchObject({ status: 401, code: 'invalid_token' })
  })

  it('checks exp itself when the server still calls an expired token active', async () => {
    const exp = Math.floor(Date.now() / 1000) - 600
    const answer = async () => Response.json({ active: true, iss: issuer.issuer, aud: 'orders-api', sub: 'x', exp })
    const verifier = verifierFor({ fetch: answer })
    const error = await rejection(verifier.verifyAccessToken('opaque-token'))
    expect(error).toMatchObject({ status: 401, name: 'TokenExpiredError', description: 'token expired' })
  })

  it('refuses a wrong audience, a wrong issuer, a missing exp, like a JWT', async () => {
    const verifier = verifierFor()
    const aud = await rejection(verifier.verifyAccessToken(issuer.opaque({}, { audience: 'billing-api' })))
    expect(aud).toMatchObject({ status: 401, claim: 'aud' })
    const iss = await rejection(verifier.verifyAccessToken(issuer.opaque({ iss: 'https://evil.test' })))
    expect(iss).toMatchObject({ status: 401, claim: 'iss' })
    const exp = await rejection(verifier.verifyAccessToken(issuer.opaque({ exp: undefined })))
    expect(exp).toMatchObject({ status: 401, claim: 'exp' })
  })

  it('refuses a refresh token (token_type other than Bearer or DPoP)', async () => {
    const error = await rejection(verifierFor().verifyAccessToken(issuer.opaque({ token_type: 'refresh_token' })))
    expect(error).toMatchObject({ status: 401, claim: 'token_type' })
  })

  it('applies nbf, the zod schema, required claims and rolesClaim paths to the answer', async () => {
    const schema = z.object({ sub: z.string(), tenant: z.string() })
    const verifier = verifierFor({}, { claims: schema, rolesClaim: 'realm_access.roles', requiredClaims: ['tenant'] } as never)
    const auth = await verifier.verifyAccessToken(issuer.opaque({ tenant: 'acme', realm_access: { roles: ['ops'] } }))
    expect(auth.roles).toEqual(['ops'])
    expect(auth.claims).toEqual({ sub: 'user-123', tenant: 'acme' })
    const missing = await rejection(verifier.verifyAccessToken(issuer.opaque()))
    expect(missing).toMatchObject({ status: 401, claim: 'tenant' })
    const early = await rejection(verifier.verifyAccessToken(issuer.opaque({ tenant: 'acme', nbf: Math.floor(Date.now() / 1000) + 3600 })))
    expect(early).toMatchObject({ status: 401, claim: 'nbf' })
  })

  it('asks the revocation store about the answer\'s jti', async () => {
    const store = createMemoryRevocationStore()
    const verifier = verifierFor({}, { revocation: store })
    const token = issuer.opaque({ jti: 'opaque-jti-1' })
    await verifier.verifyAccessToken(token)
    await store.revoke('opaque-jti-1', Math.floor(Date.now() / 1000) + 600)
    // a cached answer asks the store again
    expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401, name: 'TokenRevokedError' })
  })

  it('binds an introspected token by its cnf: refused as a bearer token, accepted with its DPoP proof', async () => {
    const client = await dpopClient()
    const verifier = verifierFor()
    const token = issuer.opaque({ cnf: { jkt: client.jkt, other: 1 }, token_type: 'DPoP' })
    expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401, code: 'invalid_token' })
    const url = 'https://api.test/orders'
    const proof = await client.proof({ url, token })
    const auth: AuthContext = await verifier.authenticateRequest({ method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: proof } })
    expect(auth.scheme).toBe('DPoP')
    expect(auth.confirmation).toEqual({ jkt: client.jkt })
    const plain = await verifier.verifyAccessToken(issuer.opaque())
    expect(plain.confirmation).toBeUndefined()
    expect(plain.scheme).toBe('Bearer')
  })

  it("introspects every token with use: 'always', JWTs included: revocation shows at once", async () => {
    const verifier = verifierFor({ use: 'always', cacheMaxAge: 0 })
    const jwt = await issuer.sign({ scope: 'read' })
    const before = count()
    const auth = await verifier.verifyAccessToken(jwt)
    expect(auth.scopes).toEqual(['read'])
    expect(count()).toBe(before + 1)
    issuer.revoke(jwt)
    expect(await rejection(verifier.verifyAccessToken(jwt))).toMatchObject({ status: 401, code: 'invalid_token' })
  })

  it("still checks the claims of what the server says under use: 'always'", async () => {
    const verifier = verifierFor({ use: 'always' })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign({}, { audience: 'billing-api' })))
    expect(error).toMatchObject({ status: 401, claim: 'aud' })
  })

  it('discovers the endpoint from the issuer metadata when none is given', async () => {
    const verifier = createVerifier({
      ...issuer.verifierOptions('keys'),
      logger: false,
      introspection: { ...issuer.introspectionOptions({ endpoint: undefined }) },
    } as VerifierOptions)
    // the test issuer's fetch serves discovery too
    const auth = await verifier.verifyAccessToken(issuer.opaque({}, { subject: 'carol' }))
    expect(auth.subject).toBe('carol')
  })
})

describe('introspection: an endpoint that fails answers 503, never an accepted token', () => {
  const faults = [503, 500, 'bad-json', 'oversized'] as const
  for (const fault of faults) {
    it(`answers 503 with Retry-After when the endpoint answers ${fault}`, async () => {
      const token = issuer.opaque()
      issuer.simulate('introspection', fault)
      try {
        const error = await rejection(verifierFor().verifyAccessToken(token))
        expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', description: 'token introspection unavailable, retry later' })
        expect((error as unknown as { retryAfter: number }).retryAfter).toBeGreaterThan(0)
      } finally {
        issuer.simulate('introspection', null)
      }
    })
  }

  it('answers 503 on a timeout', async () => {
    issuer.simulate('introspection', 'timeout')
    try {
      const error = await rejection(verifierFor({ timeout: 0.05 }).verifyAccessToken(issuer.opaque()))
      expect(error).toMatchObject({ status: 503 })
      expect(error.reason).toContain('timed out')
    } finally {
      issuer.simulate('introspection', null)
    }
  })

  it('answers 503 when the connection is refused, and when the server refuses our credentials', async () => {
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })
    }) as typeof fetch
    expect(await rejection(verifierFor({ fetch: refused }).verifyAccessToken(issuer.opaque()))).toMatchObject({ status: 503 })
    const badSecret = await rejection(verifierFor({ clientSecret: 'wrong' }).verifyAccessToken(issuer.opaque()))
    expect(badSecret).toMatchObject({ status: 503 })
    expect(badSecret.reason).toContain('answered 401')
  })

  it('warns through the logger with the root cause, once per cause per minute', async () => {
    const warnings: string[] = []
    const verifier = verifierFor({}, { logger: { warn: (m: string) => warnings.push(m) } } as never)
    issuer.simulate('introspection', 502)
    try {
      await rejection(verifier.verifyAccessToken(issuer.opaque()))
      await rejection(verifier.verifyAccessToken(issuer.opaque()))
    } finally {
      issuer.simulate('introspection', null)
    }
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/token introspection for https:\/\/issuer\.test\/introspect failed: POST https:\/\/issuer\.test\/introspect answered 502/)
  })

  it('answers 503 for an answer without a boolean "active" (the token is not blamed)', async () => {
    const verifier = verifierFor({ fetch: async () => Response.json({ active: 'true', sub: 'x' }) })
    expect(await rejection(verifier.verifyAccessToken('opaque'))).toMatchObject({ status: 503 })
  })

  it('never serves an old answer while the endpoint is down (no stale-if-error)', async () => {
    const clock = { now: Date.now() }
    const verifier = verifierFor({ cacheMaxAge: 1 })
    const token = issuer.opaque()
    await verifier.verifyAccessToken(token)
    issuer.simulate('introspection', 503)
    try {
      const realNow = Date.now
      Date.now = () => clock.now + 2000
      try {
        expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 503 })
      } finally {
        Date.now = realNow
      }
    } finally {
      issuer.simulate('introspection', null)
    }
  })

  it('sends the POST again once after a dropped connection (introspection is idempotent)', async () => {
    let calls = 0
    const dropping = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (++calls === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })
      return issuer.fetch(input, init)
    }) as typeof fetch
    const auth = await verifierFor({ fetch: dropping }).verifyAccessToken(issuer.opaque({}, { subject: 'dee' }))
    expect(auth.subject).toBe('dee')
    expect(calls).toBe(2)
  })
})

describe('introspection: single flight and the cache', () => {
  const clock = useFrozenClock()

  it('makes one call for 50 concurrent requests with one new token', async () => {
    const verifier = verifierFor()
    const token = issuer.opaque()
    const before = count()
    const answers = await Promise.all(Array.from({ length: 50 }, () => verifier.verifyAccessToken(token)))
    expect(count()).toBe(before + 1)
    expect(new Set(answers.map((a) => a.subject))).toEqual(new Set(['user-123']))
  })

  it("answers the cache's copy from the first request on (equal to an uncached answer)", async () => {
    const token = issuer.opaque({ scope: 'orders:read' }, { subject: 'alice' })
    const verifier = verifierFor()
    const first = await verifier.verifyAccessToken(token)
    expect(await verifier.verifyAccessToken(token)).toBe(first)
    const uncached = await verifierFor({ cacheMaxAge: 0 }).verifyAccessToken(token)
    expect(first).toEqual(uncached)
    expect(first).not.toBe(uncached)
  })

  it('shares one failure among concurrent requests, and asks again afterwards', async () => {
    const verifier = verifierFor()
    const token = issuer.opaque()
    const before = count()
    issuer.simulate('introspection', 503)
    const errors = await Promise.all(Array.from({ length: 10 }, () => rejection(verifier.verifyAccessToken(token))))
    issuer.simulate('introspection', null)
    expect(errors.every((e) => e.status === 503)).toBe(true)
    expect(count()).toBe(before + 1)
    await verifier.verifyAccessToken(token)
    expect(count()).toBe(before + 2)
  })

  it('reuses an answer for cacheMaxAge, then asks again', async () => {
    const verifier = verifierFor({ cacheMaxAge: '30s' })
    const token = issuer.opaque({}, { expiresIn: '10m' })
    const before = count()
    await verifier.verifyAccessToken(token)
    clock.advance(29)
    await verifier.verifyAccessToken(token)
    expect(count()).toBe(before + 1)
    clock.advance(2)
    await verifier.verifyAccessToken(token)
    expect(count()).toBe(before + 2)
  })

  it("never reuses an answer past the token's exp", async () => {
    const verifier = verifierFor({ cacheMaxAge: '1h' })
    const token = issuer.opaque({}, { expiresIn: '20s' })
    const before = count()
    await verifier.verifyAccessToken(token)
    clock.advance(21)
    // asked again: the server now says inactive
    expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401 })
    expect(count()).toBe(before + 2)
  })

  it('reuses a "not active" answer briefly (negativeCacheMaxAge, default 5 s)', async () => {
    const verifier = verifierFor()
    const before = count()
    await rejection(verifier.verifyAccessToken('unknown-token-1'))
    const again = await rejection(verifier.verifyAccessToken('unknown-token-1'))
    expect(again).toMatchObject({ status: 401, code: 'invalid_token' })
    expect(count()).toBe(before + 1)
    clock.advance(6)
    await rejection(verifier.verifyAccessToken('unknown-token-1'))
    expect(count()).toBe(before + 2)
  })

  it('keeps nothing from an answer with Cache-Control: no-store, and honours max-age', async () => {
    let calls = 0
    let cacheControl = 'no-store'
    const answer = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls++
      const response = await issuer.fetch(input, init)
      return new Response(await response.text(), { headers: { 'content-type': 'application/json', 'cache-control': cacheControl } })
    }) as typeof fetch
    const verifier = verifierFor({ fetch: answer })
    const token = issuer.opaque()
    await verifier.verifyAccessToken(token)
    await verifier.verifyAccessToken(token)
    expect(calls).toBe(2)
    cacheControl = 'max-age=10'
    const other = issuer.opaque()
    await verifier.verifyAccessToken(other)
    clock.advance(9)
    await verifier.verifyAccessToken(other)
    expect(calls).toBe(3)
    clock.advance(2)
    await verifier.verifyAccessToken(other)
    expect(calls).toBe(4)
  })

  it('does not cache with cacheMaxAge: 0 or cache: false', async () => {
    const token = issuer.opaque()
    for (const verifier of [verifierFor({ cacheMaxAge: 0 }), verifierFor({}, { cache: false })]) {
      const before = count()
      await verifier.verifyAccessToken(token)
      await verifier.verifyAccessToken(token)
      expect(count()).toBe(before + 2)
    }
  })

  it('keys the cache by the SHA-256 of the token, never the token', async () => {
    const key = await tokenKey('abc')
    expect(key).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')
    expect(key).not.toContain('abc')
  })
})

describe('introspection: client authentication', () => {
  it('sends client_secret_basic by default, form-encoded before base64 (RFC 6749 §2.3.1)', async () => {
    const { fetch, seen } = recording()
    await verifierFor({ fetch }).verifyAccessToken(issuer.opaque())
    const { clientId, clientSecret } = issuer.introspectionClient
    const sent = seen[0]!
    expect(sent.headers.get('authorization')).toBe(`Basic ${btoa(`${clientId}:${encodeURIComponent(clientSecret)}`)}`)
    expect(sent.headers.get('content-type')).toBe('application/x-www-form-urlencoded')
    expect(sent.form.get('token_type_hint')).toBe('access_token')
    expect(sent.form.get('client_secret')).toBeNull()
  })

  it('sends client_secret_post when asked', async () => {
    const { fetch, seen } = recording()
    await verifierFor({ fetch, method: 'client_secret_post' }).verifyAccessToken(issuer.opaque())
    expect(seen[0]!.headers.get('authorization')).toBeNull()
    expect(seen[0]!.form.get('client_id')).toBe(issuer.introspectionClient.clientId)
    expect(seen[0]!.form.get('client_secret')).toBe(issuer.introspectionClient.clientSecret)
  })

  it('signs a private_key_jwt client assertion (RFC 7523) with the configured key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), kid: 'rs-key-1' }
    const token = issuer.opaque()
    const { fetch, seen } = recording(async () => Response.json({ active: true, iss: issuer.issuer, aud: 'orders-api', sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60 }))
    const verifier = verifierFor({ fetch, clientSecret: undefined, clientAuth: { method: 'private_key_jwt', key: jwk, alg: 'ES256' } })
    expect((await verifier.verifyAccessToken(token)).subject).toBe('svc')
    const form = seen[0]!.form
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    expect(form.get('client_id')).toBe(issuer.introspectionClient.clientId)
    const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion')!, publicKey, { audience: issuer.issuer })
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'rs-key-1' })
    expect(payload).toMatchObject({ iss: issuer.introspectionClient.clientId, sub: issuer.introspectionClient.clientId, jti: expect.any(String) })
    expect(payload.exp! - payload.iat!).toBe(60)
  })
})

describe('introspection: RFC 9701 signed answers', () => {
  it("verifies an application/token-introspection+jwt answer with the issuer's keys", async () => {
    const { fetch, seen } = recording()
    const auth = await verifierFor({ fetch, signedResponse: true }).verifyAccessToken(issuer.opaque({}, { subject: 'signed' }))
    expect(seen[0]!.headers.get('accept')).toBe('application/token-introspection+jwt')
    expect(auth.subject).toBe('signed')
  })

  it('answers 503 for a signed answer the issuer did not sign, and for plain JSON when a signed one is required', async () => {
    const other = await createTestIssuer({ algorithm: 'ES256', issuer: issuer.issuer, audience: 'orders-api' })
    const forged = recording(async (request) => {
      const form = new URLSearchParams(await request.text())
      const { clientId, clientSecret } = other.introspectionClient
      form.set('client_id', clientId)
      form.set('client_secret', clientSecret)
      return other.fetch(other.introspectionUri, { method: 'POST', body: form, headers: { accept: request.headers.get('accept')! } })
    })
    const error = await rejection(verifierFor({ fetch: forged.fetch, signedResponse: true }).verifyAccessToken(other.opaque()))
    expect(error).toMatchObject({ status: 503 })
    expect(error.reason).toContain('RFC 9701')
    const plain = async () => Response.json({ active: true })
    expect(await rejection(verifierFor({ fetch: plain, signedResponse: true }).verifyAccessToken('opaque'))).toMatchObject({ status: 503 })
  })
})

describe('introspection: options', () => {
  const base = () => ({ issuer: 'https://issuer.test', audience: 'api', logger: false as const })
  const bad = (introspection: unknown, extra: Record<string, unknown> = {}) => () => createVerifier({ ...base(), ...extra, introspection } as VerifierOptions)

  it('names what is wrong in a TypeError', () => {
    expect(bad({ clientSecret: 's' })).toThrow(/invalid option "introspection.clientId": is required/)
    expect(bad({ clientId: 'c' })).toThrow(/invalid option "introspection.clientSecret": is required/)
    expect(bad({ clientId: 'c', clientSecret: 's', clientAuth: { method: 'private_key_jwt', key: {}, alg: 'ES256' } })).toThrow(/"introspection.clientAuth": cannot be combined/)
    expect(bad({ clientId: 'c', clientAuth: { method: 'private_key_jwt', key: {}, alg: 'ES256' }, method: 'client_secret_post' })).toThrow(/"introspection.method": applies to "clientSecret" only/)
    expect(bad({ clientId: 'c', clientSecret: 's', use: 'sometimes' })).toThrow(/"introspection.use": expected one of "opaque"\|"always"/)
    expect(bad({ clientId: 'c', clientSecret: 's', cacheMaxAge: 'forever' })).toThrow(/"introspection.cacheMaxAge"/)
    expect(bad({ clientId: 'c', clientSecret: 's', endpoint: 'ftp://x' })).toThrow(/"introspection.endpoint": expected an http\(s\) URL/)
    expect(bad({ clientId: 'c', clientSecret: 's', clientSecrte: 'x' })).toThrow(/unknown option "introspection.clientSecrte"/)
    expect(bad({ clientId: 'c', clientSecret: 's' }, { issuer: false, keys: { kty: 'EC' } })).toThrow(/"introspection.endpoint": is required unless "issuer"/)
  })

  it('lets only one entry of issuers introspect opaque tokens', () => {
    const introspection = { endpoint: 'https://a.test/introspect', clientId: 'c', clientSecret: 's' }
    const make = (second: Record<string, unknown>) => () =>
      createVerifier({ audience: 'api', logger: false, issuers: [{ issuer: 'https://a.test', introspection }, { issuer: 'https://b.test', introspection: { ...introspection, ...second } }] } as VerifierOptions)
    expect(make({})).toThrow(/issuers\[1\]\.introspection.*only one entry/)
    expect(make({ use: 'always' })).not.toThrow()
  })
})
