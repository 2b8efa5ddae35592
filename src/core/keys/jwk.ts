/**
 * Reading a JWK for signature verification: its use, `key_ops`, `alg`, type and curve, the weak-key
 * checks, then its public members only. A key that does not pass is skipped with the reason, never
 * thrown: one bad key does not spoil a key set.
 *
 * @module bearer-guard
 */
import { decodeBase64url, isBase64url } from '../base64url.js'
import { ASYMMETRIC_ALGORITHMS } from '../limits.js'
import type { JWK } from '../types.js'
import { nodeCrypto } from './backend.js'
import { createVerifyKey, type VerifyKey } from './verify-key.js'
import { hasRocaFingerprint, isOnCurve, modulusBits, rsaWeakness } from './weak-keys.js'

/** Curves of EC keys: the algorithm each verifies, and its coordinate size in bytes. */
export const EC_CURVES: Record<string, { alg: string; size: number }> = {
  'P-256': { alg: 'ES256', size: 32 },
  'P-384': { alg: 'ES384', size: 48 },
  'P-521': { alg: 'ES512', size: 66 },
}

/**
 * Why a JWK was skipped, or the key. `otherUse`: a key for another use or of a type bearer-guard
 * does not verify with (an encryption key, an HMAC key, another curve) — skipped as expected, not a
 * defect of the key set (a JWKS often publishes encryption keys beside the signing keys).
 */
export type KeyResult = { key: VerifyKey } | { skipped: string; otherUse?: true }

/**
 * Validates a JWK for signature verification and keeps its public members.
 * Skips (never throws): symmetric and unknown key types, `use` other than `sig`, `key_ops` without
 * `verify`, RSA under 2048 bits or with an unusable exponent, unknown curves, wrong coordinate sizes,
 * and keys the platform cannot import (e.g. a point not on the curve).
 */
export function keyFromJwk(input: unknown): KeyResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { skipped: 'not an object' }
  const jwk = input as Record<string, unknown>
  const kid = jwk.kid
  if (kid !== undefined && typeof kid !== 'string') return { skipped: 'kid is not a string' }
  if (jwk.use !== undefined && jwk.use !== 'sig') return { skipped: `use "${String(jwk.use)}"`, otherUse: true }
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return { skipped: 'key_ops without verify', otherUse: true }
  }
  const alg = jwk.alg
  if (alg !== undefined && (typeof alg !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))) {
    return { skipped: `alg "${String(alg)}" is not an asymmetric signature algorithm`, otherUse: true }
  }
  let pub: JWK
  let bits: number | undefined
  let crv: string | undefined
  switch (jwk.kty) {
    case 'RSA': {
      if (!isB64(jwk.n) || !isB64(jwk.e)) return { skipped: 'RSA key without n/e' }
      const n = decodeBase64url(jwk.n)
      const weakness = rsaWeakness(n, decodeBase64url(jwk.e))
      if (weakness) return { skipped: weakness }
      if (alg !== undefined && !/^(RS|PS)/.test(alg as string)) return { skipped: `RSA key with alg ${String(alg)}` }
      if (hasRocaFingerprint(n)) return { skipped: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361): factorable' }
      bits = modulusBits(n)
      pub = { kty: 'RSA', n: jwk.n, e: jwk.e }
      break
    }
    case 'EC': {
      const curve = EC_CURVES[jwk.crv as string]
      if (!curve) return { skipped: `EC curve "${String(jwk.crv)}"`, otherUse: true }
      if (!isB64(jwk.x) || !isB64(jwk.y)) return { skipped: 'EC key without x/y' }
      if (decodeBase64url(jwk.x).length !== curve.size || decodeBase64url(jwk.y).length !== curve.size) {
        return { skipped: 'EC coordinates of the wrong size' }
      }
      if (alg !== undefined && alg !== curve.alg) return { skipped: `EC ${String(jwk.crv)} key with alg ${String(alg)}` }
      if (!isOnCurve(jwk.crv as string, decodeBase64url(jwk.x), decodeBase64url(jwk.y))) {
        return { skipped: 'cannot import: the point is not on the curve' }
      }
      crv = jwk.crv as string
      pub = { kty: 'EC', crv, x: jwk.x, y: jwk.y }
      break
    }
    case 'OKP': {
      if (jwk.crv !== 'Ed25519') return { skipped: `OKP curve "${String(jwk.crv)}"`, otherUse: true }
      if (!isB64(jwk.x) || decodeBase64url(jwk.x).length !== 32) return { skipped: 'Ed25519 key with a bad x' }
      if (alg !== undefined && alg !== 'EdDSA' && alg !== 'Ed25519') return { skipped: `Ed25519 key with alg ${String(alg)}` }
      crv = 'Ed25519'
      pub = { kty: 'OKP', crv, x: jwk.x }
      break
    }
    default:
      return { skipped: `kty "${String(jwk.kty)}"`, otherUse: true }
  }
  let node: unknown
  const nc = nodeCrypto()
  if (nc) {
    try {
      node = nc.createPublicKey({ key: pub as never, format: 'jwk' })
    } catch (error) {
      return { skipped: `cannot import: ${(error as Error).message}` }
    }
  }
  const kty = pub.kty as VerifyKey['kty']
  return { key: createVerifyKey({ kid, kty, crv, alg: alg as string | undefined, bits, jwk: pub, node, cryptoKey: undefined }) }
}

function isB64(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 4096 && isBase64url(v)
}
