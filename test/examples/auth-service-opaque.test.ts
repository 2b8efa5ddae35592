/**
 * bearer-guard's introspection against the example auth service with opaque access tokens
 * (`ACCESS_TOKEN_FORMAT=opaque`, `/introspect` for the configured resource-server clients): the
 * endpoint found by discovery, client_secret_basic, active, revoked, expired, wrong audience, the
 * service down (503, never 200), single flight; and `use: 'always'` over its JWTs, where a
 * revocation shows at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, type VerifierOptions } from 'bearer-guard'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import { post, testConfig } from '../helpers/auth-service-client.js'
import { rejection } from '../helpers/rejection.js'

const RS = { clientId: 'orders-api', clientSecret: 'orders-api-introspection-secret' }
const ENV = { INTROSPECTION_CLIENTS: `${RS.clientId}:${RS.clientSecret}` }

/** A fetch that counts the introspection requests it sends. */
function counting() {
  const seen = { calls: 0 }
  const fetch: typeof globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/introspect')) seen.calls++
    return globalThis.fetch(input, init)
  }
  return { fetch, seen }
}

for (const format of ['opaque', 'jwt'] as const) {
  describe(`introspection against the auth service (${format} access tokens)`, () => {
    let service: RunningAuthService
    const use = format === 'opaque' ? 'opaque' : 'always'
    const login = async (username = 'bob', extra: Record<string, string> = {}) =>
      (await post(`${service.url}/token`, { username, password: `password_${username}`, ...extra })).body.access_token as string
    const verifierFor = (introspection: Record<string, unknown> = {}, options: Partial<VerifierOptions> = {}) =>
      createVerifier({ issuer: service.issuer, audience: 'demo-api', logger: false, introspection: { ...RS, use, ...introspection }, ...options } as VerifierOptions)

    beforeAll(async () => {
      service = await startAuthService(testConfig({}, { ...ENV, ACCESS_TOKEN_FORMAT: format }), { port: 0 })
    })
    afterAll(() => service.close())
    afterEach(() => {
      vi.useRealTimers()
    })

    it('accepts an active token with the roles and scopes the service tells', async () => {
      const { fetch, seen } = counting()
      const token = await login('bob')
      if (format === 'opaque') expect(token.split('.')).toHaveLength(1)
      const auth = await verifierFor({ fetch }).verifyAccessToken(token)
      expect(auth).toMatchObject({ subject: 'bob', issuer: service.issuer, audience: ['demo-api'], roles: ['user', 'admin'], scopes: ['profile', 'admin'] })
      expect(seen.calls).toBe(1)
    })

    it('refuses a revoked token at once', async () => {
      const verifier = verifierFor()
      const token = await login('alice')
      await verifier.verifyAccessToken(token)
      await post(`${service.url}/revoke`, { token, token_type_hint: 'access_token' })
      expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401, code: 'invalid_token' })
    })

    it('refuses an expired token', async () => {
      const verifier = verifierFor()
      const token = await login('alice', { client_id: 'short-lived' })
      await verifier.verifyAccessToken(token)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(Date.now() + 4000)
      expect(await rejection(verifier.verifyAccessToken(token))).toMatchObject({ status: 401, code: 'invalid_token' })
    })

    it('refuses a token for another audience', async () => {
      const error = await rejection(verifierFor({}, { audience: 'billing-api' }).verifyAccessToken(await login()))
      expect(error).toMatchObject({ status: 401, claim: 'aud' })
    })

    it('sends one request for 50 concurrent requests with one new token', async () => {
      const { fetch, seen } = counting()
      const verifier = verifierFor({ fetch })
      const token = await login()
      await Promise.all(Array.from({ length: 50 }, () => verifier.verifyAccessToken(token)))
      expect(seen.calls).toBe(1)
    })

    it('answers 503 (never 200) when the service is down', async () => {
      const stopped = await startAuthService(testConfig({}, { ...ENV, ACCESS_TOKEN_FORMAT: format }), { port: 0 })
      const token = (await post(`${stopped.url}/token`, { username: 'bob', password: 'password_bob' })).body.access_token as string
      const verifier = createVerifier({
        issuer: stopped.issuer,
        audience: 'demo-api',
        logger: false,
        introspection: { ...RS, use, endpoint: `${stopped.url}/introspect` },
        ...(format === 'jwt' ? { jwksUri: `${stopped.url}/.well-known/jwks.json` } : {}),
      } as VerifierOptions)
      await stopped.close()
      const error = await rejection(verifier.verifyAccessToken(token))
      expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable' })
    })
  })
}
