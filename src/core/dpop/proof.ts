/**
 * The DPoP proof of a request (RFC 9449 §4.3, §7.1), checked in full: one `DPoP` header of bounded
 * size, a compact JWS with `typ: dpop+jwt`, an allowlisted asymmetric `alg`, a public `jwk` (no
 * private member) whose signature verifies with the core's own key import and signature code,
 * `htm`, `htu` (normalised, without query and fragment), `iat` in the window, `jti`, `ath`, the
 * server nonce when nonces are on, the key's RFC 7638 thumbprint = the token's `cnf.jkt`, and last
 * the replay store (a proof is accepted once).
 *
 * @module bearer-guard
 */
import { asciiBytes } from '../base64url.js'
import { InvalidDpopProofError, KeySourceUnavailableError, UseDpopNonceError, withChallenge, type Challenge } from '../errors.js'
import { JwsReader } from '../engine/jws.js'
import { chain, isPromiseLike, type MaybePromise } from '../engine/maybe-promise.js'
import { nowSeconds } from '../engine/times.js'
import { encodeBase64url, sha256 } from '../keys/digest.js'
import { keyFromJwk } from '../keys/jwk.js'
import { verifyAsymmetric } from '../keys/signature.js'
import { keyFitsAlgorithm, type VerifyKey } from '../keys/verify-key.js'
import { MAX_DPOP_JTI_LENGTH, MAX_DPOP_PROOF_LENGTH, normalizeTyp } from '../limits.js'
import type { NormalizedDpop } from '../options.js'
import type { HeaderValue } from '../request.js'
import type { Algorithm, JWSHeaderParameters, ReplayStore } from '../types.js'
import type { NonceIssuer } from './nonce.js'
import { publicJwkText, thumbprintOf } from './thumbprint.js'

type DpopSettings = Exclude<NormalizedDpop, false>

/** A proof's key, per header object (the reader shares one frozen header per header text). */
interface ProofKey {
  readonly key: VerifyKey
  readonly jkt: string
}

/** What one request's proof is checked against. */
export interface ProofTarget {
  readonly method: string
  readonly url: string
  /** The access token (for `ath`). */
  readonly token: string
  /** The token's `cnf.jkt`. */
  readonly jkt: string
  /** The issuer's `clockTolerance`, seconds. */
  readonly tolerance: number
}

/** A 401 `invalid_dpop_proof` with this reason. */
export function badProof(reason: string): InvalidDpopProofError {
  return new InvalidDpopProofError({ reason })
}

/** The one proof of a request: exactly one `DPoP` header (RFC 9449 §4.3 check 1), of bounded size. */
export function oneProof(value: HeaderValue): string {
  let proof: string | undefined
  if (typeof value === 'string') proof = value
  else if (Array.isArray(value)) {
    if (value.length > 1) throw badProof(`${value.length} DPoP headers`)
    proof = value[0] as string | undefined
  }
  if (proof === undefined || proof === '') throw badProof('DPoP scheme without a DPoP proof header')
  if (proof.length > MAX_DPOP_PROOF_LENGTH) throw badProof(`DPoP proof of ${proof.length} characters exceeds ${MAX_DPOP_PROOF_LENGTH}`)
  // a Web Headers joins two lines with ", "; a compact JWS has neither
  if (proof.includes(',')) throw badProof('several DPoP proofs in one header (two DPoP header lines)')
  return proof
}

/**
 * `scheme://host[:port]/path` of an http(s) URL: lower-case scheme and host, no default port, dot
 * segments resolved, percent-encoding as the WHATWG URL parser writes it (RFC 3986 §6.2.2–6.2.3),
 * no query and no fragment. `undefined` for anything else.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  return `${url.protocol}//${url.host}${url.pathname}`
}

/** Checks the DPoP proofs of one verifier. */
export class ProofChecker {
  readonly #settings: DpopSettings
  readonly #replay: ReplayStore
  readonly #nonces: NonceIssuer | undefined
  readonly #reader = new JwsReader()
  readonly #keys = new WeakMap<JWSHeaderParameters, ProofKey>()
  readonly #challenge: Challenge
  /** Proof signatures on libuv's threadpool (the verifier's `threadpool` option). */
  readonly #threadpool: boolean
  /** The last URL normalised, and its form: a client sends to one URL many times (one entry, no growth). */
  #lastUrl = ''
  #lastUrlForm: string | undefined
  #lastHtu = ''
  #lastHtuForm: string | undefined
  /** `ath` per access token (base64url SHA-256), while the token's entry lives. */
  readonly #aths = new Map<string, MaybePromise<string>>()

