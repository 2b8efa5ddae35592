/**
 * The test issuer's key ring (private): the current signing key first, then the previous keys it
 * still publishes. The algorithms it signs with are the core's own list, so a test issuer can sign
 * for every algorithm a verifier accepts and for no other.
 *
 * @module bearer-guard/testing
 */
import { base64url, exportJWK, generateKeyPair } from 'jose'
import { ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS } from '../core/limits.js'
import type { Algorithm, JWK } from '../core/types.js'

/** One key of the ring. */
export interface TestKey {
  readonly kid: string
  readonly alg: Algorithm
  /** Signing key: a private `CryptoKey`, or the HMAC secret bytes. */
  readonly signingKey: CryptoKey | Uint8Array
  /** Published public JWK (`kid`, `alg`, `use: 'sig'`); `undefined` for HS*. */
  readonly publicJwk: JWK | undefined
  /** The public `CryptoKey`; `undefined` for HS*. */
  readonly publicKey: CryptoKey | undefined
  /** HS*: the shared secret as given or generated; otherwise `undefined`. */
  readonly secret: string | undefined
}

/** The keys of one test issuer. */
export interface KeyRing {
  /** The key new tokens are signed with. */
  readonly current: TestKey
  /** The published JWKS: current and previous public keys. A copy. */
  jwks(): { keys: JWK[] }
  /**
   * Makes a new current key. Its `kid` is `<kid>-2`, `<kid>-3`, … when the first `kid` was given
   * (never one the ring used before), else random. `keepPrevious: false` drops the older keys.
   */
  rotate(keepPrevious: boolean): Promise<TestKey>
}

/** Every algorithm the core verifies. */
export const SIGNING_ALGORITHMS: readonly Algorithm[] = [...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS]

const encoder = new TextEncoder()

/**
 * A key ring with one key.
 *
 * @param algorithm Algorithm of every key of the ring; a `TypeError` unless the core verifies it.
 * @param kid `kid` of the first key, and the stem of rotated keys' `kid`. Default: random.
 * @param secret HS* only: the shared secret of the first key. Default: random, of the hash size.
 */
export async function createKeyRing(algorithm: Algorithm, kid?: string, secret?: string): Promise<KeyRing> {
  if (!SIGNING_ALGORITHMS.includes(algorithm)) {
    throw new TypeError(`"algorithm" must be one of ${SIGNING_ALGORITHMS.join(', ')}, got '${String(algorithm)}'`)
  }
  const keys: TestKey[] = [await makeKey(algorithm, kid ?? randomKid(), secret)]
  let made = 1
  return {
    get current() {
      return keys[0] as TestKey
    },
    jwks() {
      return { keys: keys.flatMap((k) => (k.publicJwk ? [structuredClone(k.publicJwk)] : [])) }
    },
    async rotate(keepPrevious) {
      made++
      const next = await makeKey(algorithm, kid !== undefined ? `${kid}-${made}` : randomKid())
      if (!keepPrevious) keys.length = 0
      keys.unshift(next)
      return next
    },
  }
}

/** A key for `alg`: a key pair (extractable, so attack tokens can reuse the public key) or a secret. */
export async function makeKey(alg: Algorithm, kid: string, secret?: string): Promise<TestKey> {
  if (alg.startsWith('HS')) {
    const bytes = Number(alg.slice(2)) / 8
    const value = secret ?? base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))
    return { kid, alg, signingKey: encoder.encode(value), publicJwk: undefined, publicKey: undefined, secret: value }
  }
  const pair = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, signingKey: pair.privateKey, publicJwk, publicKey: pair.publicKey, secret: undefined }
}

function randomKid(): string {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0'))
  return `test-${hex.join('')}`
}
