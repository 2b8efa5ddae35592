import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { okta } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, now, providerIssuer, serveJwks } from './helpers.js'

const ISSUER = 'https://dev-123456.okta.com/oauth2/default'
const KEYS = `${ISSUER}/v1/keys`
const server = setupMswServer()

/** An Okta custom-authorization-server access token: ver 1, cid, uid, scp array, groups. */
function accessClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ver: 1,
    jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
    iss: ISSUER,
    aud: 'api://default',
    cid: '0oa1b2c3d4e5f6g7h8i9',
    uid: '00u1a2b3c4d5e6f7g8h9',
    scp: ['openid', 'orders.read'],
    auth_time: now() - 60,
    sub: 'alice@example.com',
    groups: ['Everyone', 'Admins'],
    ...extra,
  }
}

describe('okta()', () => {
  let as: TestIssuer
  beforeAll(async () => {
    as = await providerIssuer(ISSUER)
  })
  const sign = (claims: Record<string, unknown>) => as.sign(claims, { typ: undefined })

  it('accepts an access token: scp array as scopes, groups as roles, keys from /v1/keys', async () => {
    const jwks = serveJwks(server, KEYS, as)
    const verifier = createVerifier(okta({ issuer: `${ISSUER}/`, audience: 'api://default' }))
    const auth = await verifier.verifyAccessToken(await sign(accessClaims()))
    expect(auth.scopes).toEqual(['openid', 'orders.read'])
    expect(auth.roles).toEqual(['Everyone', 'Admins'])
    expect(auth.subject).toBe('alice@example.com')
    expect(jwks.hits).toBe(1)
  })

  it('refuses a token for another audience, and an ID token (aud = client ID)', async () => {
    serveJwks(server, KEYS, as)
    const verifier = createVerifier(okta({ issuer: ISSUER, audience: 'api://default' }))
    await expectRefused(verifier, await sign(accessClaims({ aud: 'api://billing' })), { claim: 'aud' })
    const idToken = { ver: 1, iss: ISSUER, aud: '0oa1b2c3d4e5f6g7h8i9', sub: '00u1a2b3c4d5e6f7g8h9', idp: '00o1', amr: ['pwd'], nonce: 'n' }
    await expectRefused(verifier, await sign(idToken), { claim: 'aud' })
  })

  it('refuses a token of another authorization server', async () => {
    serveJwks(server, KEYS, as)
    const verifier = createVerifier(okta({ issuer: ISSUER, audience: 'api://default' }))
    await expectRefused(verifier, await sign(accessClaims({ iss: 'https://dev-123456.okta.com/oauth2/aus9other' })), { claim: 'iss' })
  })

  it('checks the requesting client (cid) when clientId is given', async () => {
    serveJwks(server, KEYS, as)
    const verifier = createVerifier(okta({ issuer: ISSUER, audience: 'api://default', clientId: '0oa1b2c3d4e5f6g7h8i9' }))
    expect((await verifier.verifyAccessToken(await sign(accessClaims()))).subject).toBe('alice@example.com')
    await expectRefused(verifier, await sign(accessClaims({ cid: '0oaOTHER' })), { claim: 'cid' })
    await expectRefused(verifier, await sign(accessClaims({ aud: 'api://billing' })), { claim: 'aud' })
  })

  it('throws for the org authorization server, whose tokens only Okta can verify', () => {
    expect(() => okta({ issuer: 'https://dev-123456.okta.com', audience: 'api://default' })).toThrow(/okta\(\): invalid option "issuer": expected a custom authorization server/)
    expect(() => okta({ issuer: 'dev-123456.okta.com/oauth2/default', audience: 'x' })).toThrow(/"issuer"/)
    expect(() => okta({ issuer: ISSUER, audience: [] })).toThrow(/"audience"/)
  })
})