  /** `challenge`: what a `use_dpop_nonce` refusal challenges with (its nonce added). */
  constructor(settings: DpopSettings, replay: ReplayStore, nonces: NonceIssuer | undefined, challenge: Challenge, threadpool = false) {
    this.#threadpool = threadpool
    this.#challenge = challenge
    this.#settings = settings
    this.#replay = replay
    this.#nonces = nonces
  }

  /** Checks `proof` for `target`: `undefined` when accepted (or a promise of that), else throws. */
  check(proof: string, target: ProofTarget): MaybePromise<void> {
    let parts
    try {
      parts = this.#reader.read(proof)
    } catch (error) {
      throw badProof(`proof: ${(error as Error).message}`)
    }
    const header = parts.header
    const claims = parts.payload
    const signature = parts.signature
    const signedLength = parts.signedLength
    if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'dpop+jwt') {
      throw badProof(`proof typ ${JSON.stringify(header.typ ?? null).slice(0, 40)}, expected "dpop+jwt"`)
    }
    const alg = header.alg as string
    if (!(this.#settings.algorithms as readonly string[]).includes(alg)) {
      throw badProof(`proof alg ${JSON.stringify(alg).slice(0, 20)} is not one of ${this.#settings.algorithms.join(', ')}`)
    }
    // the claims, before any crypto
    if (claims.htm !== target.method) throw badProof(`htm ${JSON.stringify(claims.htm ?? null).slice(0, 20)} is not the request method ${target.method}`)
    if (typeof claims.htu !== 'string' || claims.htu.length > 8192) throw badProof('htu missing')
    if (claims.htu !== this.#lastHtu) {
      this.#lastHtu = claims.htu
      this.#lastHtuForm = normalizeHtu(claims.htu)
    }
    if (target.url !== this.#lastUrl) {
      this.#lastUrl = target.url
      this.#lastUrlForm = normalizeHtu(target.url)
    }
    const htu = this.#lastHtuForm
    const url = this.#lastUrlForm
    if (htu === undefined || htu !== url) throw badProof(`htu ${JSON.stringify(claims.htu).slice(0, 200)} is not the request URL ${url ?? target.url}`)
    const iat = claims.iat
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw badProof('iat missing or not a number')
    const now = nowSeconds()
    const tol = target.tolerance
    if (iat > now + tol) throw badProof(`iat ${iat} is in the future: now ${now}, tolerance ${tol}s`)
    if (iat < now - this.#settings.maxAge - tol) throw badProof(`iat ${iat} is older than maxAge ${this.#settings.maxAge}s (now ${now}, tolerance ${tol}s)`)
    const jti = claims.jti
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_DPOP_JTI_LENGTH) throw badProof('jti missing, empty or too long')
    if (typeof claims.ath !== 'string') throw badProof('ath missing: a proof sent with an access token must hash it')
    const known = this.#keys.get(header)
    const key = known ?? this.#keyOf(header, alg)
    const expiresAt = iat + this.#settings.maxAge + tol
    return chain(key, this.#afterKey, this, proof, signedLength, { signature, target, claims, alg, jti, expiresAt, header })
  }

  /** The proof's key from its `jwk` header (its thumbprint computed once per header text). */
  #keyOf(header: JWSHeaderParameters, alg: string): MaybePromise<ProofKey> {
    const pub = publicJwkText(header.jwk)
    if ('refused' in pub) throw badProof(pub.refused)
    const result = keyFromJwk(pub.jwk)
    if (!('key' in result)) throw badProof(`proof jwk refused: ${result.skipped}`)
    if (!keyFitsAlgorithm(result.key, alg as Algorithm)) throw badProof(`proof jwk (${result.key.kty} ${result.key.crv ?? ''}) does not fit alg ${alg}`)
    return chain(thumbprintOf(pub.text), (jkt: string) => {
      const entry = { key: result.key, jkt }
      this.#keys.set(header, entry)
      return entry
    })
  }

