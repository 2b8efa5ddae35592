import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { auth0 } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, providerIssuer, serveJwks } from './helpers.js'

const DOMAIN = 'example.us.auth0.com'
const ISSUER = `https://${DOMAIN}/`
const JWKS = `https://${DOMAIN}/.well-known/jwks.json`
const API = 'https://api.example.com'
const server = setupMswServer()

/** An Auth0 user access token for the API with RBAC permissions and a namespaced roles claim. */
function userClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'auth0|65f1c2d3e4f5a6b7c8d9e0f1',
    aud: [API, `https://${DOMAIN}/userinfo`],
    azp: 'Xy7SPAclientid0000000000000000',
    scope: 'openid profile email read:orders',
    permissions: ['read:orders', 'write:orders'],
    'https://example.com/roles': ['admin'],
    ...extra,
  }
}

describe('auth0()', () => {
  let tenant: TestIssuer
  beforeAll(async () => {
    tenant = await providerIssuer(ISSUER)
  })
  const sign = (claims: Record<string, unknown>, typ = 'JWT') => tenant.sign(claims, { typ })

  it('builds the issuer with its trailing slash from a bare or https domain', () => {
    const expected = {
      issuer: ISSUER,
      audience: [API],
      jwksUri: JWKS,
      algorithms: ['RS256'],
      rolesClaim: 'roles',
      scopesClaim: ['scope', 'permissions'],
    }
    expect(auth0({ domain: DOMAIN, audience: API })).toEqual(expected)
    expect(auth0({ domain: `https://${DOMAIN}/`, audience: API })).toEqual(expected)
  })

  it('accepts a user access token: scope and RBAC permissions merged, namespaced roles via rolesClaim', async () => {
    const jwks = serveJwks(server, JWKS, tenant)
    const verifier = createVerifier({ ...auth0({ domain: DOMAIN, audience: API }), rolesClaim: 'https://example.com/roles' })
    const auth = await verifier.verifyAccessToken(await sign(userClaims()))
    expect(auth.scopes).toEqual(['openid', 'profile', 'email', 'read:orders', 'write:orders'])
    expect(auth.roles).toEqual(['admin'])
    expect(auth.subject).toBe('auth0|65f1c2d3e4f5a6b7c8d9e0f1')
    expect(jwks.hits).toBe(1)
  })

  it('accepts a client-credentials token (gty, sub "<client>@clients")', async () => {
    serveJwks(server, JWKS, tenant)
    const verifier = createVerifier(auth0({ domain: DOMAIN, audience: API }))
    const m2m = { iss: ISSUER, sub: 'M2Mclient@clients', aud: API, azp: 'M2Mclient', gty: 'client-credentials', scope: 'read:orders', permissions: ['read:orders'] }
    const auth = await verifier.verifyAccessToken(await sign(m2m))
    expect(auth.subject).toBe('M2Mclient@clients')
    expect(auth.scopes).toEqual(['read:orders'])
    expect(auth.roles).toEqual([])
  })

  it('refuses a token for another API and an ID token (aud = client ID)', async () => {
    serveJwks(server, JWKS, tenant)
    const verifier = createVerifier(auth0({ domain: DOMAIN, audience: API }))
    await expectRefused(verifier, await sign(userClaims({ aud: 'https://other.example.com' })), { claim: 'aud' })
    const idToken = { iss: ISSUER, sub: 'auth0|1', aud: 'Xy7SPAclientid0000000000000000', nonce: 'n', name: 'Alice' }
    await expectRefused(verifier, await sign(idToken), { claim: 'aud' })
  })

  it('refuses a token of another tenant, and an issuer without the trailing slash', async () => {
    serveJwks(server, JWKS, tenant)
    const verifier = createVerifier(auth0({ domain: DOMAIN, audience: API }))
    await expectRefused(verifier, await sign(userClaims({ iss: 'https://other.eu.auth0.com/' })), { claim: 'iss' })
    await expectRefused(verifier, await sign(userClaims({ iss: `https://${DOMAIN}` })), { claim: 'iss' })
  })

  it('requires the at+jwt header with the RFC 9068 profile', async () => {
    serveJwks(server, JWKS, tenant)
    const verifier = createVerifier(auth0({ domain: DOMAIN, audience: API, profile: 'rfc9068' }))
    await expect(verifier.verifyAccessToken(await sign(userClaims({ client_id: 'x' }), 'at+jwt'))).resolves.toMatchObject({
      subject: 'auth0|65f1c2d3e4f5a6b7c8d9e0f1',
      header: { typ: 'at+jwt' },
    })
    await expectRefused(verifier, await sign(userClaims(), 'JWT'), { claim: 'typ' })
  })

  it('throws a TypeError naming the option for a bad domain, audience or profile', () => {
    expect(() => auth0({ domain: '', audience: API })).toThrow(/auth0\(\): invalid option "domain"/)
    expect(() => auth0({ domain: `https://${DOMAIN}/api`, audience: API })).toThrow(/"domain"/)
    expect(() => auth0({ domain: `http://${DOMAIN}`, audience: API })).toThrow(/"domain"/)
    expect(() => auth0({ domain: DOMAIN, audience: '' })).toThrow(/"audience"/)
    expect(() => auth0({ domain: DOMAIN, audience: API, profile: 'jwt' as 'auth0' })).toThrow(/"profile"/)
  })
})
