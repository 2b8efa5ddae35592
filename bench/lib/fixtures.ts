/**
 * Benchmark fixtures: keys per algorithm, realistic access tokens signed with `node:crypto`
 * (fast, so pools of never-seen tokens are cheap), and a loopback JWKS server.
 */
import crypto, { type KeyObject } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'] as const
export type BenchAlg = (typeof ALGS)[number]

export const ISSUER = 'https://auth.example.com/'
export const AUDIENCE = 'https://api.example.com'

export interface AlgFixture {
  alg: BenchAlg
  kid: string
  /** Asymmetric: the public KeyObject; HS256: the secret KeyObject. */
  publicKey: KeyObject
  privateKey: KeyObject
  /** HS256 only: the raw secret. */
  secret?: Buffer
  publicPem?: string
  publicJwk?: crypto.JsonWebKey & { kid: string; alg: string; use: string }
}

export function createFixture(alg: BenchAlg): AlgFixture {
  const kid = `bench-${alg.toLowerCase()}`
  switch (alg) {
    case 'RS256':
    case 'PS256': {
      const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      return withJwk({ alg, kid, publicKey, privateKey })
    }
    case 'ES256': {
      const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      return withJwk({ alg, kid, publicKey, privateKey })
    }
    case 'EdDSA': {
      const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519')
      return withJwk({ alg, kid, publicKey, privateKey })
    }
    case 'HS256': {
      // an ASCII secret (43 bytes), so peers that take a string secret use the same bytes
      const secret = Buffer.from(crypto.randomBytes(32).toString('base64url'))
      const key = crypto.createSecretKey(secret)
      return { alg, kid, publicKey: key, privateKey: key, secret }
    }
  }
}

function withJwk(f: AlgFixture): AlgFixture {
  f.publicPem = f.publicKey.export({ type: 'spki', format: 'pem' }) as string
  f.publicJwk = { ...f.publicKey.export({ format: 'jwk' }), kid: f.kid, alg: f.alg, use: 'sig' }
  return f
}

const b64 = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url')

/** Raw signature for a signing input, in JWS form (ECDSA as r||s). */
export function signRaw(f: AlgFixture, input: Buffer): Buffer {
  switch (f.alg) {
    case 'RS256':
      return crypto.sign('sha256', input, f.privateKey)
    case 'PS256':
      return crypto.sign('sha256', input, {
        key: f.privateKey,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
      })
    case 'ES256':
      return crypto.sign('sha256', input, { key: f.privateKey, dsaEncoding: 'ieee-p1363' })
    case 'EdDSA':
      return crypto.sign(null, input, f.privateKey)
    case 'HS256':
      return crypto.createHmac('sha256', f.privateKey).update(input).digest()
  }
}

let serial = 0

/** Realistic claims, ~300 bytes of JSON: an Auth0/Keycloak-like access token. */
export function claims(now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  serial++
  return {
    iss: ISSUER,
    sub: `auth0|5f7c8ec7c33c6c00${(100000 + (serial % 900000)).toString(16)}`,
    aud: [AUDIENCE, 'https://auth.example.com/userinfo'],
    iat: now,
    exp: now + 3600,
    azp: 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56',
    scope: 'openid profile email read:orders write:orders',
    roles: ['user', 'billing'],
    tenant: 'acme',
    jti: crypto.randomUUID(),
  }
}

export function signToken(f: AlgFixture, payload: Record<string, unknown> = claims()): string {
  const header = { alg: f.alg, typ: 'JWT', kid: f.kid }
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`
  return flat(`${input}.${b64(signRaw(f, Buffer.from(input)))}`)
}

/**
 * A flat copy of a string. Concatenation makes a rope (V8 ConsString) that the first reader must
 * flatten, ~2 µs for a token: a token read from an HTTP header is flat, so the benchmark's are too.
 */
export function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1')
}

export function signTokens(f: AlgFixture, count: number): string[] {
  const now = Math.floor(Date.now() / 1000)
  const out = new Array<string>(count)
  for (let i = 0; i < count; i++) out[i] = signToken(f, claims(now))
  return out
}

/** The pre-decoded input of the node:crypto floor: signing input and signature as bytes. */
export interface Decoded {
  data: Buffer
  sig: Buffer
}

export function predecode(token: string): Decoded {
  const i = token.lastIndexOf('.')
  return { data: Buffer.from(token.slice(0, i), 'latin1'), sig: Buffer.from(token.slice(i + 1), 'base64url') }
}

/** `crypto.verify` (or HMAC + timingSafeEqual) on pre-decoded input: the floor. */
export function floorVerifier(f: AlgFixture): (d: Decoded) => boolean {
  const key = f.publicKey
  switch (f.alg) {
    case 'RS256':
      return (d) => crypto.verify('sha256', d.data, key, d.sig)
    case 'PS256': {
      const k = { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
      return (d) => crypto.verify('sha256', d.data, k, d.sig)
    }
    case 'ES256': {
      const k = { key, dsaEncoding: 'ieee-p1363' as const }
      return (d) => crypto.verify('sha256', d.data, k, d.sig)
    }
    case 'EdDSA':
      return (d) => crypto.verify(null, d.data, key, d.sig)
    case 'HS256':
      return (d) => crypto.timingSafeEqual(crypto.createHmac('sha256', key).update(d.data).digest(), d.sig)
  }
}

export interface JwksServer {
  origin: string
  /** JWKS URL serving only this algorithm's key. */
  jwksUri(alg: BenchAlg): string
  requests: number
  close(): Promise<void>
}

/** Serves `/jwks/<alg>` (one key) and `/jwks` (all keys) on 127.0.0.1. */
export async function startJwksServer(fixtures: readonly AlgFixture[]): Promise<JwksServer> {
  const byAlg = new Map(fixtures.filter((f) => f.publicJwk).map((f) => [f.alg as string, f.publicJwk]))
  const state = { requests: 0 }
  const server = http.createServer((req, res) => {
    state.requests++
    const alg = req.url?.split('/')[2]
    const keys = alg ? [byAlg.get(alg)].filter(Boolean) : [...byAlg.values()]
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
    res.end(JSON.stringify({ keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    jwksUri: (alg) => `${origin}/jwks/${alg}`,
    get requests() {
      return state.requests
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
