import { afterEach, describe, expect, it } from 'vitest'
import { exportJWK, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose'
import {
  createVerifier,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  type IssuerOptions,
  type KeyInput,
} from 'bearer-guard'
import { createTestIssuer, type TestAlgorithm } from 'bearer-guard/testing'
import { setCryptoBackend } from '../../src/core/keys/backend.js'
import { rejection } from '../helpers/rejection.js'

const ISS = 'https://issuer.test'
const AUD = 'https://api.test'

// A self-signed P-256 certificate and its private key (openssl req -x509 -newkey ec), valid until 2126.
const CERT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdvANUnLDYKF9sfte
KCJ1rxP4aMOoE3qqQLXdhnsgRnuhRANCAASUViXCdeNv103siPQX9TRkmADG00D/
wJSYHRiVqqzwnM7yx0KYb4Kzou394gYqaBJ8NpGeFHcSVE9pkPB+kGAL
-----END PRIVATE KEY-----`
const CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUWbhGGollDMp5vcJQ2PzvlQN9ajwwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRYmVhcmVyLWd1YXJkIHRlc3QwIBcNMjYxMTI3MDU1MTA4WhgP
MjEyNjExMDMwNTUxMDhaMBwxGjAYBgNVBAMMEWJlYXJlci1ndWFyZCB0ZXN0MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAElFYlwnXjb9dN7Ij0F/U0ZJgAxtNA/8CU
mB0Ylaqs8JzO8sdCmG+Cs6Lt/eIGKmgSfDaRnhR3ElRPaZDwfpBgC6NTMFEwHQYD
VR0OBBYEFJRW1XEOcMo5imLl4m2Ba7XW5Xz+MB8GA1UdIwQYMBaAFJRW1XEOcMo5
imLl4m2Ba7XW5Xz+MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
LBI1pRipuNqmupeFdA9VkmRMrRI1Zl/9UIxJew4gbY8CIQDbXoiDojztIDcy+1xa
ChJrOzYKAQSdfnsjiuKbBV1Xgg==
-----END CERTIFICATE-----`

afterEach(() => setCryptoBackend(undefined))

async function sign(key: CryptoKey, alg: string, claims: Record<string, unknown> = {}, kid?: string): Promise<string> {
  return new SignJWT({ sub: 'user-1', ...claims })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key)
}

