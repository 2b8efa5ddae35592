/**
 * bearer-guard/testing's sender-constrained tokens: `sign(claims, { dpop: true })` binds the token to
 * a fresh key pair and signs proofs that match RFC 9449 §4.2 byte for byte; `{ certificate }` binds
 * it to a certificate (RFC 8705). Proofs are checked here with jose alone (an independent reader).
 */
import { createHash, X509Certificate } from 'node:crypto'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { createTestIssuer } from '../../src/testing/index.js'
import { createCertificate } from '../adapters/harnesses/tls.js'

const url = 'https://api.test/orders/7?page=2#top'
const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('base64url')

describe('issuer.sign(claims, { dpop: true })', () => {
  it('binds the token to a fresh key pair by its RFC 7638 thumbprint', async () => {
    const issuer = await createTestIssuer()
    const bound = await issuer.sign({ scope: 'orders:read' }, { dpop: true, subject: 'alice' })
    const claims = decodeJwt(bound.token)
    expect(claims).toMatchObject({ sub: 'alice', scope: 'orders:read', cnf: { jkt: bound.jkt }, iss: issuer.issuer })
    expect(bound.jkt).toBe(await calculateJwkThumbprint(bound.publicJwk, 'sha256'))
    expect(bound.algorithm).toBe('ES256')
    expect(bound.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' })
    expect(bound.publicJwk).not.toHaveProperty('d')
    const other = await issuer.sign({}, { dpop: true })
    expect(other.jkt).not.toBe(bound.jkt)
  })

  it('signs proofs RFC 9449 §4.2 describes: typ, alg, public jwk, jti, htm, htu without query, iat, ath', async () => {
    const issuer = await createTestIssuer()
    const { token, proof, publicJwk } = await issuer.sign({}, { dpop: true })
    const before = Math.floor(Date.now() / 1000)
    const dpop = await proof({ method: 'POST', url })
    const { payload, protectedHeader } = await jwtVerify(dpop, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })
    expect(protectedHeader).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
    expect(Object.keys(payload).sort()).toEqual(['ath', 'htm', 'htu', 'iat', 'jti'])
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://api.test/orders/7', ath: sha256(token) })
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
    const again = decodeJwt(await proof({ method: 'POST', url }))
    expect(again.jti).not.toBe(payload.jti)
  })

  it('adds the nonce, leaves ath out or hashes another token, and applies claim and header overrides', async () => {
    const issuer = await createTestIssuer()
    const { proof } = await issuer.sign({}, { dpop: true })
    expect(decodeJwt(await proof({ method: 'GET', url, nonce: 'n-1' }))).toMatchObject({ nonce: 'n-1' })
    expect(decodeJwt(await proof({ method: 'POST', url: new URL(url), accessToken: false }))).not.toHaveProperty('ath')
    expect(decodeJwt(await proof({ method: 'GET', url, accessToken: 'other' }))).toMatchObject({ ath: sha256('other') })
    const hostile = await proof({ method: 'GET', url, claims: { iat: 1, jti: undefined }, header: { typ: 'JWT' } })
    expect(decodeJwt(hostile)).toMatchObject({ iat: 1 })
    expect(decodeJwt(hostile)).not.toHaveProperty('jti')
    expect(decodeProtectedHeader(hostile).typ).toBe('JWT')
  })

  it('gives the two headers of a request, and signs with the algorithm asked for', async () => {
    const issuer = await createTestIssuer({ algorithm: 'PS256' })
    for (const algorithm of ['EdDSA', 'RS256', 'ES384'] as const) {
      const bound = await issuer.sign({}, { dpop: { algorithm } })
      const headers = await bound.headers({ method: 'GET', url })
      expect(headers.authorization).toBe(`DPoP ${bound.token}`)
      const { protectedHeader } = await jwtVerify(headers.dpop, EmbeddedJWK, { typ: 'dpop+jwt' })
      expect(protectedHeader.alg).toBe(algorithm)
      expect(decodeProtectedHeader(bound.token).alg).toBe('PS256')
    }
  })

  it('lets claims override the binding, and keeps plain tokens unbound', async () => {
    const issuer = await createTestIssuer()
    const bound = await issuer.sign({ cnf: { jkt: 'someone-else' } }, { dpop: true })
    expect(decodeJwt(bound.token).cnf).toEqual({ jkt: 'someone-else' })
    expect(decodeJwt(await issuer.sign())).not.toHaveProperty('cnf')
    expect(decodeJwt(await issuer.sign({}, { dpop: false }))).not.toHaveProperty('cnf')
  })

  it('refuses a bad algorithm, method or URL with a TypeError', async () => {
    const issuer = await createTestIssuer()
    await expect(issuer.sign({}, { dpop: { algorithm: 'HS256' as never } })).rejects.toThrow(/"dpop.algorithm"/)
    const { proof } = await issuer.sign({}, { dpop: true })
    await expect(proof({ method: '', url })).rejects.toThrow(/"method"/)
    await expect(proof({ method: 'GET', url: '/orders' })).rejects.toThrow(/absolute URL/)
  })
})

describe('issuer.sign(claims, { certificate })', () => {
  it('binds the token to the certificate SHA-256 thumbprint, from PEM, DER or an X509Certificate', async () => {
    const issuer = await createTestIssuer()
    const { cert, fingerprint256 } = await createCertificate('client')
    const expected = Buffer.from(fingerprint256.replace(/:/g, ''), 'hex').toString('base64url')
    const x509 = new X509Certificate(cert)
    for (const certificate of [cert, new Uint8Array(x509.raw), x509]) {
      expect(decodeJwt(await issuer.sign({}, { certificate })).cnf).toEqual({ 'x5t#S256': expected })
    }
    const both = await issuer.sign({}, { certificate: cert, dpop: true })
    expect(decodeJwt(both.token).cnf).toEqual({ 'x5t#S256': expected, jkt: both.jkt })
    await expect(issuer.sign({}, { certificate: 'not a certificate' })).rejects.toThrow(/"certificate"/)
  })
})
