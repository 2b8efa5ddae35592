import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { ENTRA_CONSUMERS_TENANT, entraId } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, now, providerIssuer, serveJwks } from './helpers.js'

const TENANT_A = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const TENANT_B = 'a1b2c3d4-0000-4000-8000-000000000001'
const API_CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const SPA_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
const v2Issuer = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`
const v1Issuer = (tid: string) => `https://sts.windows.net/${tid}/`
const server = setupMswServer()

/** A v2.0 delegated access token, as Entra ID issues it for an API whose manifest asks for v2. */
function v2Claims(tid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now()
  return {
    aud: API_CLIENT_ID,
    iss: v2Issuer(tid),
    iat: t,
    nbf: t,
    aio: 'AWQAm/8TAAAA',
    azp: SPA_CLIENT_ID,
    azpacr: '0',
    name: 'Alice Example',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    preferred_username: 'alice@contoso.com',
    rh: '0.AAAA',
    roles: ['Orders.Admin'],
    scp: 'Orders.Read Orders.Write',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    tid,
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '2.0',
    ...extra,
  }
}

/** A v1.0 access token: sts.windows.net issuer, App ID URI audience, appid, upn. */
function v1Claims(tid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now()
  return {
    aud: 'api://orders',
    iss: v1Issuer(tid),
    iat: t,
    nbf: t,
    acr: '1',
    aio: 'AVQAq/8T',
    amr: ['pwd', 'mfa'],
    appid: SPA_CLIENT_ID,
    appidacr: '0',
    ipaddr: '203.0.113.7',
    name: 'Alice Example',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    scp: 'Orders.Read',
    sub: 'l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA',
    tid,
    unique_name: 'alice@contoso.com',
    upn: 'alice@contoso.com',
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '1.0',
    ...extra,
  }
}

