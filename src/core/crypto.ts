/**
 * Signature verification with two interchangeable backends: `node:crypto` KeyObjects on Node
 * (the fast path, taken when `process.getBuiltinModule` offers it) and Web Crypto everywhere else.
 * Both give the same decision for every input; the test suite runs the attack cases through both.
 *
 * @module bearer-guard
 */
import type { VerifyKey } from './keys.js'
import type { Algorithm } from './types.js'

type NodeCrypto = typeof import('node:crypto')

let node: NodeCrypto | undefined | null = null
let forced: 'node' | 'web' | undefined

/** `node:crypto` when this runtime has it (Node ≥ 20.16, Bun, Deno), else `undefined`. */
export function nodeCrypto(): NodeCrypto | undefined {
  if (forced === 'web') return undefined
  if (node === null) {
    try {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
      node = (proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) ?? undefined
    } catch {
      node = undefined
    }
  }
  return node
}

/** Internal, for tests and benchmarks: force one backend. Keys imported before keep their form. */
export function setCryptoBackend(backend: 'node' | 'web' | undefined): void {
  forced = backend
}

/** Which backend new verifications use. */
export function cryptoBackend(): 'node' | 'web' {
  return nodeCrypto() ? 'node' : 'web'
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }
const EC_SIG_SIZE: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 }

/** Verifies an asymmetric signature. Never throws: anything odd is `false`. */
export function verifyAsymmetric(alg: Algorithm, key: VerifyKey, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
  if (EC_SIG_SIZE[alg] !== undefined && signature.length !== EC_SIG_SIZE[alg]) return false
  if ((alg === 'EdDSA' || alg === 'Ed25519') && signature.length !== 64) return false
  if (key.bits !== undefined && (alg[0] === 'R' || alg[0] === 'P') && signature.length !== Math.ceil(key.bits / 8)) return false
  const nc = nodeCrypto()
  if (nc && key.node) return verifyNode(nc, alg, key, data, signature)
  return verifyWeb(alg, key, data, signature)
}

/** `crypto.verify`'s digest per algorithm (`null`: EdDSA names none). */
const NODE_DIGEST: Record<string, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null, Ed25519: null,
}

/** `crypto.verify`'s key argument for `alg`: the KeyObject, or it with the padding/encoding options. */
function nodeKeyArg(nc: NodeCrypto, alg: Algorithm, key: import('node:crypto').KeyObject): unknown {
  switch (alg[0]) {
    case 'P':
      return Object.freeze({ key, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength: nc.constants.RSA_PSS_SALTLEN_DIGEST })
    case 'E':
      return alg === 'EdDSA' || alg === 'Ed25519' ? key : Object.freeze({ key, dsaEncoding: 'ieee-p1363' })
    default:
      return key
  }
}

function verifyNode(nc: NodeCrypto, alg: Algorithm, key: VerifyKey, data: Uint8Array, sig: Uint8Array): boolean {
  const digest = NODE_DIGEST[alg]
  if (digest === undefined) return false
  // built once per key and algorithm, not per token
  const args = (key.nodeArgs ??= {})
  const arg = (args[alg] ??= nodeKeyArg(nc, alg, key.node as import('node:crypto').KeyObject))
  try {
    return nc.verify(digest, data, arg as import('node:crypto').KeyObject, sig)
  } catch {
    return false
  }
}

async function verifyWeb(alg: Algorithm, key: VerifyKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  try {
    const cryptoKey = await webKey(alg, key)
    if (!cryptoKey) return false
    return await crypto.subtle.verify(webVerifyParams(alg), cryptoKey, sig as BufferSource, data as BufferSource)
  } catch {
    return false
  }
}

function webVerifyParams(alg: Algorithm): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const hash = `SHA-${alg.slice(-3)}`
  switch (alg.slice(0, 2)) {
    case 'RS': return { name: 'RSASSA-PKCS1-v1_5' }
    case 'PS': return { name: 'RSA-PSS', saltLength: Number(alg.slice(-3)) / 8 } as RsaPssParams
    case 'ES': return { name: 'ECDSA', hash } as EcdsaParams
    default: return { name: 'Ed25519' }
  }
}

