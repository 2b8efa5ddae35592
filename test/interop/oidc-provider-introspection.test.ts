/**
 * bearer-guard's introspection against a real, independent authorization server: oidc-provider in
 * this process (test/helpers/oidc-provider.ts). Its opaque tokens are introspected through the
 * endpoint it advertises (discovered), as its registered resource-server client
 * (`client_secret_post`); its quirks are part of the test: only opaque tokens can be introspected
 * (a JWT is a 400, so `use: 'always'` with its JWTs is a 503), and its RFC 9701 answers carry a
 * charset in their content type.
 */
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, type VerifierOptions } from 'bearer-guard'
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider.js'
import { rejection } from '../helpers/rejection.js'

let as: RunningOidcProvider

beforeAll(async () => {
  as = await startOidcProvider({ accessTokenTtl: 300 })
})
afterAll(() => as.close())
afterEach(() => {
  vi.useRealTimers()
})

/** A fetch that counts the introspection requests it sends, and the answers' Cache-Control. */
function counting() {
  const seen = { calls: 0, cacheControl: [] as (string | null)[] }
  const fetch: typeof globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await globalThis.fetch(input, init)
    if (String(input) === as.introspectionClient.endpoint) {
      seen.calls++
      seen.cacheControl.push(response.headers.get('cache-control'))
    }
    return response
  }
  return { fetch, seen }
}

function verifierFor(introspection: Record<string, unknown> = {}, options: Partial<VerifierOptions> = {}) {
  const { clientId, clientSecret } = as.clients.resourceServer
  return createVerifier({
    issuer: as.issuer,
    audience: as.opaqueResource,
    subjectClaim: 'client_id',
    logger: false,
    introspection: { clientId, clientSecret, method: 'client_secret_post', ...introspection },
    ...options,
  } as VerifierOptions)
}

describe('introspection against oidc-provider', () => {
  it('accepts an active opaque token: endpoint discovered, scopes and audience from the answer', async () => {
    const { accessToken } = await as.opaqueToken({ scope: 'read' })
    const auth = await verifierFor().verifyAccessToken(accessToken)
    expect(auth).toMatchObject({ issuer: as.issuer, audience: [as.opaqueResource], scopes: ['read'], subject: as.clients.service.clientId, header: {} })
  })

  it("accepts a user's opaque token with its subject", async () => {
    const { accessToken } = await as.opaqueToken({ user: 'alice', scope: 'read write' })
    const auth = await verifierFor({}, { subjectClaim: 'sub' }).verifyAccessToken(accessToken)
    expect(auth.subject).toBe('alice')
    expect(auth.scopes).toEqual(['read', 'write'])
  })

  it('refuses a revoked token at once (its answers are no-store, so nothing is reused)', async () => {
    const { fetch, seen } = counting()
    const verifier = verifierFor({ fetch })
    const { accessToken } = await as.opaqueToken()
    await verifier.verifyAccessToken(accessToken)
    await as.revoke(accessToken)
    expect(await rejection(verifier.verifyAccessToken(accessToken))).toMatchObject({ status: 401, code: 'invalid_token' })
    expect(seen.calls).toBe(2)
    expect(seen.cacheControl[0]).toContain('no-store')
  })

  it('refuses an expired token (the provider calls it inactive)', async () => {
    const { accessToken } = await as.opaqueToken()
    const verifier = verifierFor()
    await verifier.verifyAccessToken(accessToken)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 301_000)
    expect(await rejection(verifier.verifyAccessToken(accessToken))).toMatchObject({ status: 401, code: 'invalid_token' })
  })

  it('refuses a token for another audience', async () => {
    const { accessToken } = await as.opaqueToken()
    const error = await rejection(verifierFor({}, { audience: as.resource }).verifyAccessToken(accessToken))
    expect(error).toMatchObject({ status: 401, claim: 'aud' })
  })

  it('answers 503, never 200, when the endpoint is down', async () => {
    const { accessToken } = await as.opaqueToken()
    const down = verifierFor({ endpoint: 'http://127.0.0.1:1/token/introspection', timeout: 2 })
    const error = await rejection(down.verifyAccessToken(accessToken))
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable' })
  })

  it('answers 503 when it refuses our credentials (the token is not blamed)', async () => {
    const { accessToken } = await as.opaqueToken()
    const error = await rejection(verifierFor({ clientSecret: 'wrong' }).verifyAccessToken(accessToken))
    expect(error).toMatchObject({ status: 503 })
    expect(error.reason).toContain('answered 401')
  })

  it("answers 503 for its JWTs under use: 'always' (it introspects opaque tokens only)", async () => {
    const { accessToken } = await as.tokenFor()
    const error = await rejection(verifierFor({ use: 'always' }, { audience: as.resource }).verifyAccessToken(accessToken))
    expect(error).toMatchObject({ status: 503 })
    expect(error.reason).toContain('answered 400')
  })

  it('sends one request for 50 concurrent requests with one new token', async () => {
    const { fetch, seen } = counting()
    const verifier = verifierFor({ fetch })
    const { accessToken } = await as.opaqueToken()
    const answers = await Promise.all(Array.from({ length: 50 }, () => verifier.verifyAccessToken(accessToken)))
    expect(answers).toHaveLength(50)
    expect(seen.calls).toBe(1)
  })

  it('verifies its RFC 9701 signed answers with its keys (content type with a charset)', async () => {
    const { accessToken } = await as.opaqueToken({ scope: 'write' })
    const auth = await verifierFor({ signedResponse: true }).verifyAccessToken(accessToken)
    expect(auth.scopes).toEqual(['write'])
  })

  it('binds a DPoP-bound opaque token by its cnf.jkt: refused as a bearer token, accepted with its proof', async () => {
    const key = await generateKeyPair('ES256', { extractable: true })
    const { accessToken } = await as.opaqueToken({ dpopKey: key })
    const verifier = verifierFor()
    expect(await rejection(verifier.verifyAccessToken(accessToken))).toMatchObject({ status: 401, code: 'invalid_token' })
    const jwk = await exportJWK(key.publicKey)
    const url = 'https://api.test/orders'
    const proof = await new SignJWT({ htm: 'GET', htu: url, jti: randomUUID(), ath: createHash('sha256').update(accessToken).digest('base64url') })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
      .setIssuedAt()
      .sign(key.privateKey)
    const auth = await verifier.authenticateRequest({ method: 'GET', url, headers: { authorization: `DPoP ${accessToken}`, dpop: proof } })
    expect(auth.scheme).toBe('DPoP')
    expect(auth.confirmation).toEqual({ jkt: await calculateJwkThumbprint(jwk) })
  })
})
