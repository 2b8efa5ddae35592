/**
 * SHA-256 and HMAC-SHA-256 on the backend this runtime offers: synchronous on node:crypto, a promise
 * on Web Crypto. Used by DPoP (`ath`, the RFC 7638 thumbprint, server nonces) and certificate-bound
 * tokens (`x5t#S256`).
 *
 * @module bearer-guard
 */
import { nodeCrypto } from './backend.js'

/** A value, or a promise of it (engine/maybe-promise.ts' type; keys/ is the bottom layer). */
type MaybePromise<T> = T | Promise<T>

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array | string): MaybePromise<Uint8Array> {
  const nc = nodeCrypto()
  if (nc) return nc.createHash('sha256').update(data).digest()
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  return crypto.subtle.digest('SHA-256', bytes as BufferSource).then((d) => new Uint8Array(d))
}

/** HMAC-SHA-256 of `data` with `key`. */
export function hmacSha256(key: Uint8Array, data: string): MaybePromise<Uint8Array> {
  const nc = nodeCrypto()
  if (nc) return nc.createHmac('sha256', key).update(data).digest()
  return crypto.subtle
    .importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    .then((k) => crypto.subtle.sign('HMAC', k, new TextEncoder().encode(data)))
    .then((d) => new Uint8Array(d))
}

interface NodeBufferLike {
  from(bytes: Uint8Array): { toString(encoding: 'base64url'): string }
}
const BufferCtor = (globalThis as { Buffer?: NodeBufferLike }).Buffer

/** Unpadded base64url of `bytes` (short values: digests and MACs). */
export function encodeBase64url(bytes: Uint8Array): string {
  if (BufferCtor) return BufferCtor.from(bytes).toString('base64url')
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Equal strings, in time that depends only on their length. */
export function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
