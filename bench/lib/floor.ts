/**
 * The HTTP floor (bench/http-server.ts's `floor` mode, bench/profile-native.ts's tight loop): the RSA
 * work of a never-seen token and nothing else — `crypto.verify` of the signing input against the
 * signature, decoded from the request's text each time (no JSON, no claim, no key lookup).
 */
import crypto, { type KeyObject } from 'node:crypto'

/** The floor's key: the JWKS' one RSA key as a KeyObject, fetched once at start. */
export async function floorKey(jwksUri: string): Promise<KeyObject> {
  return (await firstKey(jwksUri)).key
}

/** The JWKS' first key, as a KeyObject, and its `kid`. */
async function firstKey(jwksUri: string): Promise<{ key: KeyObject; kid: string | undefined }> {
  const { keys } = (await (await fetch(jwksUri)).json()) as { keys: (crypto.JsonWebKey & { kid?: string })[] }
  const jwk = keys[0] as crypto.JsonWebKey & { kid?: string }
  return { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }), kid: jwk.kid }
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

/**
 * The least a JWT check is (bench/http-server.ts's `min` mode): the floor's `crypto.verify`, plus what
 * any verifier must do besides — split the three parts, decode and parse the header and the payload,
 * compare the header's `alg` and `kid`, the payload's `iss`, `aud`, `exp` and `nbf`. Nothing else: no
 * JWKS fetcher, no canonical base64url or duplicate-member check, no `typ`, no copy, no freezing, no
 * cache. A lower bound for any verifier inside the server, never a verifier to use.
 */
export async function minimalCheck(jwksUri: string, issuer: string, audience: string): Promise<(text: string | undefined) => Record<string, unknown> | undefined> {
  const { key, kid } = await firstKey(jwksUri)
  return (text) => {
    if (!text?.startsWith('Bearer ')) return undefined
    const d1 = text.indexOf('.', 7)
    const d2 = d1 === -1 ? -1 : text.indexOf('.', d1 + 1)
    if (d2 === -1 || text.indexOf('.', d2 + 1) !== -1) return undefined
    let header: { alg?: unknown; kid?: unknown } | null
    let payload: { iss?: unknown; aud?: unknown; exp?: unknown; nbf?: unknown } | null
    try {
      header = JSON.parse(Buffer.from(text.slice(7, d1), 'base64url').toString('utf8'))
      payload = JSON.parse(Buffer.from(text.slice(d1 + 1, d2), 'base64url').toString('utf8'))
    } catch {
      return undefined
    }
    if (header?.alg !== 'RS256' || header.kid !== kid || typeof payload !== 'object' || payload === null) return undefined
    const now = Date.now() / 1000
    const aud = payload.aud
    if (payload.iss !== issuer || !(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) return undefined
    if (typeof payload.exp !== 'number' || payload.exp <= now || (payload.nbf !== undefined && !(typeof payload.nbf === 'number' && payload.nbf <= now))) return undefined
    if (!crypto.verify('sha256', Buffer.from(text.slice(7, d2)), key, Buffer.from(text.slice(d2 + 1), 'base64url'))) return undefined
    return payload as Record<string, unknown>
  }
}
