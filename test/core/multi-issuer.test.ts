import { describe, expect, it } from 'vitest'
import { createVerifier, InvalidTokenError } from 'bearer-guard'
import { useIssuers } from '../helpers/issuers.js'
import { rejection } from '../helpers/rejection.js'

const issuers = useIssuers()

/** Two tenants, each an issuer with its own audience, served through msw. */
async function tenants() {
  const a = await issuers.serve({ issuer: 'https://a.tenant.test', algorithm: 'ES256', audience: 'api-a' })
  const b = await issuers.serve({ issuer: 'https://b.tenant.test', algorithm: 'ES256', audience: 'api-b' })
  return { a, b }
}

describe('multi-issuer', () => {
  it("selects the entry by the token's iss", async () => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      issuers: [
        { issuer: a.issuer, audience: 'api-a', jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: 'api-b' },
      ],
    })
    await expect(verifier.verifyAccessToken(await a.sign())).resolves.toMatchObject({ issuer: a.issuer, audience: ['api-a'] })
    await expect(verifier.verifyAccessToken(await b.sign())).resolves.toMatchObject({ issuer: b.issuer })
    expect(a.requests).toEqual({ discovery: 0, jwks: 1 })
    expect(b.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it("applies the entry's audience, not another entry's", async () => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      issuers: [
        { issuer: a.issuer, audience: 'api-a', jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: 'api-b', jwksUri: b.jwksUri },
      ],
    })
    const error = await rejection(verifier.verifyAccessToken(await a.sign({ aud: 'api-b' })))
    expect(error.reason).toBe('aud mismatch: got ["api-b"], expected "api-a"')
  })

  it("does not accept one issuer's token signed with another's key", async () => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      issuers: [
        { issuer: a.issuer, audience: ['api-a', 'api-b'], jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: ['api-a', 'api-b'], jwksUri: b.jwksUri },
      ],
      jwks: { cooldown: 0 },
    })
    const forged = await b.sign({ iss: a.issuer }, { kid: undefined })
    expect((await rejection(verifier.verifyAccessToken(forged))).reason).toBe('signature verification failed')
    expect(b.requests.jwks).toBe(0)
  })

  it.each([
    ['an unlisted iss', { iss: 'https://evil.test' }, 'iss "https://evil.test" is not a configured issuer'],
    ['no iss', { iss: undefined }, 'iss missing: cannot select an issuer'],
    ['a non-string iss', { iss: ['https://a.tenant.test'] }, 'iss missing: cannot select an issuer'],
  ])('rejects %s before fetching anything', async (_what, claims, reason) => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      issuers: [{ issuer: a.issuer, audience: 'api-a' }, { issuer: b.issuer, audience: 'api-b', jwksUri: b.jwksUri }],
    })
    const error = await rejection(verifier.verifyAccessToken(await a.sign(claims)))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.reason).toBe(reason)
    expect(a.requests).toEqual({ discovery: 0, jwks: 0 })
    expect(b.requests).toEqual({ discovery: 0, jwks: 0 })
  })

  it('inherits top-level options as defaults', async () => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      rolesClaim: 'realm_access.roles',
      requiredClaims: ['tenant'],
      issuers: [
        { issuer: a.issuer, audience: 'api-a', jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: 'api-b', jwksUri: b.jwksUri, requiredClaims: [] },
      ],
    })
    const auth = await verifier.verifyAccessToken(await a.sign({ tenant: 'a', realm_access: { roles: ['admin'] } }))
    expect(auth.roles).toEqual(['admin'])
    expect((await rejection(verifier.verifyAccessToken(await a.sign()))).reason).toBe('required claim "tenant" missing')
    await expect(verifier.verifyAccessToken(await b.sign())).resolves.toMatchObject({ issuer: b.issuer, audience: ['api-b'], roles: [] })
  })

  it('lets one entry list several issuers', async () => {
    const { a } = await tenants()
    const verifier = createVerifier({
      issuers: [{ issuer: [a.issuer, 'https://alias.test'], audience: 'api-a', keys: a.jwks() }],
    })
    await expect(verifier.verifyAccessToken(await a.sign({ iss: 'https://alias.test' }))).resolves.toMatchObject({ issuer: 'https://alias.test' })
  })

  it('rejects a duplicate issuer with a TypeError', async () => {
    expect(() =>
      createVerifier({
        issuers: [
          { issuer: 'https://a.test', audience: 'x', secret: 's'.repeat(32) },
          { issuer: 'https://a.test', audience: 'y', secret: 't'.repeat(32) },
        ],
      }),
    ).toThrow(new TypeError('bearer-guard: invalid option "issuers[1].issuer": "https://a.test" is listed twice'))
  })

  it('warms up every entry', async () => {
    const { a, b } = await tenants()
    const verifier = createVerifier({
      issuers: [{ issuer: a.issuer, audience: 'api-a', jwksUri: a.jwksUri }, { issuer: b.issuer, audience: 'api-b' }],
    })
    await verifier.warmUp()
    expect(a.requests.jwks).toBe(1)
    expect(b.requests).toEqual({ discovery: 1, jwks: 1 })
  })
})
