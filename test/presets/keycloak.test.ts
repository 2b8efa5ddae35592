import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { keycloak } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, now, providerIssuer, serveJwks } from './helpers.js'

const REALM = 'https://kc.example.com/realms/main'
const CERTS = `${REALM}/protocol/openid-connect/certs`
const server = setupMswServer()

/** The claims of a Keycloak 24 access token for user alice, requested by the `web-app` client. */
function accessClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth_time: now() - 30,
    iss: REALM,
    aud: ['orders-api', 'account'],
    sub: '0b6f1d3e-7a1c-4c8e-9d7e-2f0a4b5c6d7e',
    typ: 'Bearer',
    azp: 'web-app',
    sid: '4a3e2d1c-0000-4000-8000-00000000abcd',
    acr: '1',
    'allowed-origins': ['https://app.example.com'],
    realm_access: { roles: ['default-roles-main', 'offline_access', 'uma_authorization', 'admin'] },
    resource_access: {
      'orders-api': { roles: ['orders:write'] },
      account: { roles: ['manage-account', 'view-profile'] },
    },
    scope: 'openid profile email',
    email_verified: true,
    preferred_username: 'alice',
    ...extra,
  }
}

describe('keycloak()', () => {
  let kc: TestIssuer
  beforeAll(async () => {
    kc = await providerIssuer(REALM)
  })
  const sign = (claims: Record<string, unknown>) => kc.sign(claims, { typ: 'JWT' })

  it('builds options from the realm URL: issuer, certs endpoint, RS256, typ claim, roles and scopes', () => {
    expect(keycloak({ realmUrl: `${REALM}/`, clientId: 'orders-api' })).toEqual({
      issuer: REALM,
      audience: 'orders-api',
      jwksUri: CERTS,
      algorithms: ['RS256'],
      tokenType: { claim: 'typ', value: 'Bearer' },
      rolesClaim: ['realm_access.roles', 'resource_access.orders-api.roles'],
      scopesClaim: 'scope',
    })
  })

  it('accepts a Keycloak access token, with realm and client roles merged and scopes split', async () => {
    const jwks = serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }))
    const auth = await verifier.verifyAccessToken(await sign(accessClaims()))
    expect(auth.subject).toBe('0b6f1d3e-7a1c-4c8e-9d7e-2f0a4b5c6d7e')
    expect(auth.roles).toEqual(['default-roles-main', 'offline_access', 'uma_authorization', 'admin', 'orders:write'])
    expect(auth.roles).not.toContain('manage-account')
    expect(auth.scopes).toEqual(['openid', 'profile', 'email'])
    expect(auth.audience).toEqual(['orders-api', 'account'])
    expect(jwks.hits).toBe(1)
  })

  it('accepts the legacy /auth/realms/<realm> issuer shape', async () => {
    const legacy = await providerIssuer('https://kc.example.com/auth/realms/main')
    serveJwks(server, 'https://kc.example.com/auth/realms/main/protocol/openid-connect/certs', legacy)
    const verifier = createVerifier(keycloak({ realmUrl: 'https://kc.example.com/auth/realms/main', clientId: 'orders-api' }))
    const auth = await verifier.verifyAccessToken(await legacy.sign(accessClaims({ iss: legacy.issuer }), { typ: 'JWT' }))
    expect(auth.issuer).toBe('https://kc.example.com/auth/realms/main')
  })

  it('reads client roles of a client ID that contains dots', async () => {
    serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders.api', roles: 'client' }))
    const token = await sign(accessClaims({ aud: 'orders.api', resource_access: { 'orders.api': { roles: ['reader'] } } }))
    expect((await verifier.verifyAccessToken(token)).roles).toEqual(['reader'])
  })

  it('limits roles to realm or client roles on request', async () => {
    serveJwks(server, CERTS, kc)
    const token = await sign(accessClaims())
    const realmOnly = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api', roles: 'realm' }))
    expect((await realmOnly.verifyAccessToken(token)).roles).not.toContain('orders:write')
    const clientOnly = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api', roles: 'client' }))
    expect((await clientOnly.verifyAccessToken(token)).roles).toEqual(['orders:write'])
  })

  it('refuses a token of another realm, even one signed with a trusted key', async () => {
    const other = await providerIssuer('https://kc.example.com/realms/other')
    serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }))
    await expectRefused(verifier, await sign(accessClaims({ iss: 'https://kc.example.com/realms/other' })), { claim: 'iss' })
    await expectRefused(verifier, await other.sign(accessClaims({ iss: other.issuer }), { typ: 'JWT' }), {
      reason: /no JWKS key fits kid/,
    })
  })

  it('refuses a token for another client (aud only "account")', async () => {
    serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }))
    await expectRefused(verifier, await sign(accessClaims({ aud: 'account' })), { claim: 'aud' })
  })

  it('refuses refresh and ID tokens by their typ claim', async () => {
    serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }))
    const refresh = await sign({ iss: REALM, aud: 'orders-api', sub: 'u1', typ: 'Refresh', azp: 'web-app', scope: 'openid' })
    await expectRefused(verifier, refresh, { claim: 'typ' })
    const id = await sign({ iss: REALM, aud: 'orders-api', sub: 'u1', typ: 'ID', azp: 'orders-api', nonce: 'n' })
    await expectRefused(verifier, id, { claim: 'typ' })
  })

  it('refuses a refresh token signed with the realm HMAC key (HS512)', async () => {
    serveJwks(server, CERTS, kc)
    const verifier = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }))
    const refresh = await kc.sign({ typ: 'Refresh', aud: REALM }, { algorithm: 'HS512', typ: 'JWT' })
    await expectRefused(verifier, refresh, { reason: /alg "HS512" is not allowed/ })
  })

  it('composes with a spread and with the overrides argument', async () => {
    serveJwks(server, CERTS, kc)
    const token = await sign(accessClaims({ aud: 'web-app' }))
    const spread = createVerifier({ ...keycloak({ realmUrl: REALM, clientId: 'orders-api' }), audience: 'web-app' })
    await expect(spread.verifyAccessToken(token)).resolves.toMatchObject({ subject: '0b6f1d3e-7a1c-4c8e-9d7e-2f0a4b5c6d7e', audience: ['web-app'] })
    const withKeys = createVerifier(keycloak({ realmUrl: REALM, clientId: 'orders-api' }, { audience: 'web-app', keys: kc.jwks() }))
    expect((await withKeys.verifyAccessToken(token)).roles).toContain('admin')
  })

  it('throws a TypeError naming the option for a bad realm URL or client ID', () => {
    expect(() => keycloak({ realmUrl: 'https://kc.example.com', clientId: 'x' })).toThrow(/keycloak\(\): invalid option "realmUrl"/)
    expect(() => keycloak({ realmUrl: 'kc.example.com/realms/x', clientId: 'x' })).toThrow(/"realmUrl"/)
    expect(() => keycloak({ realmUrl: REALM, clientId: '' })).toThrow(/"clientId"/)
    expect(() => keycloak({ realmUrl: REALM, clientId: 'x', roles: 'all' as 'both' })).toThrow(/"roles"/)
  })
})
