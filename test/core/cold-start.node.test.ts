/** Node only: the issuer listens on a real 127.0.0.1 socket. */
import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import type { TestIssuer } from 'bearer-guard/testing'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()

const BURST = 200

async function tokens(issuer: TestIssuer, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => issuer.sign({ sub: `user-${i}` })))
}

describe('cold start over a real loopback server', () => {
  it(`makes one discovery fetch and one JWKS fetch for ${BURST} concurrent verifications`, async () => {
    const issuer = await issuers.issue({ listen: true, algorithm: 'ES256' })
    const verifier = createVerifier(issuer.verifierOptions('discovery'))
    const batch = await tokens(issuer, BURST)
    const results = await Promise.all(batch.map((t) => verifier.verifyAccessToken(t)))
    expect(results.map((r) => r.subject)).toEqual(batch.map((_, i) => `user-${i}`))
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })
})
