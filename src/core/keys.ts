/**
 * Verification keys: JWK filtering (use, key_ops, RSA size and exponent, curves), import from PEM,
 * KeyObject and CryptoKey, and which key fits which algorithm.
 *
 * @module bearer-guard
 */
import { exportJWK, importSPKI, importX509 } from 'jose'
import type { JWK } from 'jose'
import { decodeBase64url, isBase64url } from './base64url.js'
import { nodeCrypto } from './crypto.js'
import { ASYMMETRIC_ALGORITHMS } from './limits.js'
import type { Algorithm, AsymmetricAlgorithm, KeyInput } from './types.js'

/** A public key ready for verification. Imported forms are cached per algorithm. */
export interface VerifyKey {
  kid: string | undefined
  kty: 'RSA' | 'EC' | 'OKP'
  crv: string | undefined
  /** The key's own `alg`, when it declares one. */
  alg: string | undefined
  /** RSA modulus bits. */
  bits: number | undefined
  /** Public JWK (only public members). Absent for a non-extractable CryptoKey. */
  jwk: JWK | undefined
  /** Node fast path. */
  node: unknown
  /** Node fast path: `crypto.verify`'s key argument per algorithm (the KeyObject, or it with options), built once. */
  nodeArgs?: Record<string, unknown>
  /** Web Crypto keys by algorithm. */
  web: Map<string, CryptoKey | Promise<CryptoKey>>
  /**
   * Set when a JWKS refetch no longer publishes the key: tokens it verified are not served from
   * the verified-token cache any more. Static keys are never retired.
   */
  retired: boolean
}


const EC_CURVES: Record<string, { alg: string; size: number }> = {
  'P-256': { alg: 'ES256', size: 32 },
  'P-384': { alg: 'ES384', size: 48 },
  'P-521': { alg: 'ES512', size: 66 },
}
const MIN_RSA_BITS = 2048
const MAX_RSA_BITS = 16384

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
      const n = stripZeros(decodeBase64url(jwk.n))
      bits = n.length === 0 ? 0 : (n.length - 1) * 8 + bitLength(n[0] as number)
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return { skipped: `RSA modulus of ${bits} bits` }
      const e = stripZeros(decodeBase64url(jwk.e))
      if (e.length === 0 || e.length > 4 || ((e[e.length - 1] as number) & 1) === 0 || (e.length === 1 && (e[0] as number) < 3)) {
        return { skipped: 'RSA exponent unusable' }
      }
      if (alg !== undefined && !/^(RS|PS)/.test(alg as string)) return { skipped: `RSA key with alg ${String(alg)}` }
      if (hasRocaFingerprint(n)) return { skipped: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361): factorable' }
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
  return {
    key: { kid, kty: pub.kty as VerifyKey['kty'], crv, alg: alg as string | undefined, bits, jwk: pub, node, web: new Map(), retired: false },
  }
}

