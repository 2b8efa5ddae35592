import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { entraId } from 'bearer-guard/presets'

describe('issuer and audience predicates (the core hook the presets use)', () => {
  it('pass the token iss, aud list and claims to the functions', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://t1.example.com' })
    const seen: unknown[] = []
    const verifier = createVerifier({
      ...issuer.verifierOptions('keys'),
      issuer: (iss, claims) => (seen.push(iss, claims.tenant), iss === `https://${String(claims.tenant)}.example.com`),
      audience: (aud, claims) => (seen.push(aud), claims.client_id === 'c1'),
    })
    await verifier.verifyAccessToken(await issuer.sign({ tenant: 't1', client_id: 'c1', aud: undefined }))
    expect(seen).toEqual(['https://t1.example.com', 't1', []])
    await expect(verifier.verifyAccessToken(await issuer.sign({ tenant: 't2', client_id: 'c1' }))).rejects.toMatchObject({
      claim: 'iss',
      reason: expect.stringMatching(/rejected by the issuer function/),
    })
    await expect(verifier.verifyAccessToken(await issuer.sign({ tenant: 't1', client_id: 'c2' }))).rejects.toMatchObject({
      claim: 'aud',
      reason: expect.stringMatching(/rejected by the audience function/),
    })
  })

  it('still refuse a token without iss before calling the issuer function', async () => {
    const issuer = await createTestIssuer()
    let called = false
    const verifier = createVerifier({ ...issuer.verifierOptions('keys'), issuer: () => (called = true) })
    await expect(verifier.verifyAccessToken(await issuer.sign({ iss: undefined }))).rejects.toMatchObject({ claim: 'iss' })
    expect(called).toBe(false)
  })

  it('need a key source: an issuer function cannot be used for discovery', () => {
    expect(() => createVerifier({ issuer: () => true, audience: 'a' })).toThrow(/invalid option "issuer"/)
  })

  it('cannot be used in an issuers entry, where the iss selects the entry', async () => {
    const issuer = await createTestIssuer()
    expect(() =>
      createVerifier({ issuers: [entraId({ tenantId: 'common', audience: 'a' }, { keys: issuer.jwks() })] }),
    ).toThrow(/"issuers\[0\]\.issuer".*not false or a function/)
  })
})
