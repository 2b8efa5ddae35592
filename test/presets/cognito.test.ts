import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { cognito } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, now, providerIssuer, serveJwks } from './helpers.js'

const POOL = 'eu-west-1_AbCdEf123'
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`
const JWKS = `${ISSUER}/.well-known/jwks.json`
const CLIENT = '1example23456789abcdefghij'
const server = setupMswServer()

/** A Cognito user-pool access token: no aud, client_id, token_use, cognito:groups. No typ header. */
function accessClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'aaaaaaaa-bbbb-cccc-dddd-example',
    'cognito:groups': ['admin', 'staff'],
    iss: ISSUER,
    aud: undefined,
    version: 2,
    client_id: CLIENT,
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    event_id: 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff',
    token_use: 'access',
    scope: 'openid email orders/read',
    auth_time: now() - 10,
    username: 'alice',
    ...extra,
  }
}

/** A Cognito ID token: aud = app client, token_use id. */
function idClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'aaaaaaaa-bbbb-cccc-dddd-example',
    aud: CLIENT,
    'cognito:groups': ['admin'],
    email_verified: true,
    iss: ISSUER,
    'cognito:username': 'alice',
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    event_id: 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff',
    token_use: 'id',
    auth_time: now() - 10,
    email: 'alice@example.com',
    ...extra,
  }
}

describe('cognito()', () => {
  let pool: TestIssuer
  beforeAll(async () => {
    pool = await providerIssuer(ISSUER)
  })
  const sign = (claims: Record<string, unknown>) => pool.sign(claims, { typ: undefined })

  it('derives the region from the pool ID and builds issuer and JWKS URL', () => {
    const options = cognito({ userPoolId: POOL, clientId: CLIENT })
    expect(options).toMatchObject({
      issuer: ISSUER,
      jwksUri: JWKS,
      algorithms: ['RS256'],
      tokenType: { claim: 'token_use', value: 'access' },
      requiredClaims: ['client_id'],
      rolesClaim: 'cognito:groups',
      scopesClaim: 'scope',
    })
    expect(typeof options.audience).toBe('function')
  })

  it('accepts an access token of the app client: groups as roles, scopes, no aud', async () => {
    const jwks = serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, region: 'eu-west-1', clientId: CLIENT }))
    const auth = await verifier.verifyAccessToken(await sign(accessClaims()))
    expect(auth.roles).toEqual(['admin', 'staff'])
    expect(auth.scopes).toEqual(['openid', 'email', 'orders/read'])
    expect(auth.audience).toEqual([])
    expect(auth.header.typ).toBeUndefined()
    expect(jwks.hits).toBe(1)
  })

  it('accepts a client-credentials (M2M) access token: sub is the client, no groups', async () => {
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: [CLIENT, 'm2mclient'] }))
    const m2m = accessClaims({ sub: 'm2mclient', client_id: 'm2mclient', 'cognito:groups': undefined, username: undefined, scope: 'orders/sync' })
    const auth = await verifier.verifyAccessToken(await sign(m2m))
    expect(auth.subject).toBe('m2mclient')
    expect(auth.roles).toEqual([])
    expect(auth.scopes).toEqual(['orders/sync'])
  })

  it('refuses an access token of another app client, or without client_id', async () => {
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: CLIENT }))
    await expectRefused(verifier, await sign(accessClaims({ client_id: 'otherclient' })), { claim: 'client_id', reason: /client_id mismatch/ })
    await expectRefused(verifier, await sign(accessClaims({ client_id: undefined })), { claim: 'client_id' })
  })

  it('refuses an access token with an aud but the wrong client_id: aud is not a substitute', async () => {
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: CLIENT }))
    await expectRefused(verifier, await sign(accessClaims({ aud: CLIENT, client_id: 'otherclient' })), { claim: 'client_id' })
  })

  it('refuses an ID token where access tokens are expected', async () => {
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: CLIENT }))
    await expectRefused(verifier, await sign(idClaims()), { claim: 'client_id' })
    await expectRefused(verifier, await sign(idClaims({ client_id: CLIENT })), { claim: 'token_use' })
  })

  it('accepts ID tokens on aud with tokenUse "id", and refuses access tokens there', async () => {
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: CLIENT, tokenUse: 'id' }))
    const auth = await verifier.verifyAccessToken(await sign(idClaims()))
    expect(auth.audience).toEqual([CLIENT])
    expect(auth.roles).toEqual(['admin'])
    await expectRefused(verifier, await sign(accessClaims({ aud: CLIENT })), { claim: 'token_use' })
  })

  it('refuses a token of another user pool', async () => {
    const otherIssuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other999'
    const other = await providerIssuer(otherIssuer)
    serveJwks(server, JWKS, pool)
    const verifier = createVerifier(cognito({ userPoolId: POOL, clientId: CLIENT }))
    await expectRefused(verifier, await sign(accessClaims({ iss: otherIssuer })), { claim: 'iss' })
    await expectRefused(verifier, await other.sign(accessClaims({ iss: otherIssuer }), { typ: undefined }), { reason: /no JWKS key fits/ })
  })

  it('throws a TypeError naming the option for a bad pool ID, region, client or token use', () => {
    expect(() => cognito({ userPoolId: 'AbCdEf123', clientId: CLIENT })).toThrow(/cognito\(\): invalid option "userPoolId"/)
    expect(() => cognito({ userPoolId: POOL, region: 'us-east-1', clientId: CLIENT })).toThrow(/"region".*eu-west-1/)
    expect(() => cognito({ userPoolId: POOL, clientId: [] })).toThrow(/"clientId"/)
    expect(() => cognito({ userPoolId: POOL, clientId: CLIENT, tokenUse: 'refresh' as 'id' })).toThrow(/"tokenUse"/)
  })
})