function webKey(alg: Algorithm, key: VerifyKey): CryptoKey | Promise<CryptoKey> | undefined {
  const cached = key.web.get(alg)
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
  key.web.set(alg, pending)
  pending.then((k) => key.web.set(alg, k), () => key.web.delete(alg))
  return pending
}

/** The MAC of `data`: bytes, or the JWS signing input as its (ASCII) string, encoded as UTF-8. */
type MacFn = (data: Uint8Array | string) => Uint8Array

const utf8 = new TextEncoder()

/**
 * HMAC (RFC 2104) for one key on node:crypto. With the one-shot `crypto.hash` (Node ≥ 20.12), the
 * two hash passes run over precomputed key pads: per token, `createHmac`'s objects cost more than
 * hashing a 500-byte signing input. Checked against `createHmac` once, else `createHmac` it is.
 */
function nodeMac(nc: NodeCrypto, secret: Uint8Array, bits: string): MacFn {
  const algo = HASH[bits] as string
  const key = nc.createSecretKey(secret)
  const viaHmac: MacFn = (data) => nc.createHmac(algo, key).update(data).digest()
  const hash = (nc as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array }).hash
  if (typeof hash !== 'function') return viaHmac
  const block = bits === '256' ? 64 : 128
  const k = secret.length > block ? nc.createHash(algo).update(secret).digest() : secret
  const ipad = new Uint8Array(block).fill(0x36)
  const outer = new Uint8Array(block + Number(bits) / 8).fill(0x5c, 0, block)
  for (let i = 0; i < k.length; i++) {
    ipad[i] = (ipad[i] as number) ^ (k[i] as number)
    outer[i] = (outer[i] as number) ^ (k[i] as number)
  }
  // reused between calls: the work is synchronous, so no call can see another's bytes
  let inner = new Uint8Array(block + 2048)
  inner.set(ipad)
  const viaHash: MacFn = (data) => {
    let length: number
    for (;;) {
      if (typeof data !== 'string') {
        length = data.length
        if (inner.length >= block + length) {
          inner.set(data, block)
          break
        }
      } else {
        const { read, written } = utf8.encodeInto(data, inner.subarray(block))
        length = written
        if (read === data.length) break
      }
      const grown = new Uint8Array(block + (typeof data === 'string' ? data.length * 3 : data.length))
      grown.set(ipad)
      inner = grown
    }
    outer.set(hash(algo, inner.subarray(0, block + length), 'buffer'), block)
    return hash(algo, outer, 'buffer')
  }
  try {
    const probe = new TextEncoder().encode('bearer-guard HMAC self-check')
    if (nc.timingSafeEqual(viaHash(probe), viaHmac(probe))) return viaHash
  } catch {
    // fall through
  }
  return viaHmac
}

const MAC_SIZE: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 }

/**
 * Constant-time equality of two byte strings whose length is public (a MAC's): every byte is
 * compared, whatever differs, as `crypto.timingSafeEqual` does, without a native call per token.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** An HMAC verifier for one secret: constant-time comparison on both backends. */
export function createHmacVerifier(secret: Uint8Array): (alg: Algorithm, data: Uint8Array | string, sig: Uint8Array) => boolean | Promise<boolean> {
  const webKeys = new Map<string, Promise<CryptoKey>>()
  const nodeMacs = new Map<string, MacFn>()
  return (alg, data, sig) => {
    const size = MAC_SIZE[alg]
    if (size === undefined || sig.length !== size) return false
    const nc = nodeCrypto()
    if (nc) {
      let mac = nodeMacs.get(alg)
      if (!mac) nodeMacs.set(alg, (mac = nodeMac(nc, secret, alg.slice(2))))
      return equalBytes(mac(data), sig)
    }
    let k = webKeys.get(alg)
    if (!k) {
      k = crypto.subtle.importKey('raw', secret as BufferSource, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify'])
      webKeys.set(alg, k)
    }
    const bytes = typeof data === 'string' ? utf8.encode(data) : data
    return k.then((key) => crypto.subtle.verify('HMAC', key, sig as BufferSource, bytes as BufferSource)).catch(() => false)
  }
}