describe('entraId()', () => {
  let ms: TestIssuer
  beforeAll(async () => {
    // Entra signs every tenant's tokens with the same published keys
    ms = await providerIssuer(v2Issuer(TENANT_A), { kid: 'nOo3ZDrODXEK1jKWhXslHR_KXEg' })
  })
  const sign = (claims: Record<string, unknown>) => ms.sign(claims, { typ: 'JWT', header: { x5t: 'nOo3ZDrODXEK1jKWhXslHR_KXEg' } })

  describe('single tenant', () => {
    it('accepts a v2 token of the tenant: roles from roles, scopes from scp, keys from discovery/v2.0/keys', async () => {
      const jwks = serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`, ms)
      const verifier = createVerifier(entraId({ tenantId: TENANT_A, audience: API_CLIENT_ID }))
      const auth = await verifier.verifyAccessToken(await sign(v2Claims(TENANT_A)))
      expect(auth.issuer).toBe(v2Issuer(TENANT_A))
      expect(auth.roles).toEqual(['Orders.Admin'])
      expect(auth.scopes).toEqual(['Orders.Read', 'Orders.Write'])
      expect(auth.claims).toMatchObject({ tid: TENANT_A, oid: '00000000-0000-0000-66f3-3332eca7ea81' })
      expect(jwks.hits).toBe(1)
    })

    it('accepts a v1 token (sts.windows.net issuer, api:// audience) with version 1', async () => {
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/keys`, ms)
      const verifier = createVerifier(entraId({ tenantId: TENANT_A, audience: ['api://orders', API_CLIENT_ID], version: 1 }))
      const auth = await verifier.verifyAccessToken(await sign(v1Claims(TENANT_A)))
      expect(auth.issuer).toBe(v1Issuer(TENANT_A))
      expect(auth.scopes).toEqual(['Orders.Read'])
    })

    it('refuses a v1 token when the API expects v2, and the reverse', async () => {
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`, ms)
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/keys`, ms)
      const v2 = createVerifier(entraId({ tenantId: TENANT_A, audience: ['api://orders', API_CLIENT_ID] }))
      await expectRefused(v2, await sign(v1Claims(TENANT_A)), { claim: 'iss' })
      const v1 = createVerifier(entraId({ tenantId: TENANT_A, audience: ['api://orders', API_CLIENT_ID], version: '1.0' }))
      await expectRefused(v1, await sign(v2Claims(TENANT_A)), { claim: 'iss' })
    })

    it('refuses a token of another tenant', async () => {
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`, ms)
      const verifier = createVerifier(entraId({ tenantId: TENANT_A, audience: API_CLIENT_ID }))
      await expectRefused(verifier, await sign(v2Claims(TENANT_B)), { claim: 'iss' })
    })

    it('refuses a token for another API, and an ID token of the same app (no scp, no roles)', async () => {
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`, ms)
      const verifier = createVerifier(entraId({ tenantId: TENANT_A, audience: API_CLIENT_ID }))
      await expectRefused(verifier, await sign(v2Claims(TENANT_A, { aud: '00000003-0000-0000-c000-000000000000' })), { claim: 'aud' })
      const idToken = v2Claims(TENANT_A, { nonce: 'abc', scp: undefined, roles: undefined, azp: undefined })
      await expectRefused(verifier, await sign(idToken), { claim: 'scp', reason: /neither scp nor roles/ })
    })

    it('accepts an app-only token (client credentials): roles, no scp', async () => {
      serveJwks(server, `https://login.microsoftonline.com/${TENANT_A}/discovery/v2.0/keys`, ms)
      const verifier = createVerifier(entraId({ tenantId: TENANT_A, audience: API_CLIENT_ID }))
      const appOnly = v2Claims(TENANT_A, { scp: undefined, roles: ['Orders.Sync'], idtyp: 'app', sub: 'app-oid', oid: 'app-oid' })
      const auth = await verifier.verifyAccessToken(await sign(appOnly))
      expect(auth.roles).toEqual(['Orders.Sync'])
      expect(auth.scopes).toEqual([])
    })
  })

  describe("multi-tenant ('common', 'organizations')", () => {
    const COMMON_KEYS = 'https://login.microsoftonline.com/common/discovery/v2.0/keys'

    it('accepts tokens of any tenant whose iss is the issuer of their own tid', async () => {
      const jwks = serveJwks(server, COMMON_KEYS, ms)
      const verifier = createVerifier(entraId({ tenantId: 'common', audience: API_CLIENT_ID }))
      expect((await verifier.verifyAccessToken(await sign(v2Claims(TENANT_A)))).issuer).toBe(v2Issuer(TENANT_A))
      expect((await verifier.verifyAccessToken(await sign(v2Claims(TENANT_B)))).issuer).toBe(v2Issuer(TENANT_B))
      expect(jwks.hits).toBe(1)
    })

    it('refuses an iss that is not the issuer of the token tid', async () => {
      serveJwks(server, COMMON_KEYS, ms)
      const verifier = createVerifier(entraId({ tenantId: 'common', audience: API_CLIENT_ID }))
      await expectRefused(verifier, await sign(v2Claims(TENANT_B, { iss: v2Issuer(TENANT_A) })), { claim: 'iss' })
      await expectRefused(verifier, await sign(v2Claims(TENANT_A, { iss: 'https://evil.example.com/v2.0' })), { claim: 'iss' })
      await expectRefused(verifier, await sign(v2Claims(TENANT_A, { iss: v1Issuer(TENANT_A) })), { claim: 'iss' })
    })

    it('refuses a token without tid, or with a tid that is not a GUID', async () => {
      serveJwks(server, COMMON_KEYS, ms)
      const verifier = createVerifier(entraId({ tenantId: 'common', audience: API_CLIENT_ID }))
      await expectRefused(verifier, await sign(v2Claims(TENANT_A, { tid: undefined })), { claim: 'tid' })
      await expectRefused(verifier, await sign(v2Claims('common', { iss: v2Issuer('common') })), { claim: 'tid' })
    })

    it("refuses personal-account tokens with 'organizations', accepts them with 'common'", async () => {
      serveJwks(server, 'https://login.microsoftonline.com/organizations/discovery/v2.0/keys', ms)
      serveJwks(server, COMMON_KEYS, ms)
      const msa = await sign(v2Claims(ENTRA_CONSUMERS_TENANT))
      const orgs = createVerifier(entraId({ tenantId: 'organizations', audience: API_CLIENT_ID }))
      await expectRefused(orgs, msa, { claim: 'tid', reason: /personal Microsoft account/ })
      const common = createVerifier(entraId({ tenantId: 'common', audience: API_CLIENT_ID }))
      expect((await common.verifyAccessToken(msa)).claims).toMatchObject({ tid: ENTRA_CONSUMERS_TENANT })
    })

    it('accepts only the listed tenants when "tenants" is given', async () => {
      serveJwks(server, 'https://login.microsoftonline.com/organizations/discovery/v2.0/keys', ms)
      const verifier = createVerifier(entraId({ tenantId: 'organizations', audience: API_CLIENT_ID, tenants: [TENANT_A] }))
      await expect(verifier.verifyAccessToken(await sign(v2Claims(TENANT_A)))).resolves.toMatchObject({ claims: { tid: TENANT_A } })
      await expectRefused(verifier, await sign(v2Claims(TENANT_B)), { claim: 'tid', reason: /not in "tenants"/ })
    })

    it('checks v1 multi-tenant issuers (sts.windows.net/{tid}/) the same way', async () => {
      serveJwks(server, 'https://login.microsoftonline.com/common/discovery/keys', ms)
      const verifier = createVerifier(entraId({ tenantId: 'common', audience: 'api://orders', version: 1 }))
      expect((await verifier.verifyAccessToken(await sign(v1Claims(TENANT_B)))).issuer).toBe(v1Issuer(TENANT_B))
      await expectRefused(verifier, await sign(v1Claims(TENANT_B, { iss: v1Issuer(TENANT_A) })), { claim: 'iss' })
    })
  })

  it('maps consumers to the personal-account tenant issuer', () => {
    expect(entraId({ tenantId: 'consumers', audience: API_CLIENT_ID }).issuer).toBe(v2Issuer(ENTRA_CONSUMERS_TENANT))
  })

  it('keeps a plain audience list with requireScopeOrRole: false', () => {
    expect(entraId({ tenantId: TENANT_A, audience: API_CLIENT_ID, requireScopeOrRole: false }).audience).toEqual([API_CLIENT_ID])
  })

  it('throws a TypeError naming the option for a bad tenant, version or tenants list', () => {
    expect(() => entraId({ tenantId: 'contoso.onmicrosoft.com', audience: 'x' })).toThrow(/entraId\(\): invalid option "tenantId"/)
    expect(() => entraId({ tenantId: TENANT_A, audience: 'x', version: 3 as 2 })).toThrow(/"version"/)
    expect(() => entraId({ tenantId: TENANT_A, audience: 'x', tenants: [TENANT_B] })).toThrow(/"tenants"/)
    expect(() => entraId({ tenantId: 'common', audience: 'x', tenants: ['contoso'] })).toThrow(/"tenants"/)
    expect(() => entraId({ tenantId: TENANT_A, audience: [] })).toThrow(/"audience"/)
  })
})
