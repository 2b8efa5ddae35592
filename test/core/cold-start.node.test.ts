/** Node only: the issuer listens on a real 127.0.0.1 socket. */
import { afterEach, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'

const open: TestIssuer[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()))
})

const BURST = 200

async function tokens(issuer: TestIssuer, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => issuer.sign({ sub: `user-${i}` })))
}

describe('cold start over a real loopback server', () => {
  it(`makes one discovery fetch and one JWKS fetch for ${BURST} concurrent verifications`, async () => {
    const issuer = await createTestIssuer({ listen: true, algorithm: 'ES256' })
    open.push(issuer)
    const verifier = createVerifier(issuer.verifierOptions('discovery'))
    const batch = await tokens(issuer, BURST)
    await Promise.all(batch.map((t) => verifier.verifyAccessToken(t)))
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })
})
