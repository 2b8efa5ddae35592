/**
 * bearer-guard/testing's bound tokens against bearer-guard's own verifier: what the helper signs is
 * what `authenticateRequest` accepts (DPoP and certificate-bound), and the hostile variants the
 * docs suggest are refused with the codes a user's test would assert.
 */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { createCertificate } from '../adapters/harnesses/tls.js'
import { rejection } from '../helpers/rejection.js'

const url = 'https://api.test/orders?page=2'

describe('DPoP-bound test tokens and a real verifier', () => {
  it('are accepted with their proof: scheme DPoP, confirmation.jkt the key thumbprint', async () => {
    const issuer = await createTestIssuer()
    const verifier = createVerifier({ ...issuer.verifierOptions(), dpop: { mode: 'required' } })
    for (const algorithm of ['ES256', 'EdDSA', 'PS256', 'RS256'] as const) {
      const bound = await issuer.sign({ scope: 'orders:read' }, { dpop: { algorithm } })
      const auth = await verifier.authenticateRequest({ method: 'GET', url, headers: await bound.headers({ method: 'GET', url }) })
      expect(auth).toMatchObject({ scheme: 'DPoP', confirmation: { jkt: bound.jkt }, scopes: ['orders:read'] })
    }
  })

  it('are refused replayed, as Bearer, with a proof for another request, another token or an old iat', async () => {
    const issuer = await createTestIssuer()
    const verifier = createVerifier({ ...issuer.verifierOptions(), dpop: { mode: 'allowed' } })
    const { token, proof } = await issuer.sign({}, { dpop: true })
    const request = (dpop: string, authorization = `DPoP ${token}`) =>
      verifier.authenticateRequest({ method: 'GET', url, headers: { authorization, dpop } })
    const once = await proof({ method: 'GET', url })
    await expect(request(once)).resolves.toMatchObject({ scheme: 'DPoP' })
    const refusals = [
      await rejection(request(once)),
      await rejection(verifier.authenticateRequest({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, dpop: undefined } })),
      await rejection(request(await proof({ method: 'POST', url }))),
      await rejection(request(await proof({ method: 'GET', url: 'https://api.test/other' }))),
      await rejection(request(await proof({ method: 'GET', url, accessToken: 'another-token' }))),
      await rejection(request(await proof({ method: 'GET', url, accessToken: false }))),
      await rejection(request(await proof({ method: 'GET', url, claims: { iat: Math.floor(Date.now() / 1000) - 3600 } }))),
      await rejection(request(await proof({ method: 'GET', url, header: { typ: 'JWT' } }))),
    ]
    expect(refusals.map((e) => [e.status, e.code])).toEqual([
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_token'],
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_dpop_proof'],
      [401, 'invalid_dpop_proof'],
    ])
  })

  it('carry the server nonce a verifier asked for', async () => {
    const issuer = await createTestIssuer()
    const verifier = createVerifier({
      ...issuer.verifierOptions(),
      dpop: { mode: 'required', nonce: { secret: 'a-test-nonce-secret-of-32-bytes-or-more' } },
    })
    const { headers } = await issuer.sign({}, { dpop: true })
    const asked = await rejection(verifier.authenticateRequest({ method: 'GET', url, headers: await headers({ method: 'GET', url }) }))
    expect(asked).toMatchObject({ status: 401, code: 'use_dpop_nonce' })
    const nonce = asked.challenge?.nonce as string
    expect(nonce).toEqual(expect.any(String))
    await expect(
      verifier.authenticateRequest({ method: 'GET', url, headers: await headers({ method: 'GET', url, nonce }) }),
    ).resolves.toMatchObject({ scheme: 'DPoP' })
  })
})

describe('certificate-bound test tokens and a real verifier', () => {
  it('are accepted with their certificate and refused with another or none', async () => {
    const issuer = await createTestIssuer()
    const verifier = createVerifier(issuer.verifierOptions())
    const client = await createCertificate('client')
    const other = await createCertificate('other')
    const token = await issuer.sign({}, { certificate: client.cert })
    const request = (certificate?: X509Certificate) =>
      verifier.authenticateRequest({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, dpop: undefined }, certificate })
    const auth = await request(new X509Certificate(client.cert))
    expect(auth.confirmation).toEqual({ 'x5t#S256': Buffer.from(client.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url') })
    expect((await rejection(request(new X509Certificate(other.cert)))).status).toBe(401)
    expect((await rejection(request())).status).toBe(401)
  })
})
