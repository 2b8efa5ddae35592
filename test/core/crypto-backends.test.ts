import { afterEach, describe, expect, it, vi } from 'vitest'
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
