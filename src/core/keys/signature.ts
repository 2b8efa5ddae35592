/**
 * An asymmetric JWS signature checked against one key, on the backend this runtime offers. The
 * signature's size is checked first, the same way on both backends.
 *
 * @module bearer-guard
 */
import type { Algorithm } from '../types.js'
import { nodeCrypto } from './backend.js'
import { verifyNode } from './node-crypto.js'
import type { VerifyKey } from './verify-key.js'
import { verifyWeb } from './web-crypto.js'

const EC_SIG_SIZE: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 }

/**
 * Verifies an asymmetric signature: synchronous on node:crypto (on its threadpool with `threadpool`),
 * a promise on Web Crypto. Never throws: anything odd is `false`.
 */
export function verifyAsymmetric(alg: Algorithm, key: VerifyKey, data: Uint8Array, signature: Uint8Array, threadpool = false): boolean | Promise<boolean> {
  if (EC_SIG_SIZE[alg] !== undefined && signature.length !== EC_SIG_SIZE[alg]) return false
  if ((alg === 'EdDSA' || alg === 'Ed25519') && signature.length !== 64) return false
  if (key.bits !== undefined && (alg[0] === 'R' || alg[0] === 'P') && signature.length !== Math.ceil(key.bits / 8)) return false
  const nc = nodeCrypto()
  if (nc && key.node) return verifyNode(nc, alg, key, data, signature, threadpool)
  return verifyWeb(alg, key, data, signature)
}
