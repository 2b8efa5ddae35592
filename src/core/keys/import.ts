/**
 * Static keys (option `keys`): a JWK, JWK[], `{ keys }`, a PEM SPKI public key or X.509 certificate,
 * a Node `KeyObject` or a `CryptoKey`, read into `VerifyKey`s when the verifier is created.
 *
 * @module bearer-guard
 */
import { exportJWK, importSPKI, importX509 } from 'jose'
import type { JWK } from 'jose'
import { RSA_BITS } from '../limits.js'
import type { KeyInput } from '../types.js'
import { nodeCrypto } from './backend.js'
import { EC_CURVES, keyFromJwk } from './jwk.js'
import { createVerifyKey, describeKey, type VerifyKey } from './verify-key.js'

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
  if (kty === 'RSA' && (a.modulusLength ?? 0) < RSA_BITS.min) {
    throw new TypeError(`bearer-guard: invalid option "keys": RSA key of ${a.modulusLength} bits (minimum ${RSA_BITS.min})`)
  }
  return createVerifyKey({ kid: undefined, kty, crv, alg, bits: a.modulusLength, jwk: undefined, node: undefined, cryptoKey: key })
}

function isCryptoKey(v: unknown): v is CryptoKey {
  return typeof CryptoKey !== 'undefined' && v instanceof CryptoKey
}

function isKeyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { export?: unknown }).export === 'function' &&
    typeof (v as { asymmetricKeyType?: unknown }).asymmetricKeyType === 'string'
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
