import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SignJWT } from 'jose'
import { createVerifier } from 'bearer-guard'

describe('static keys: Node KeyObject', () => {
  it('verifies with a public KeyObject', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('https://issuer.test')
      .setAudience('api')
      .setExpirationTime('1m')
      .sign(privateKey)
    const verifier = createVerifier({ issuer: 'https://issuer.test', audience: 'api', keys: publicKey })
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ subject: 'u' })
  })

  it('rejects a private KeyObject at construction', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(() => createVerifier({ issuer: 'i', audience: 'a', keys: privateKey })).toThrow(/invalid option "keys": expected a public KeyObject/)
  })

  it('rejects an RSA KeyObject under 2048 bits at construction', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    expect(() => createVerifier({ issuer: 'i', audience: 'a', keys: publicKey })).toThrow(/RSA modulus of 1024 bits/)
  })
})
