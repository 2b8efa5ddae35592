/**
 * What the auth service's tests (test/examples/auth-service-*.test.ts) share: a test config, form
 * posts over real sockets, and DPoP proofs built with jose where a test needs to get one wrong on
 * purpose (proofs built by an independent client come from oauth4webapi in the tests themselves).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { createHash, randomUUID } from 'node:crypto'
import { configFromEnv, type AuthServiceConfig } from '../../examples/auth-service/config.js'

/** The service's defaults with an in-memory database, no rate limit to speak of and no logs. */
export function testConfig(overrides: Partial<AuthServiceConfig> = {}, env: Record<string, string> = {}): AuthServiceConfig {
  return {
    ...configFromEnv(env),
    databaseFile: ':memory:',
    rateLimitPerMinute: 1000,
    log: () => {},
    ...overrides,
  }
}

export interface Answer {
  status: number
  headers: Headers
  body: Record<string, any>
  text: string
}

/** POSTs a form (fields, or a raw body) and reads the JSON answer. */
export async function post(
  url: string,
  fields: Record<string, string> | URLSearchParams | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body =
    typeof fields === 'string' ? fields : fields instanceof URLSearchParams ? fields.toString() : new URLSearchParams(fields).toString()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  })
  const text = await res.text()
  let parsed: Record<string, any> = {}
  try {
    parsed = text ? JSON.parse(text) : {}
  } catch {
    /* not JSON: the test reads `text` */
  }
  return { status: res.status, headers: res.headers, body: parsed, text }
}

export async function get(url: string): Promise<Answer> {
  const res = await fetch(url)
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text }
}

export const decode = (jwt: string, part: 0 | 1 = 1) =>
  JSON.parse(Buffer.from(jwt.split('.')[part]!, 'base64url').toString())

export interface ProofKey {
  pair: CryptoKeyPair
  publicJwk: JWK
  /** RFC 7638 thumbprint (SHA-256) of the public key. */
  jkt: string
  alg: string
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const pair = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(pair.publicKey)
  return { pair, publicJwk, jkt: await calculateJwkThumbprint(publicJwk), alg }
}

export const accessTokenHash = (token: string) => createHash('sha256').update(token).digest('base64url')

/**
 * A DPoP proof signed with jose: a valid one for `htm`/`htu` unless `claims` or `header`
 * override something (`undefined` removes a claim).
 */
export async function dpopProof(
  key: ProofKey,
  htm: string,
  htu: string,
  { claims = {}, header = {} }: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const payload: Record<string, unknown> = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...claims }
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
  const protectedHeader = { alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...header }
  return new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(key.pair.privateKey)
}
