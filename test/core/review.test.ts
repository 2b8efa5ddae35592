import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { AUDIENCE, forge, generateKey, ISSUER, validClaims } from '../helpers/forge.js'

// Findings of the security review, each as the case that was accepted before its fix.
describe('security review', () => {
  it('refuses a numeric subject beyond 2^53: two users would get the same auth.subject', async () => {
    const key = await generateKey('HS256', 'k1')
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, secret: key.privateKey as Uint8Array })
    const claims = JSON.stringify(validClaims({ sub: 0 }))
    const tokenOf = (digits: string) => forge(key, { payload: claims.replace('"sub":0', `"sub":${digits}`) })
    // 2^53 + 1 parses to 2^53: user 9007199254740993 would be user 9007199254740992
    await expect(verifier.verifyAccessToken(await tokenOf('9007199254740993'))).rejects.toMatchObject({
      code: 'invalid_token',
      claim: 'sub',
    })
    await expect(verifier.verifyAccessToken(await tokenOf('1234567890123456789'))).rejects.toMatchObject({ claim: 'sub' })
    // exact integers keep working
    expect((await verifier.verifyAccessToken(await tokenOf('9007199254740991'))).subject).toBe('9007199254740991')
    expect((await verifier.verifyAccessToken(await tokenOf('42'))).subject).toBe('42')
  })
})
