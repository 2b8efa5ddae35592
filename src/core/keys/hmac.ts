/**
 * HMAC verification (HS256/384/512) for one shared secret, constant-time on both backends.
 *
 * @module bearer-guard
 */
import type { Algorithm } from '../types.js'
import { nodeCrypto, type NodeCrypto } from './backend.js'

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }

/** Whether `sig` is the MAC of `data`: bytes, or the JWS signing input as its (ASCII) string, encoded as UTF-8. */
type MacCheck = (data: Uint8Array | string, sig: Uint8Array) => boolean

const utf8 = new TextEncoder()

/**
 * HMAC (RFC 2104) for one key on node:crypto. With the one-shot `crypto.hash` (Node ≥ 20.12), the
 * two hash passes run over precomputed key pads: per token, `createHmac`'s objects cost more than
 * hashing a 500-byte signing input. The digests come back as `'binary'` (latin1) strings, one character per
 * byte: for `'buffer'`, Node lowercases the encoding's name twice per call before it knows it, and
 * allocates a Buffer (bearer-guard's own work per never-seen HS256 token: 36.7 k instructions with
 * Buffers, 29.9 k without, counted with bench/loop-instructions.ts; issue 20).
 * Checked against `createHmac` once, else `createHmac` it is.
 */
function nodeMac(nc: NodeCrypto, secret: Uint8Array, bits: string): MacCheck {
  const algo = HASH[bits] as string
  const key = nc.createSecretKey(secret)
  const viaHmac: MacCheck = (data, sig) => equalBytes(nc.createHmac(algo, key).update(data).digest(), sig)
  const hash = (nc as { hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string }).hash
  if (typeof hash !== 'function') return viaHmac
  const block = bits === '256' ? 64 : 128
  const size = Number(bits) / 8
  const k = secret.length > block ? nc.createHash(algo).update(secret).digest() : secret
  const ipad = new Uint8Array(block).fill(0x36)
  const outer = new Uint8Array(block + size).fill(0x5c, 0, block)
  for (let i = 0; i < k.length; i++) {
    ipad[i] = (ipad[i] as number) ^ (k[i] as number)
    outer[i] = (outer[i] as number) ^ (k[i] as number)
  }
  // reused between calls: the work is synchronous, so no call can see another's bytes
  let inner = new Uint8Array(block + 2048)
  inner.set(ipad)
  const viaHash: MacCheck = (data, sig) => {
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
    const innerMac = hash(algo, inner.subarray(0, block + length), 'binary')
    if (innerMac.length !== size) return false
    for (let i = 0; i < size; i++) outer[block + i] = innerMac.charCodeAt(i)
    return equalLatin1(hash(algo, outer, 'binary'), sig)
  }
  try {
    const probe = new TextEncoder().encode('bearer-guard HMAC self-check')
    const mac = nc.createHmac(algo, key).update(probe).digest()
    const wrong = Uint8Array.from(mac)
    wrong[size - 1] = (wrong[size - 1] as number) ^ 1
    if (viaHash(probe, mac) && viaHash('bearer-guard HMAC self-check', mac) && !viaHash(probe, wrong)) return viaHash
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

/**
 * `equalBytes` for a digest given as a `latin1` string (one character per byte). Not a copy into
 * bytes and `equalBytes`: that measured ~1 k more instructions per HS256 token (the copy, and the
 * check no longer inlined into the MAC).
 */
function equalLatin1(a: string, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ (b[i] as number)
  return diff === 0
}

/** Checks a MAC over `data` (bytes, or the JWS signing input as its ASCII string). */
export type HmacVerifier = (alg: Algorithm, data: Uint8Array | string, sig: Uint8Array) => boolean | Promise<boolean>

/** An HMAC verifier for one secret: constant-time comparison on both backends. */
export function createHmacVerifier(secret: Uint8Array): HmacVerifier {
  const webKeys = new Map<string, Promise<CryptoKey>>()
  const nodeMacs = new Map<string, MacCheck>()
  return (alg, data, sig) => {
    const size = MAC_SIZE[alg]
    if (size === undefined || sig.length !== size) return false
    const nc = nodeCrypto()
    if (nc) {
      let mac = nodeMacs.get(alg)
      if (!mac) nodeMacs.set(alg, (mac = nodeMac(nc, secret, alg.slice(2))))
      return mac(data, sig)
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
