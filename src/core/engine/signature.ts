/**
 * Stages 3 and 4, keys and signature: the issuer's key source selects the keys for the token's
 * `kid` and `alg` (keys/select.ts), which are tried in turn; a shared secret checks its MAC. The
 * answer is what signed the token, checked fail-closed by `signer`.
 *
 * @module bearer-guard
 */
import { asciiBytes } from '../base64url.js'
import { verifyAsymmetric } from '../keys/signature.js'
import type { KeySource } from '../keys/select.js'
import type { KeyState, VerifyKey } from '../keys/verify-key.js'
import { MAX_KEYS_WITHOUT_KID } from '../limits.js'
import type { Algorithm, JWSHeaderParameters } from '../types.js'
import type { IssuerRuntime } from './issuer.js'
import { chain, type MaybePromise } from './maybe-promise.js'
import { invalid } from './reasons.js'

/**
 * No key verified the signature: the keys that were tried (for the negative cache). Not a key, so
 * `signer` refuses it like `false`.
 */
export interface Rejected {
  readonly rejected: readonly VerifyKey[]
}

/** What verified a token signed with a shared secret: never retired. */
const PERMANENT: KeyState = Object.freeze({ retired: false })

/**
 * The key whose signature matches (`true`: the shared secret's MAC), or `false` (a MAC) / `Rejected`
 * (the keys tried) when none does. Synchronous while
 * keys are warm and the crypto is node:crypto, so a warm verifier adds no promise of its own.
 * `token.slice(0, signedLength)` is the signing input.
 */
export function verifySignature(rt: IssuerRuntime, header: JWSHeaderParameters, token: string, signedLength: number, signature: Uint8Array): MaybePromise<VerifyKey | boolean | Rejected> {
  const alg = header.alg as Algorithm
  // the signing input goes as its string: the MAC encodes it without a buffer of its own
  if (rt.hmac) return rt.hmac(alg, token.slice(0, signedLength), signature)
  const data = asciiBytes(token.slice(0, signedLength))
  const keys = (rt.keys as KeySource).select(header.kid, alg)
  return chain(keys, tryKeys, alg, data, signature, rt.threadpool)
}

/**
 * What signed the token, fail closed: only `true` (the secret's MAC) or the key that verified
 * counts; anything else throws.
 */
export function signer(result: VerifyKey | boolean | Rejected): KeyState {
  if (result === true) return PERMANENT
  if (result === false || typeof (result as VerifyKey).kty !== 'string') throw invalid('signature verification failed')
  return (result as VerifyKey).state
}

/** Tries the keys in order (several only when no `kid` names one; at most five): the one that verifies, or the keys tried. */
function tryKeys(keys: readonly VerifyKey[], alg: Algorithm, data: Uint8Array, sig: Uint8Array, threadpool: boolean): MaybePromise<VerifyKey | Rejected> {
  const n = Math.min(keys.length, MAX_KEYS_WITHOUT_KID)
  for (let i = 0; i < n; i++) {
    const key = keys[i] as VerifyKey
    const r = verifyAsymmetric(alg, key, data, sig, threadpool)
    if (typeof r !== 'boolean') return tryKeysAsync(keys, i, r, n, alg, data, sig, threadpool)
    if (r) return key
  }
  return rejected(keys, n)
}

/** `tryKeys` once a verification is pending (Web Crypto, the threadpool): that one, then the rest in turn. */
async function tryKeysAsync(keys: readonly VerifyKey[], at: number, pending: Promise<boolean>, n: number, alg: Algorithm, data: Uint8Array, sig: Uint8Array, threadpool: boolean): Promise<VerifyKey | Rejected> {
  if (await pending) return keys[at] as VerifyKey
  for (let i = at + 1; i < n; i++) if (await verifyAsymmetric(alg, keys[i] as VerifyKey, data, sig, threadpool)) return keys[i] as VerifyKey
  return rejected(keys, n)
}

function rejected(keys: readonly VerifyKey[], n: number): Rejected {
  return { rejected: n === keys.length ? keys : keys.slice(0, n) }
}

/** True for the answer of a signature check that no key verified. */
export function isRejected(result: VerifyKey | boolean | Rejected): result is Rejected {
  return typeof result === 'object' && (result as Partial<Rejected>).rejected !== undefined
}
