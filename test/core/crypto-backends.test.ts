import { afterEach, describe, expect, it, vi } from 'vitest'
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer, type TestAlgorithm } from 'bearer-guard/testing'
import { BACKENDS, useBackend } from '../helpers/backends.js'
import { expectRefused, parts } from '../helpers/forge.js'

const ALGORITHMS: TestAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512']

afterEach(() => {
  vi.restoreAllMocks()
})

describe.each(BACKENDS)('the %s crypto backend', (backend) => {
  useBackend(backend)

  it.each(ALGORITHMS)('accepts a valid %s token from the test issuer', async (algorithm) => {
    const issuer = await createTestIssuer({ algorithm })
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const auth = await verifier.verifyAccessToken(await issuer.sign({ scope: 'read' }))
    expect(auth).toMatchObject({ subject: 'user-123', issuer: issuer.issuer, scopes: ['read'] })
  })

  it.each(ALGORITHMS)('refuses a %s token with one signature byte flipped', async (algorithm) => {
    const issuer = await createTestIssuer({ algorithm })
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const [h, p, s] = parts(await issuer.sign())
    const flipped = s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`
    await expectRefused(verifier.verifyAccessToken(`${h}.${p}.${flipped}`), { reason: 'signature verification failed' })
  })

  it(`verifies through ${backend === 'web' ? 'crypto.subtle' : 'node:crypto'} only`, async () => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    const subtle = vi.spyOn(crypto.subtle, 'verify')
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    await verifier.verifyAccessToken(await issuer.sign())
    expect(subtle).toHaveBeenCalledTimes(backend === 'web' ? 1 : 0)
  })
})

// One RSA key pair, its public half given as a PEM: every RSA algorithm gets the same answer on
// node:crypto and on Web Crypto (which imports a PEM for one algorithm at a time).
const rsa = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })
const rsaPem = await exportSPKI(rsa.publicKey)
const rsaPkcs8 = await exportPKCS8(rsa.privateKey)
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const

async function signWith(alg: string, pkcs8: string): Promise<string> {
  return new SignJWT({ sub: 'user-1' })
    .setProtectedHeader({ alg })
    .setIssuer('https://issuer.test')
    .setAudience('https://api.test')
    .setExpirationTime('5m')
    .sign(await importPKCS8(pkcs8, alg))
}

describe.each(BACKENDS)('one PEM key on the %s backend', (backend) => {
  useBackend(backend)

  it.each(RSA_ALGORITHMS)('verifies %s with an RSA public key PEM', async (alg) => {
    const verifier = createVerifier({ issuer: 'https://issuer.test', audience: 'https://api.test', keys: rsaPem })
    await expect(verifier.verifyAccessToken(await signWith(alg, rsaPkcs8))).resolves.toMatchObject({ subject: 'user-1' })
  })

  it.each(RSA_ALGORITHMS)('verifies %s with an RSA PEM and that algorithm listed', async (alg) => {
    const verifier = createVerifier({ issuer: 'https://issuer.test', audience: 'https://api.test', keys: rsaPem, algorithms: ['RS256', alg] })
    await expect(verifier.verifyAccessToken(await signWith(alg, rsaPkcs8))).resolves.toMatchObject({ subject: 'user-1' })
  })

  it('allows exactly the RSA algorithms for an RSA PEM', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true })
    const verifier = createVerifier({ issuer: 'https://issuer.test', audience: 'https://api.test', keys: rsaPem })
    await expect(verifier.verifyAccessToken(await signWith('ES256', await exportPKCS8(ec.privateKey)))).rejects.toMatchObject({
      status: 401,
      reason: 'alg "ES256" is not allowed (allowed: RS256, RS384, RS512, PS256, PS384, PS512)',
    })
  })
})
