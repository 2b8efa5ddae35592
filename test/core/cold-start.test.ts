import { describe, expect, it } from 'vitest'
import { createVerifier, verifyAccessToken } from 'bearer-guard'
import type { TestIssuer } from 'bearer-guard/testing'
import { useIssuers } from '../helpers/issuers.js'

// A burst of requests on a cold verifier fetches the keys once, not once per request.
const issuers = useIssuers()

const BURST = 200

function issuerOnMsw(algorithm: 'RS256' | 'ES256' = 'ES256'): Promise<TestIssuer> {
  return issuers.serve({ algorithm })
}

/** Signs `n` distinct tokens (distinct subjects), so no verified-token cache can answer. */
async function tokens(issuer: TestIssuer, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => issuer.sign({ sub: `user-${i}` })))
}

describe('cold start', () => {
  it(`makes one JWKS fetch for ${BURST} concurrent verifications with jwksUri`, async () => {
    const issuer = await issuerOnMsw()
    const verifier = createVerifier(issuer.verifierOptions('jwks'))
    const batch = await tokens(issuer, BURST)
    const results = await Promise.all(batch.map((t) => verifier.verifyAccessToken(t)))
    expect(results.map((r) => r.subject)).toEqual(batch.map((_, i) => `user-${i}`))
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 })
  })

  it(`makes one discovery fetch and one JWKS fetch for ${BURST} concurrent verifications with discovery`, async () => {
    const issuer = await issuerOnMsw()
    const verifier = createVerifier(issuer.verifierOptions('discovery'))
    const batch = await tokens(issuer, BURST)
    await Promise.all(batch.map((t) => verifier.verifyAccessToken(t)))
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it(`makes one JWKS fetch for ${BURST} concurrent requests carrying the same token`, async () => {
    const issuer = await issuerOnMsw('RS256')
    const verifier = createVerifier(issuer.verifierOptions('jwks'))
    const token = await issuer.sign()
    const results = await Promise.all(Array.from({ length: BURST }, () => verifier.authenticate(`Bearer ${token}`)))
    expect(new Set(results.map((r) => r.subject))).toEqual(new Set(['user-123']))
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 })
  })

  it('makes one JWKS fetch with the verified-token cache off', async () => {
    const issuer = await issuerOnMsw()
    const verifier = createVerifier(issuer.verifierOptions('jwks', { cache: false }))
    const batch = await tokens(issuer, BURST)
    await Promise.all(batch.map((t) => verifier.verifyAccessToken(t)))
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1 })
  })

  it('makes one discovery fetch and one JWKS fetch through the one-shot verifyAccessToken', async () => {
    const issuer = await issuerOnMsw()
    const batch = await tokens(issuer, BURST)
    // equal options (a fresh object each call) share one verifier, so one key cache
    await Promise.all(batch.map((t) => verifyAccessToken(t, issuer.verifierOptions('discovery'))))
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it('does not fetch again once warm', async () => {
    const issuer = await issuerOnMsw()
    const verifier = createVerifier(issuer.verifierOptions('discovery'))
    await Promise.all((await tokens(issuer, BURST)).map((t) => verifier.verifyAccessToken(t)))
    await Promise.all((await tokens(issuer, BURST)).map((t) => verifier.verifyAccessToken(t)))
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })
})
