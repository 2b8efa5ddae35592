/**
 * Stateless DPoP server nonces (RFC 9449 §8–9): a nonce is the HMAC-SHA-256 of a time window's
 * number with the secret. The current and the previous window's nonces are accepted, so a nonce
 * lives between one and two `lifetime`s; several secrets rotate without shared state (the first
 * signs, each one verifies). Every instance with the same secrets issues and accepts the same nonces.
 *
 * @module bearer-guard
 */
import { isPromiseLike, type MaybePromise } from '../engine/maybe-promise.js'
import { encodeBase64url, hmacSha256, timingSafeEqualText } from '../keys/digest.js'

export class NonceIssuer {
  readonly #secrets: readonly Uint8Array[]
  readonly #lifetime: number
  /** Per window: the nonces of every secret (the first one is issued). */
  readonly #windows = new Map<number, MaybePromise<readonly string[]>>()

  constructor(secrets: readonly Uint8Array[], lifetime: number) {
    this.#secrets = secrets
    this.#lifetime = lifetime
  }

  /** The nonce to hand out now. */
  current(nowSeconds: number): MaybePromise<string> {
    const nonces = this.#of(Math.floor(nowSeconds / this.#lifetime))
    return isPromiseLike(nonces) ? nonces.then(first) : first(nonces)
  }

  /** Whether `nonce` was issued in this window or the one before, with any of the secrets. */
  accepts(nonce: unknown, nowSeconds: number): MaybePromise<boolean> {
    if (typeof nonce !== 'string' || nonce.length !== 43) return false
    const window = Math.floor(nowSeconds / this.#lifetime)
    const now = this.#of(window)
    const before = this.#of(window - 1)
    if (isPromiseLike(now) || isPromiseLike(before)) {
      return Promise.all([now, before]).then(([a, b]) => includes(a, nonce) || includes(b, nonce))
    }
    return includes(now, nonce) || includes(before, nonce)
  }

  #of(window: number): MaybePromise<readonly string[]> {
    const known = this.#windows.get(window)
    if (known !== undefined) return known
    // windows go by one at a time: a few entries suffice
    if (this.#windows.size >= 4) this.#windows.clear()
    const macs = this.#secrets.map((secret) => hmacSha256(secret, `bearer-guard DPoP nonce ${window}`))
    let nonces: MaybePromise<readonly string[]>
    if (macs.some(isPromiseLike)) {
      nonces = Promise.all(macs).then((list) => {
        const done = list.map(encodeBase64url)
        this.#windows.set(window, done)
        return done
      })
    } else nonces = (macs as Uint8Array[]).map(encodeBase64url)
    this.#windows.set(window, nonces)
    return nonces
  }
}

function first(nonces: readonly string[]): string {
  return nonces[0] as string
}

function includes(nonces: readonly string[], nonce: string): boolean {
  let found = false
  for (const n of nonces) found = timingSafeEqualText(n, nonce) || found
  return found
}
