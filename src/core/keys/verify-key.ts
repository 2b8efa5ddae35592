/**
 * The key model: a `VerifyKey` is one public key, immutable once read. What a crypto backend builds
 * from it (a node:crypto argument, a Web Crypto key) is kept by that backend, keyed by the key; what
 * changes over its life (retired by a JWKS refetch) is its `state`.
 *
 * @module bearer-guard
 */
import { ASYMMETRIC_ALGORITHMS, RSA_BITS } from '../limits.js'
import type { Algorithm, AsymmetricAlgorithm, JWK } from '../types.js'

/** Whether a key still counts: a JWKS refetch that no longer publishes it retires it. */
export interface KeyState {
  readonly retired: boolean
}

/** A public key ready for verification. Frozen: backends keep their imported forms elsewhere. */
export interface VerifyKey {
  readonly kid: string | undefined
  readonly kty: 'RSA' | 'EC' | 'OKP'
  readonly crv: string | undefined
  /** The key's own `alg`, when it declares one. */
  readonly alg: string | undefined
  /** RSA modulus bits. */
  readonly bits: number | undefined
  /** Public JWK (only public members). Absent for a non-extractable CryptoKey. */
  readonly jwk: Readonly<JWK> | undefined
  /** node:crypto `KeyObject`, made when the key is read on a runtime that has node:crypto. */
  readonly node: unknown
  /** The `CryptoKey` the key was given as (option `keys`), used as it is by the Web Crypto backend. */
  readonly cryptoKey: CryptoKey | undefined
  /** Retired once a JWKS refetch drops it: tokens it verified are not served from the token cache. */
  readonly state: KeyState
}

/** A frozen key with its own state. */
export function createVerifyKey(fields: Omit<VerifyKey, 'state'>): VerifyKey {
  return Object.freeze({ ...fields, jwk: fields.jwk && Object.freeze(fields.jwk), state: { retired: false } })
}

/** Marks a key withdrawn by its key source (see `KeyState`). */
export function retire(key: VerifyKey): void {
  ;(key.state as { retired: boolean }).retired = true
}

/** True when `key` may verify a token signed with `alg` (kty, curve, size and the key's own alg). */
export function keyFitsAlgorithm(key: VerifyKey, alg: Algorithm): boolean {
  if (key.alg !== undefined && key.alg !== alg && !(isEdDSA(key.alg) && isEdDSA(alg))) return false
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512': case 'PS256': case 'PS384': case 'PS512':
      return key.kty === 'RSA' && (key.bits === undefined || key.bits >= RSA_BITS.min)
    case 'ES256': return key.kty === 'EC' && key.crv === 'P-256'
    case 'ES384': return key.kty === 'EC' && key.crv === 'P-384'
    case 'ES512': return key.kty === 'EC' && key.crv === 'P-521'
    case 'EdDSA': case 'Ed25519': return key.kty === 'OKP' && key.crv === 'Ed25519'
    default: return false
  }
}

/** Which asymmetric algorithms some key of the set can verify (for the default allowlist of static keys). */
export function algorithmsOf(keys: readonly VerifyKey[]): AsymmetricAlgorithm[] {
  return ASYMMETRIC_ALGORITHMS.filter((alg) => keys.some((k) => keyFitsAlgorithm(k, alg)))
}

/** `key "<kid>"` or `key without kid`, for messages about a JWK. */
export function describeKey(jwk: unknown): string {
  const kid = (jwk as { kid?: unknown } | null)?.kid
  return typeof kid === 'string' ? `key "${kid.slice(0, 64)}"` : 'key without kid'
}

export function isEdDSA(alg: string): boolean {
  return alg === 'EdDSA' || alg === 'Ed25519'
}
