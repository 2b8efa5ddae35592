/**
 * Presets whose provider introspects: Keycloak (`<realm>/protocol/openid-connect/token/introspect`)
 * and Okta (`<issuer>/v1/introspect`) set the endpoint; answers shaped like theirs verify. Auth0
 * has no introspection endpoint (docs/introspection.md says so), so its preset has no such option.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { keycloak, okta } from 'bearer-guard/presets'
import { rejection } from '../helpers/rejection.js'

const now = () => Math.floor(Date.now() / 1000)

/** A fetch that answers one introspection request with `body`, and records where it was sent. */
function answering(body: Record<string, unknown>) {
  const sent: string[] = []
  const fetch: typeof globalThis.fetch = async (input) => {
    sent.push(String(input))
    return Response.json(body)
  }
  return { fetch, sent }
}

describe('keycloak() with introspection', () => {
  const realmUrl = 'https://kc.example.com/realms/main'

  it("sets the realm's endpoint and the API's client id; answers carry Keycloak's claims", async () => {
    const { fetch, sent } = answering({
      active: true,
      iss: realmUrl,
      aud: 'orders-api',
      sub: 'f3b2',
      typ: 'Bearer',
      exp: now() + 60,
      scope: 'profile orders:read',
      realm_access: { roles: ['user'] },
      resource_access: { 'orders-api': { roles: ['admin'] } },
      client_id: 'web',
      token_type: 'Bearer',
    })
    const options = keycloak({ realmUrl, clientId: 'orders-api', introspection: { clientSecret: 's3cret', fetch } })
    expect(options.introspection).toMatchObject({ endpoint: `${realmUrl}/protocol/openid-connect/token/introspect`, clientId: 'orders-api' })
    const auth = await createVerifier({ ...options, logger: false }).verifyAccessToken('opaque-keycloak-token')
    expect(auth).toMatchObject({ subject: 'f3b2', roles: ['user', 'admin'], scopes: ['profile', 'orders:read'] })
    expect(sent).toEqual([`${realmUrl}/protocol/openid-connect/token/introspect`])
  })

  it('refuses a refresh token the realm calls active (typ "Refresh")', async () => {
    const { fetch } = answering({ active: true, iss: realmUrl, aud: 'orders-api', sub: 'f3b2', typ: 'Refresh', exp: now() + 60 })
    const verifier = createVerifier({ ...keycloak({ realmUrl, clientId: 'orders-api', introspection: { clientSecret: 's', fetch } }), logger: false })
    expect(await rejection(verifier.verifyAccessToken('opaque-refresh'))).toMatchObject({ status: 401, claim: 'typ' })
  })

  it('throws a TypeError naming the option for a non-object', () => {
    expect(() => keycloak({ realmUrl, clientId: 'orders-api', introspection: 'secret' as never })).toThrow(/keycloak\(\): invalid option "introspection"/)
  })
})

describe('okta() with introspection', () => {
  const issuer = 'https://dev-123456.okta.com/oauth2/default'

  it('sets <issuer>/v1/introspect and reads scope and client_id from the answer', async () => {
    const { fetch, sent } = answering({
      active: true,
      iss: issuer,
      aud: 'api://default',
      sub: 'alice@example.com',
      exp: now() + 60,
      scope: 'orders:read',
      client_id: '0oa1',
      token_type: 'Bearer',
    })
    const options = okta({ issuer, audience: 'api://default', clientId: '0oa1', introspection: { clientId: 'rs-client', clientSecret: 's', fetch } })
    const auth = await createVerifier({ ...options, logger: false }).verifyAccessToken('opaque-okta-token')
    expect(auth).toMatchObject({ subject: 'alice@example.com', scopes: ['orders:read'] })
    expect(sent).toEqual([`${issuer}/v1/introspect`])
  })

  it("checks the answer's client_id against clientId", async () => {
    const { fetch } = answering({ active: true, iss: issuer, aud: 'api://default', sub: 'a', exp: now() + 60, client_id: 'someone-else' })
    const options = okta({ issuer, audience: 'api://default', clientId: '0oa1', introspection: { clientId: 'rs-client', clientSecret: 's', fetch } })
    expect(await rejection(createVerifier({ ...options, logger: false }).verifyAccessToken('opaque'))).toMatchObject({ status: 401, claim: 'cid' })
  })
})
