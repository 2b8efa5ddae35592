/**
 * Asymmetric verification on `node:crypto`: the key's `KeyObject` (made when the key was read) with
 * the padding and encoding each algorithm needs.
 *
 * @module bearer-guard
 */
import type { KeyObject } from 'node:crypto'
import type { Algorithm } from '../types.js'
import type { NodeCrypto } from './backend.js'
import type { VerifyKey } from './verify-key.js'

/** `crypto.verify`'s digest per algorithm (`null`: EdDSA names none). */
const NODE_DIGEST: Record<string, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null, Ed25519: null,
}

/** Per key, `crypto.verify`'s key argument per algorithm: built once per key and algorithm, not per token. */
const keyArgs = new WeakMap<VerifyKey, Record<string, unknown>>()

/** `crypto.verify`'s key argument for `alg`: the KeyObject, or it with the padding/encoding options. */
function keyArg(nc: NodeCrypto, alg: Algorithm, key: KeyObject): unknown {
  switch (alg[0]) {
    case 'P':
      return Object.freeze({ key, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength: nc.constants.RSA_PSS_SALTLEN_DIGEST })
    case 'E':
      return alg === 'EdDSA' || alg === 'Ed25519' ? key : Object.freeze({ key, dsaEncoding: 'ieee-p1363' })
    default:
      return key
  }
}

/**
 * Verifies with node:crypto. Never throws: anything odd is `false`. With `threadpool`, on libuv's
 * threadpool (`crypto.verify` with a callback): the answer is a promise, the event loop is free meanwhile.
 */
export function verifyNode(nc: NodeCrypto, alg: Algorithm, key: VerifyKey, data: Uint8Array, sig: Uint8Array, threadpool = false): boolean | Promise<boolean> {
  const digest = NODE_DIGEST[alg]
  if (digest === undefined) return false
  let args = keyArgs.get(key)
  if (args === undefined) keyArgs.set(key, (args = {}))
  const arg = (args[alg] ??= keyArg(nc, alg, key.node as KeyObject))
  if (threadpool) return verifyOnThreadpool(nc, digest, data, arg as KeyObject, sig)
  try {
    return nc.verify(digest, data, arg as KeyObject, sig)
  } catch {
    return false
  }
}

function verifyOnThreadpool(nc: NodeCrypto, digest: string | null, data: Uint8Array, key: KeyObject, sig: Uint8Array): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    try {
      nc.verify(digest, data, key, sig, (error, ok) => resolve(error === null && ok === true))
    } catch {
      resolve(false)
    }
  })
}
