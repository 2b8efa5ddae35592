/**
 * The HTTP floor (bench/http-server.ts's `floor` mode, bench/profile-native.ts's tight loop): the RSA
 * work of a never-seen token and nothing else — `crypto.verify` of the signing input against the
 * signature, decoded from the request's text each time (no JSON, no claim, no key lookup).
 */
import crypto, { type KeyObject } from 'node:crypto'

/** The floor's key: the JWKS' one RSA key as a KeyObject, fetched once at start. */
export async function floorKey(jwksUri: string): Promise<KeyObject> {
  const { keys } = (await (await fetch(jwksUri)).json()) as { keys: crypto.JsonWebKey[] }
  return crypto.createPublicKey({ key: keys[0] as crypto.JsonWebKey, format: 'jwk' })
}

/**
 * The floor's whole check: `text` from `start` (7 for an `Authorization: Bearer …` value) is a compact
 * JWS; `crypto.verify` of its signing input against its signature, split at the last dot.
 */
export function floorVerify(key: KeyObject, text: string | undefined, start = 0): boolean {
  if (!text) return false
  const dot = text.lastIndexOf('.')
  if (dot < start) return false
  return crypto.verify('sha256', Buffer.from(text.slice(start, dot)), key, Buffer.from(text.slice(dot + 1), 'base64url'))
}
