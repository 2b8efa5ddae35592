import { describe, expect, it, vi } from 'vitest'
import { createVerifier } from 'bearer-guard'
import type { TestAlgorithm } from 'bearer-guard/testing'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()
const issue = issuers.issue

describe('createVerifier trusts a test issuer', () => {
  it.each<TestAlgorithm>(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'HS256'])(
    'accepts %s tokens with the static keys of verifierOptions()',
    async (algorithm) => {
      const issuer = await issue({ algorithm })
      const verifier = createVerifier(issuer.verifierOptions())
      const auth = await verifier.verifyAccessToken(await issuer.sign({ scope: 'read write', roles: ['admin'] }))
      expect(auth).toMatchObject({
        subject: 'user-123',
        issuer: 'https://issuer.test',
        audience: ['https://api.test'],
        scopes: ['read', 'write'],
        roles: ['admin'],
      })
    },
  )

  it.each(['jwks', 'discovery'] as const)('accepts tokens in %s mode through msw', async (mode) => {
    const issuer = await issuers.serve({ algorithm: 'ES256' })
    const verifier = createVerifier(issuer.verifierOptions(mode))
    const auth = await verifier.verifyAccessToken(await issuer.sign())
    expect(auth.subject).toBe('user-123')
    expect(issuer.requests).toEqual({ discovery: mode === 'discovery' ? 1 : 0, jwks: 1 })
  })

  it.each(['jwks', 'discovery'] as const)('accepts tokens in %s mode through issuer.fetch', async (mode) => {
    const issuer = await issue({ issuer: 'https://auth.example.com/realms/demo' })
    const verifier = createVerifier(issuer.verifierOptions(mode, { jwks: { fetch: issuer.fetch } }))
    const auth = await verifier.verifyAccessToken(await issuer.sign())
    expect(auth.issuer).toBe('https://auth.example.com/realms/demo')
  })

  it.each(['jwks', 'discovery'] as const)('accepts tokens in %s mode from a real loopback issuer', async (mode) => {
    const issuer = await issue({ listen: true })
    const verifier = createVerifier(issuer.verifierOptions(mode))
    const auth = await verifier.verifyAccessToken(await issuer.sign())
    expect(auth.issuer).toBe(issuer.issuer)
    expect(issuer.server!.requests).toBeGreaterThanOrEqual(1)
  })

  it('follows key rotation through the JWKS once off cooldown', async () => {
    const issuer = await issue()
    const verifier = createVerifier(
      issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch, cooldown: 0 } }),
    )
    const old = await issuer.sign()
    const oldKid = issuer.kid
    await verifier.verifyAccessToken(old)
    await issuer.rotateKeys()
    const rotated = await issuer.sign({ n: 2 })
    await expect(verifier.verifyAccessToken(rotated)).resolves.toMatchObject({ subject: 'user-123', header: { kid: issuer.kid } })
    await expect(verifier.verifyAccessToken(old)).resolves.toMatchObject({ token: old, header: { kid: oldKid } })
    expect(issuer.requests.jwks).toBe(2)
  })

  it('rejects the hostile tokens the issuer can make', async () => {
    const issuer = await issue()
    const verifier = createVerifier(issuer.verifierOptions())
    const hostile = [
      await issuer.expired(),
      await issuer.sign({}, { algorithm: 'none' }),
      await issuer.sign({}, { algorithm: 'HS256' }),
      await issuer.sign({}, { algorithm: 'ES256' }),
      await issuer.sign({}, { audience: 'https://other.test' }),
      await issuer.sign({}, { issuer: 'https://evil.test' }),
      await issuer.sign({ exp: undefined }),
      await issuer.sign({ exp: 'soon' }),
    ]
    for (const token of hostile) {
      await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ status: 401, code: 'invalid_token' })
    }
  })

  it('answers 503 when the simulated JWKS times out, and the logger is told why', async () => {
    const issuer = await issue()
    issuer.simulate('jwks', 'timeout')
    const warn = vi.fn()
    const verifier = createVerifier(
      issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch, timeout: 0.2 }, logger: { warn } }),
    )
    await expect(verifier.verifyAccessToken(await issuer.sign())).rejects.toMatchObject({
      status: 503,
      code: 'temporarily_unavailable',
    })
    expect(warn.mock.calls).toEqual([
      [`bearer-guard: JWKS unavailable, answering 503 until it can be fetched: GET ${issuer.jwksUri} timed out after 200 ms`],
    ])
  })

  it("leaves the logger at the verifier's default, as in production, so the options also fit an issuers entry", async () => {
    const a = await issue({ issuer: 'https://a.issuer.test', algorithm: 'ES256' })
    const b = await issue({ issuer: 'https://b.issuer.test', algorithm: 'EdDSA' })
    for (const mode of ['keys', 'jwks', 'discovery'] as const) expect(a.verifierOptions(mode)).not.toHaveProperty('logger')
    const verifier = createVerifier({ issuers: [a.verifierOptions(), b.verifierOptions()] })
    await expect(verifier.verifyAccessToken(await a.sign())).resolves.toMatchObject({ issuer: a.issuer })
    await expect(verifier.verifyAccessToken(await b.sign())).resolves.toMatchObject({ issuer: b.issuer })
  })
})