describe('key sources', () => {
  it.each<TestAlgorithm>(['HS256', 'HS384', 'HS512'])('verifies %s with a shared secret', async (algorithm) => {
    const issuer = await createTestIssuer({ algorithm })
    const verifier = createVerifier(issuer.verifierOptions())
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123' })
  })

  it('verifies with a Uint8Array secret and rejects another secret', async () => {
    const issuer = await createTestIssuer({ algorithm: 'HS256' })
    const secret = new TextEncoder().encode(issuer.secret)
    const token = await issuer.sign()
    await expect(createVerifier({ issuer: ISS, audience: AUD, secret }).verifyAccessToken(token)).resolves.toMatchObject({ subject: 'user-123', issuer: ISS })
    const error = await rejection(createVerifier({ issuer: ISS, audience: AUD, secret: 'x'.repeat(32) }).verifyAccessToken(token))
    expect(error.reason).toBe('signature verification failed')
  })

  it('rejects an HS384 token when only HS256 is allowed', async () => {
    const issuer = await createTestIssuer({ algorithm: 'HS384' })
    const error = await rejection(createVerifier({ issuer: ISS, audience: AUD, secret: issuer.secret! }).verifyAccessToken(await issuer.sign()))
    expect(error.reason).toBe('alg "HS384" is not allowed (allowed: HS256)')
  })

  describe('static keys', () => {
    const cases: [string, (jwks: { keys: import('bearer-guard').JWK[] }) => KeyInput][] = [
      ['one JWK', (j) => j.keys[0]!],
      ['a JWK array', (j) => j.keys],
      ['a JWKS object', (j) => j],
    ]
    it.each(cases)('verifies with %s', async (_what, pick) => {
      const issuer = await createTestIssuer({ algorithm: 'ES256' })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: pick(issuer.jwks()) })
      const token = await issuer.sign({ roles: ['reader'] })
      await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ subject: 'user-123', roles: ['reader'], token })
    })

    it('verifies with a PEM SPKI public key', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: await exportSPKI(publicKey) })
      await expect(verifier.verifyAccessToken(await sign(privateKey, 'RS256'))).resolves.toMatchObject({ subject: 'user-1', header: { alg: 'RS256' } })
    })

    it('verifies with an X.509 certificate PEM', async () => {
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: CERT })
      const privateKey = await importPKCS8(CERT_KEY, 'ES256')
      await expect(verifier.verifyAccessToken(await sign(privateKey, 'ES256'))).resolves.toMatchObject({ subject: 'user-1', header: { alg: 'ES256' } })
    })

    it('verifies with a PEM on the Web Crypto backend (no node:crypto)', async () => {
      setCryptoBackend('web')
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: await exportSPKI(publicKey) })
      await verifier.warmUp()
      await expect(verifier.verifyAccessToken(await sign(privateKey, 'ES256', { n: 1 }))).resolves.toMatchObject({ subject: 'user-1', claims: { n: 1 } })
      const cert = createVerifier({ issuer: ISS, audience: AUD, keys: CERT, algorithms: ['ES256'] })
      await expect(cert.verifyAccessToken(await sign(await importPKCS8(CERT_KEY, 'ES256'), 'ES256', { n: 2 }))).resolves.toMatchObject({ subject: 'user-1', claims: { n: 2 } })
    })

    it('verifies with a web-imported PEM at the first request, without warmUp', async () => {
      setCryptoBackend('web')
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
      const [pem, token] = await Promise.all([exportSPKI(publicKey), sign(privateKey, 'ES256')])
      // verified in the same tick as the verifier is made: the import has not finished yet
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: pem })
      await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ subject: 'user-1', token })
    })

    it('derives the allowed algorithms of a web-imported PEM from the key', async () => {
      setCryptoBackend('web')
      const { publicKey } = await generateKeyPair('ES256', { extractable: true })
      const other = await generateKeyPair('ES384')
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: await exportSPKI(publicKey) })
      const error = await rejection(verifier.verifyAccessToken(await sign(other.privateKey, 'ES384')))
      expect(error.reason).toMatch(/alg "ES384" is not allowed \(allowed: ES256\)/)
    })

    it('rejects a PEM that is not DER on the Web Crypto backend at construction', () => {
      setCryptoBackend('web')
      expect(() =>
        createVerifier({ issuer: ISS, audience: AUD, keys: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', algorithms: ['ES256'] }),
      ).toThrow(/cannot read the PEM key \(not a PEM-encoded DER structure\)/)
    })

    it('rejects a DER structure that is no key on the Web Crypto backend at the first use', async () => {
      setCryptoBackend('web')
      // an empty SEQUENCE: well-formed DER, but no SubjectPublicKeyInfo (Web Crypto imports asynchronously)
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: '-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----', algorithms: ['ES256'] })
      await expect(verifier.warmUp()).rejects.toThrow(/cannot read the PEM key \(not an RSA, EC P-256\/384\/521 or Ed25519 public key\)/)
    })

    it('verifies with a public CryptoKey', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256')
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: publicKey })
      await expect(verifier.verifyAccessToken(await sign(privateKey, 'ES256'))).resolves.toMatchObject({ subject: 'user-1', audience: [AUD] })
    })

    it('rejects a private CryptoKey at construction', async () => {
      const { privateKey } = await generateKeyPair('ES256')
      expect(() => createVerifier({ issuer: ISS, audience: AUD, keys: privateKey })).toThrow(/invalid option "keys": expected a public key/)
    })

    it('allows only the algorithms the static keys can verify by default', async () => {
      const issuer = await createTestIssuer({ algorithm: 'ES256' })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: issuer.jwks() })
      const error = await rejection(verifier.verifyAccessToken(await issuer.sign({}, { algorithm: 'RS256' })))
      expect(error.reason).toBe('alg "RS256" is not allowed (allowed: ES256)')
    })

    it('rejects a token whose kid names no configured key', async () => {
      const issuer = await createTestIssuer({ algorithm: 'ES256', kid: 'k1' })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: issuer.jwks() })
      const error = await rejection(verifier.verifyAccessToken(await issuer.sign({}, { kid: 'k2' })))
      expect(error.reason).toBe('no configured key fits kid "k2" and alg ES256')
    })

    it('tries two static keys without kid for a token that carries a kid (the rotation overlap)', async () => {
      const a = await generateKeyPair('ES256', { extractable: true })
      const b = await generateKeyPair('ES256', { extractable: true })
      const c = await generateKeyPair('ES256', { extractable: true })
      const [jwkA, jwkB] = await Promise.all([exportJWK(a.publicKey), exportJWK(b.publicKey)])
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: [jwkA, jwkB] })
      await expect(verifier.verifyAccessToken(await sign(a.privateKey, 'ES256', {}, 'key-a'))).resolves.toMatchObject({ subject: 'user-1' })
      await expect(verifier.verifyAccessToken(await sign(b.privateKey, 'ES256', {}, 'key-b'))).resolves.toMatchObject({ subject: 'user-1' })
      await expect(verifier.verifyAccessToken(await sign(b.privateKey, 'ES256'))).resolves.toMatchObject({ subject: 'user-1' })
      expect((await rejection(verifier.verifyAccessToken(await sign(c.privateKey, 'ES256', {}, 'key-a')))).reason).toBe('signature verification failed')
    })

    it('tries at most five static keys without kid', async () => {
      const pairs = await Promise.all(Array.from({ length: 6 }, () => generateKeyPair('ES256', { extractable: true })))
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: await Promise.all(pairs.map((p) => exportJWK(p.publicKey))) })
      await expect(verifier.verifyAccessToken(await sign(pairs[4]!.privateKey, 'ES256', { n: 5 }, 'k'))).resolves.toMatchObject({ claims: { n: 5 }, header: { kid: 'k' } })
      expect((await rejection(verifier.verifyAccessToken(await sign(pairs[5]!.privateKey, 'ES256', {}, 'k')))).reason).toBe('signature verification failed')
    })

    it('refuses as ambiguous only a kid that several static keys carry', async () => {
      const a = await generateKeyPair('ES256', { extractable: true })
      const b = await generateKeyPair('ES256', { extractable: true })
      const keys = [{ ...(await exportJWK(a.publicKey)), kid: 'same' }, { ...(await exportJWK(b.publicKey)), kid: 'same' }]
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys })
      expect((await rejection(verifier.verifyAccessToken(await sign(a.privateKey, 'ES256', {}, 'same')))).reason).toBe('kid "same" matches 2 keys: ambiguous')
    })

    it('verifies a token without kid against a static key', async () => {
      const issuer = await createTestIssuer({ algorithm: 'ES256' })
      const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: issuer.jwks() })
      const auth = await verifier.verifyAccessToken(await issuer.sign({}, { kid: undefined }))
      expect(auth.subject).toBe('user-123')
      expect(auth.header).not.toHaveProperty('kid')
    })
  })
})

