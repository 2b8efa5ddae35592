/**
 * The public key of a DPoP proof's `jwk` header (RFC 9449 §4.2): refused with a private or
 * symmetric member, reduced to its required public members, and its RFC 7638 thumbprint — the
 * value a bound token's `cnf.jkt` names.
 *
 * @module bearer-guard
 */
import { chain, type MaybePromise } from '../engine/maybe-promise.js'
import { encodeBase64url, sha256 } from '../keys/digest.js'

/** Members that only a private or symmetric JWK has (RFC 7517, RFC 7518 §6, RFC 8037). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

/**
 * The required public members of `jwk` in the order RFC 7638 §3.2 hashes them, as a JSON text,
 * or why the key is refused.
 */
export function publicJwkText(jwk: unknown): { text: string; jwk: Record<string, string> } | { refused: string } {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return { refused: 'jwk header missing or not an object' }
  const k = jwk as Record<string, unknown>
  for (const member of PRIVATE_MEMBERS) if (k[member] !== undefined) return { refused: `jwk has the private member "${member}"` }
  const str = (name: string) => (typeof k[name] === 'string' && (k[name] as string).length > 0 && (k[name] as string).length <= 4096 ? (k[name] as string) : undefined)
  switch (k.kty) {
    case 'EC': {
      const crv = str('crv'), x = str('x'), y = str('y')
      if (!crv || !x || !y) return { refused: 'EC jwk without crv/x/y' }
      return { text: `{"crv":${JSON.stringify(crv)},"kty":"EC","x":${JSON.stringify(x)},"y":${JSON.stringify(y)}}`, jwk: { kty: 'EC', crv, x, y } }
    }
    case 'RSA': {
      const e = str('e'), n = str('n')
      if (!e || !n) return { refused: 'RSA jwk without n/e' }
      return { text: `{"e":${JSON.stringify(e)},"kty":"RSA","n":${JSON.stringify(n)}}`, jwk: { kty: 'RSA', n, e } }
    }
    case 'OKP': {
      const crv = str('crv'), x = str('x')
      if (!crv || !x) return { refused: 'OKP jwk without crv/x' }
      return { text: `{"crv":${JSON.stringify(crv)},"kty":"OKP","x":${JSON.stringify(x)}}`, jwk: { kty: 'OKP', crv, x } }
    }
    default:
      return { refused: `jwk of kty ${JSON.stringify(String(k.kty)).slice(0, 20)}: a proof is signed with an asymmetric key` }
  }
}

/** The RFC 7638 SHA-256 thumbprint (base64url) of a JWK given as its `publicJwkText`. */
export function thumbprintOf(text: string): MaybePromise<string> {
  return chain(sha256(text), encodeBase64url)
}
