/**
 * Asymmetric verification on Web Crypto (edge runtimes, and Node when forced): a `CryptoKey` per key
 * and algorithm, imported from the key's JWK once (Web Crypto binds a key to one algorithm).
 *
 * @module bearer-guard
 */
import type { Algorithm } from '../types.js'
import type { VerifyKey } from './verify-key.js'

/** Per key, its imported `CryptoKey` per algorithm (a promise while the import runs). */
const imported = new WeakMap<VerifyKey, Map<string, CryptoKey | Promise<CryptoKey>>>()

/** Verifies with Web Crypto. Never rejects: anything odd is `false`. */
export async function verifyWeb(alg: Algorithm, key: VerifyKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  try {
    const cryptoKey = await webKey(alg, key)
    if (!cryptoKey) return false
    return await crypto.subtle.verify(verifyParams(alg), cryptoKey, sig as BufferSource, data as BufferSource)
  } catch {
    return false
  }
}

function verifyParams(alg: Algorithm): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const hash = `SHA-${alg.slice(-3)}`
  switch (alg.slice(0, 2)) {
    case 'RS': return { name: 'RSASSA-PKCS1-v1_5' }
    case 'PS': return { name: 'RSA-PSS', saltLength: Number(alg.slice(-3)) / 8 } as RsaPssParams
    case 'ES': return { name: 'ECDSA', hash } as EcdsaParams
    default: return { name: 'Ed25519' }
  }
}

function webKey(alg: Algorithm, key: VerifyKey): CryptoKey | Promise<CryptoKey> | undefined {
  // a key given as a CryptoKey verifies the one algorithm it was made for (keyFitsAlgorithm checked it)
  if (key.cryptoKey) return key.cryptoKey
  let forKey = imported.get(key)
  const cached = forKey?.get(alg)
  if (cached) return cached
  if (!key.jwk) return undefined
  const hash = `SHA-${alg.slice(-3)}`
  let params: RsaHashedImportParams | EcKeyImportParams | AlgorithmIdentifier
  switch (alg.slice(0, 2)) {
    case 'RS': params = { name: 'RSASSA-PKCS1-v1_5', hash }; break
    case 'PS': params = { name: 'RSA-PSS', hash }; break
    case 'ES': params = { name: 'ECDSA', namedCurve: key.crv as string }; break
    default: params = { name: 'Ed25519' }
  }
  const pending = crypto.subtle.importKey('jwk', key.jwk as JsonWebKey, params, false, ['verify'])
  if (!forKey) imported.set(key, (forKey = new Map()))
  const keys = forKey
  keys.set(alg, pending)
  pending.then((k) => keys.set(alg, k), () => keys.delete(alg))
  return pending
}