describe('verifyAccessToken', () => {
  const options = async (overrides: Partial<IssuerOptions> = {}) => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    return { issuer, verifier: createVerifier(issuer.verifierOptions('keys', overrides)) }
  }

  it('rejects a token over maxTokenLength before decoding it', async () => {
    const { verifier } = await options()
    const error = await rejection(verifier.verifyAccessToken('a'.repeat(8193)))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.reason).toBe('token of 8193 bytes exceeds maxTokenLength 8192')
  })

  it('applies a configured maxTokenLength', async () => {
    const { issuer, verifier } = await options({ maxTokenLength: 256 })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign({ pad: 'x'.repeat(300) })))
    expect(error.reason).toMatch(/exceeds maxTokenLength 256/)
  })

  it('rejects a value that is not a string', async () => {
    const { verifier } = await options()
    expect((await rejection(verifier.verifyAccessToken(42 as never))).reason).toBe('token of type number')
  })

  it('turns an unexpected exception into a 401 InvalidTokenError', async () => {
    const { issuer, verifier } = await options({
      rolesClaim: () => {
        throw new RangeError('mapper bug')
      },
    })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.reason).toBe('verification failed: mapper bug')
    expect(error.cause).toBeInstanceOf(RangeError)
  })

  it.each([
    ['two parts', 'a.b', 'not a compact JWS: expected three dot-separated parts'],
    ['four parts', 'a.b.c.d', 'not a compact JWS: too many parts'],
    ['an empty signature', 'eyJhbGciOiJFUzI1NiJ9.e30.', 'a part of the JWS is empty (unsigned tokens are not accepted)'],
    ['a non-base64url part', 'eyJhbGciOiJFUzI1NiJ9.e30=.c2ln', 'a part of the JWS is not base64url'],
    ['a header that is not JSON', 'bm90IGpzb24.e30.c2ln', 'header is not a JSON object'],
    ['a header without alg', 'e30.e30.c2ln', 'header has no alg'],
    ['a payload that is not an object', 'eyJhbGciOiJFUzI1NiJ9.WzFd.c2ln', 'payload is not a JSON object'],
  ])('rejects %s', async (_what, token, reason) => {
    const { verifier } = await options()
    expect((await rejection(verifier.verifyAccessToken(token))).reason).toBe(reason)
  })
})

describe('authenticate', () => {
  it('extracts the bearer token and verifies it', async () => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const token = await issuer.sign()
    await expect(verifier.authenticate(`bearer  ${token}`)).resolves.toMatchObject({ token })
    await expect(verifier.authenticate([`Bearer ${token}`])).resolves.toMatchObject({ token })
  })

  it('answers extraction failures with their own errors', async () => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    await expect(verifier.authenticate(undefined)).rejects.toBeInstanceOf(MissingTokenError)
    await expect(verifier.authenticate('Bearer a b')).rejects.toBeInstanceOf(InvalidRequestError)
  })

  it('returns a frozen verifier', async () => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    expect(Object.isFrozen(createVerifier(issuer.verifierOptions('keys')))).toBe(true)
  })
})