/** True when `key` may verify a token signed with `alg` (kty, curve, size and the key's own alg). */
export function keyFitsAlgorithm(key: VerifyKey, alg: Algorithm): boolean {
  if (key.alg !== undefined && key.alg !== alg && !(isEdDSA(key.alg) && isEdDSA(alg))) return false
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512': case 'PS256': case 'PS384': case 'PS512':
      return key.kty === 'RSA' && (key.bits === undefined || key.bits >= MIN_RSA_BITS)
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

/**
 * Imports static keys: JWK, JWK[], `{ keys }`, a PEM SPKI public key or X.509 certificate,
 * a Node `KeyObject` or a `CryptoKey`. Synchronous except for PEM where `node:crypto` is absent.
 * Throws `TypeError` when nothing usable is left; `onSkipped` hears of each key skipped otherwise.
 */
export function importStaticKeys(input: KeyInput, onSkipped?: (who: string, why: string) => void): VerifyKey[] | Promise<VerifyKey[]> {
  if (typeof input === 'string') {
    const nc = nodeCrypto()
    if (nc) {
      let jwk: JWK
      try {
        jwk = nc.createPublicKey(input).export({ format: 'jwk' }) as JWK
      } catch (error) {
        throw new TypeError(`bearer-guard: invalid option "keys": cannot read the PEM key (${(error as Error).message})`)
      }
      return fromJwks([jwk])
    }
    // without node:crypto the import is asynchronous; refuse what is not even a DER structure now
    if (!looksLikePem(input)) {
      throw new TypeError('bearer-guard: invalid option "keys": cannot read the PEM key (not a PEM-encoded DER structure)')
    }
    return pemToJwkWeb(input).then((jwk) => fromJwks([jwk]))
  }
  if (isCryptoKey(input)) {
    if (input.type !== 'public') throw new TypeError('bearer-guard: invalid option "keys": expected a public key')
    return [fromCryptoKey(input)]
  }
  if (isKeyObject(input)) {
    const ko = input as unknown as { type: string; export(o: { format: 'jwk' }): JWK }
    if (ko.type !== 'public') throw new TypeError('bearer-guard: invalid option "keys": expected a public KeyObject')
    return fromJwks([ko.export({ format: 'jwk' })])
  }
  if (Array.isArray(input)) return fromJwks(input, onSkipped)
  if (typeof input === 'object' && input !== null && Array.isArray((input as { keys?: unknown }).keys)) {
    return fromJwks((input as { keys: unknown[] }).keys, onSkipped)
  }
  return fromJwks([input])
}

function fromJwks(jwks: readonly unknown[], onSkipped?: (who: string, why: string) => void): VerifyKey[] {
  const keys: VerifyKey[] = []
  const skipped: { who: string; why: string }[] = []
  for (const jwk of jwks) {
    const result = keyFromJwk(jwk)
    if ('key' in result) keys.push(result.key)
    else skipped.push({ who: describeKey(jwk), why: result.skipped })
  }
  if (keys.length === 0) {
    throw new TypeError(`bearer-guard: invalid option "keys": no usable verification key (${skipped.map((s) => s.why).join('; ') || 'empty'})`)
  }
  if (onSkipped) for (const { who, why } of skipped) onSkipped(who, why)
  return keys
}

/** `key "<kid>"` or `key without kid`, for messages about a JWK. */
export function describeKey(jwk: unknown): string {
  const kid = (jwk as { kid?: unknown } | null)?.kid
  return typeof kid === 'string' ? `key "${kid.slice(0, 64)}"` : 'key without kid'
}

/**
 * One algorithm per kind of public key, to import a PEM with Web Crypto, which needs one: the
 * algorithm only finds the key's type, it does not restrict the key (see `pemToJwkWeb`).
 */
const PEM_PROBES = ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

/**
 * Reads a PEM with Web Crypto into a public JWK without `alg`: node:crypto reads the same PEM into
 * the same JWK, so one key verifies the same algorithms on every runtime (an RSA key: RS* and PS*).
 */
async function pemToJwkWeb(pem: string): Promise<JWK> {
  const isCert = pem.includes('-----BEGIN CERTIFICATE-----')
  for (const alg of PEM_PROBES) {
    let jwk: JWK
    try {
      const key = isCert ? await importX509(pem, alg, { extractable: true }) : await importSPKI(pem, alg, { extractable: true })
      jwk = await exportJWK(key)
    } catch {
      continue // another kind of key: try the next
    }
    // what Web Crypto adds for the probe's algorithm, and node:crypto does not
    const { alg: _alg, key_ops: _ops, ext: _ext, use: _use, ...pub } = jwk
    return pub
  }
  throw new TypeError('bearer-guard: invalid option "keys": cannot read the PEM key (not an RSA, EC P-256/384/521 or Ed25519 public key)')
}

function fromCryptoKey(key: CryptoKey): VerifyKey {
  const a = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number }
  const hashBits = a.hash?.name.replace('SHA-', '')
  let kty: VerifyKey['kty']
  let alg: string | undefined
  let crv: string | undefined
  switch (a.name) {
    case 'RSASSA-PKCS1-v1_5': kty = 'RSA'; alg = `RS${hashBits}`; break
    case 'RSA-PSS': kty = 'RSA'; alg = `PS${hashBits}`; break
    case 'ECDSA': kty = 'EC'; crv = a.namedCurve; alg = crv ? EC_CURVES[crv]?.alg : undefined; break
    case 'Ed25519': kty = 'OKP'; crv = 'Ed25519'; alg = 'EdDSA'; break
    default: throw new TypeError(`bearer-guard: invalid option "keys": unsupported CryptoKey algorithm ${a.name}`)
  }
  if (kty === 'RSA' && (a.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new TypeError(`bearer-guard: invalid option "keys": RSA key of ${a.modulusLength} bits (minimum ${MIN_RSA_BITS})`)
  }
  const web = new Map<string, CryptoKey>([[alg as string, key]])
  if (alg === 'EdDSA') web.set('Ed25519', key)
  return { kid: undefined, kty, crv, alg, bits: a.modulusLength, jwk: undefined, node: undefined, web, retired: false }
}

function isEdDSA(alg: string): boolean {
  return alg === 'EdDSA' || alg === 'Ed25519'
}

function isB64(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 4096 && isBase64url(v)
}

function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  return bytes.subarray(i)
}

