/**
 * Hand-made tokens for attack tests: any header, any payload bytes, a real signature over exactly
 * what is sent. Web Crypto only, so the helpers run on Node and in the edge-runtime environment.
 */
import { base64url, exportJWK, generateKeyPair, type JWK } from 'jose'
import { expect } from 'vitest'
import type { AuthError } from 'bearer-guard'
import { rejection } from './rejection.js'

export type ForgeAlgorithm =
  | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512'

/** A signing key of the test: the private half, and the public JWK a verifier is given. */
export interface ForgeKey {
  alg: ForgeAlgorithm
  kid: string
  privateKey: CryptoKey | Uint8Array
  publicJwk: JWK | undefined
}

const encoder = new TextEncoder()

export const ISSUER = 'https://issuer.forge.test'
export const AUDIENCE = 'https://api.forge.test'

export function b64(input: string | Uint8Array): string {
  return base64url.encode(input)
}

export function b64json(value: unknown): string {
  return b64(JSON.stringify(value))
}

/** Claims of a token that is valid now (iss, aud, sub, iat, exp in 5 minutes). */
export function validClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 300, ...extra }
}

export async function generateKey(alg: ForgeAlgorithm, kid: string, modulusLength?: number): Promise<ForgeKey> {
  if (alg.startsWith('HS')) {
    const bytes = crypto.getRandomValues(new Uint8Array(Number(alg.slice(2)) / 8))
    return { alg, kid, privateKey: bytes, publicJwk: undefined }
  }
  if (modulusLength !== undefined) {
    // jose refuses to make small RSA keys; Web Crypto does not
    const pair = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const jwk = await exportJWK(pair.publicKey)
    return { alg, kid, privateKey: pair.privateKey, publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg, use: 'sig' } }
  }
  const pair = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(pair.publicKey)
  return { alg, kid, privateKey: pair.privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } }
}

/** Signs `data` with `alg` (Web Crypto; ECDSA gives the JOSE r||s form). */
export async function rawSign(alg: string, key: CryptoKey | Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const bits = alg.slice(-3)
  const hash = `SHA-${bits === 'DSA' ? '512' : bits}`
  if (key instanceof Uint8Array) {
    const k = await crypto.subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash }, false, ['sign'])
    return new Uint8Array(await crypto.subtle.sign('HMAC', k, data as BufferSource))
  }
  let params: AlgorithmIdentifier | RsaPssParams | EcdsaParams
  switch (alg.slice(0, 2)) {
    case 'RS': params = { name: 'RSASSA-PKCS1-v1_5' }; break
    case 'PS': params = { name: 'RSA-PSS', saltLength: Number(bits) / 8 } as RsaPssParams; break
    case 'ES': params = { name: 'ECDSA', hash } as EcdsaParams; break
    default: params = { name: 'Ed25519' }
  }
  return new Uint8Array(await crypto.subtle.sign(params, key, data as BufferSource))
}

export interface ForgeInput {
  /** Protected header; `alg` and `kid` default to the key's. */
  header?: Record<string, unknown>
  /** Claims (serialized as JSON), or the exact payload bytes/string. Default: `validClaims()`. */
  claims?: Record<string, unknown>
  payload?: string | Uint8Array
  /** Sign with this algorithm (default: the key's). */
  signAlg?: string
}

/** A compact JWS signed with `key` over exactly the header and payload given. */
export async function forge(key: ForgeKey, input: ForgeInput = {}): Promise<string> {
  const header = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...input.header }
  const payload = input.payload ?? JSON.stringify(input.claims ?? validClaims())
  const signingInput = `${b64json(header)}.${b64(payload)}`
  const sig = await rawSign(input.signAlg ?? key.alg, key.privateKey, encoder.encode(signingInput))
  return `${signingInput}.${b64(sig)}`
}

/** The three parts of a compact token. */
export function parts(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.')
  return [h, p, s]
}

export interface Refusal {
  /** Error class (default `AuthError`). */
  error?: abstract new (...args: never[]) => AuthError
  status?: number
  code?: string
  /** A meaningful part of `reason`. */
  reason: RegExp | string
  claim?: string
}

/** Awaits a refusal and checks the error's class, status, code and reason. Returns the error. */
export async function expectRefused(promise: Promise<unknown>, expected: Refusal): Promise<AuthError> {
  const error = await rejection(promise)
  if (expected.error) expect(error).toBeInstanceOf(expected.error)
  expect(error.status).toBe(expected.status ?? 401)
  expect(error.code).toBe(expected.code ?? 'invalid_token')
  if (typeof expected.reason === 'string') expect(error.reason).toContain(expected.reason)
  else expect(error.reason).toMatch(expected.reason)
  if (expected.claim !== undefined) expect((error as AuthError & { claim?: string }).claim).toBe(expected.claim)
  return error
}