  #afterKey(this: void, key: ProofKey, self: ProofChecker, proof: string, signedLength: number, rest: Pending): MaybePromise<void> {
    const ok = verifyAsymmetric(rest.alg as Algorithm, key.key, asciiBytes(proof.slice(0, signedLength)), rest.signature, self.#threadpool)
    return chain(ok, afterSignature, self, key, rest)
  }

  /** After the signature: the binding, `ath`, the nonce, then the replay store. */
  static afterSignature(ok: boolean, self: ProofChecker, key: ProofKey, rest: Pending): MaybePromise<void> {
    if (!ok) throw badProof('proof signature verification failed')
    if (key.jkt !== rest.target.jkt) throw badProof(`proof key thumbprint ${key.jkt} is not the token's cnf.jkt ${rest.target.jkt.slice(0, 64)}`)
    return chain(self.#athOf(rest.target.token), afterAth, self, key, rest)
  }

  /** base64url(SHA-256(token)), kept for the few tokens seen last (a client reuses its token). */
  #athOf(token: string): MaybePromise<string> {
    let hash = this.#aths.get(token)
    if (hash === undefined) {
      if (this.#aths.size >= 256) this.#aths.clear()
      hash = chain(sha256(token), encodeBase64url)
      this.#aths.set(token, hash)
    }
    return hash
  }

  #nonce(rest: Pending): MaybePromise<void> {
    const nonces = this.#nonces
    if (nonces === undefined) return undefined
    const now = nowSeconds()
    return chain(nonces.accepts(rest.claims.nonce, now), (ok: boolean) => {
      if (ok) return undefined
      return chain(nonces.current(now), (fresh: string) => {
        const reason = rest.claims.nonce === undefined ? 'proof without the server nonce' : 'proof with an unknown or stale nonce'
        throw withChallenge(new UseDpopNonceError({ reason }), { ...this.#challenge, nonce: fresh })
      })
    })
  }

  #mark(rest: Pending, jkt: string): MaybePromise<void> {
    let first: boolean | Promise<boolean>
    try {
      first = this.#replay.mark(`${jkt}:${rest.jti}`, rest.expiresAt)
    } catch (error) {
      throw storeFailure(error)
    }
    if (isPromiseLike(first)) return Promise.resolve(first).then(assertFirst, rethrowStoreFailure)
    return assertFirst(first)
  }

  static afterAthFor(hash: string, self: ProofChecker, key: ProofKey, rest: Pending): MaybePromise<void> {
    if (hash !== rest.claims.ath) throw badProof('ath is not the hash of the access token')
    return chain(self.#nonce(rest), (_: void) => self.#mark(rest, key.jkt))
  }
}

const afterSignature = ProofChecker.afterSignature
const afterAth = ProofChecker.afterAthFor

interface Pending {
  signature: Uint8Array
  target: ProofTarget
  claims: Record<string, unknown>
  alg: string
  jti: string
  expiresAt: number
  header: JWSHeaderParameters
}

function assertFirst(first: boolean): void {
  if (first !== true) throw badProof('proof replayed: its jti was seen before')
}

/** A store that throws or rejects: 503, never an accepted replay (the proof is not blamed). */
function storeFailure(error: unknown) {
  return new KeySourceUnavailableError({
    description: 'replay check unavailable, retry later',
    reason: `DPoP replay store failed: ${(error as Error)?.message ?? String(error)}`,
    cause: error,
  })
}

function rethrowStoreFailure(error: unknown): never {
  throw storeFailure(error)
}