function bitLength(byte: number): number {
  let n = 0
  while (byte > 0) { n++; byte >>= 1 }
  return n
}

function isCryptoKey(v: unknown): v is CryptoKey {
  return typeof CryptoKey !== 'undefined' && v instanceof CryptoKey
}

function isKeyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { export?: unknown }).export === 'function' &&
    typeof (v as { asymmetricKeyType?: unknown }).asymmetricKeyType === 'string'
}

/** Short Weierstrass parameters (a = p - 3) of the NIST curves JWS uses. */
const CURVE_PARAMS: Record<string, { p: bigint; b: bigint }> = {
  'P-256': {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
}

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (const byte of bytes) n = (n << 8n) | BigInt(byte)
  return n
}

/**
 * True when (x, y) is a point of the curve: y² = x³ - 3x + b (mod p), with x, y < p. Checked on
 * every backend, so an invalid-curve key is skipped when the JWKS is read, not at first use.
 */
export function isOnCurve(crv: string, xBytes: Uint8Array, yBytes: Uint8Array): boolean {
  const params = CURVE_PARAMS[crv]
  if (!params) return false
  const { p, b } = params
  const x = toBigInt(xBytes)
  const y = toBigInt(yBytes)
  if (x >= p || y >= p) return false
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n
}

/** A PEM block whose body is base64 of a DER SEQUENCE with a consistent length. */
function looksLikePem(pem: string): boolean {
  const match = /-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\s]+)-----END \1-----/.exec(pem)
  if (!match) return false
  let der: string
  try {
    der = atob((match[2] as string).replace(/\s+/g, ''))
  } catch {
    return false
  }
  if (der.length < 2 || der.charCodeAt(0) !== 0x30) return false
  const first = der.charCodeAt(1)
  if (first < 0x80) return der.length === 2 + first
  const count = first & 0x7f
  if (count === 0 || count > 4 || der.length < 2 + count) return false
  let length = 0
  for (let i = 0; i < count; i++) length = length * 256 + der.charCodeAt(2 + i)
  return der.length === 2 + count + length
}

/**
 * The ROCA fingerprint (Nemec et al., CCS 2017; CVE-2017-15361): moduli made by Infineon's vulnerable
 * key generator are, modulo each of these small primes, a power of 65537. An ordinary modulus passes
 * all of them by chance with probability below 2^-150. Checked once, when a key is read.
 */
const ROCA_PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
  103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
]
let rocaSubgroups: { p: bigint; powers: Set<number> }[] | undefined

function hasRocaFingerprint(modulus: Uint8Array): boolean {
  rocaSubgroups ??= ROCA_PRIMES.map((p) => {
    const powers = new Set<number>()
    for (let x = 1; !powers.has(x); x = (x * (65537 % p)) % p) powers.add(x)
    return { p: BigInt(p), powers }
  })
  const n = toBigInt(modulus)
  return rocaSubgroups.every(({ p, powers }) => powers.has(Number(n % p)))
}
