/**
 * The `AuthError` family: one base class with the HTTP answer built in (RFC 6750 §3), and subclasses
 * only where a caller branches on them.
 *
 * The split that matters: `description` is short and safe to show a client; `reason` (also the
 * `message`) is the detailed cause for server logs and hooks, and never reaches the client.
 *
 * @module bearer-guard
 */

/** The `error` code of an answer. `missing_token` has no `error=` attribute in the challenge (RFC 6750 §3.1). */
export type AuthErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

/** HTTP status of an answer. */
export type AuthErrorStatus = 400 | 401 | 403 | 503

/** Default realm of the `WWW-Authenticate` challenge. */
export const DEFAULT_REALM = 'api'

const BRAND = Symbol.for('bearer-guard.AuthError')

/**
 * The challenge of a refusal by a verifier that takes DPoP (RFC 9449 §7.1): which scheme carries the
 * error, the proof algorithms to advertise, whether a `Bearer` challenge follows, and the server
 * nonce a client must use. Set by the verifier on the errors of a request (`withChallenge`).
 */
export interface Challenge {
  /** The scheme whose challenge carries `error`: the one the request used (or must use). */
  readonly primary: 'Bearer' | 'DPoP'
  /** The `algs` of the `DPoP` challenge; absent: no `DPoP` challenge. */
  readonly algs?: readonly string[]
  /** A `Bearer` challenge (without `error`) after the `DPoP` one: bearer tokens are accepted too. */
  readonly bearer: boolean
  /** A server nonce (`DPoP-Nonce` header) for the client's next proof. */
  readonly nonce?: string
}

export interface AuthErrorInit {
  /** Server-side detail; becomes `message`. */
  reason: string
  /** Client-safe text; defaults per class. */
  description?: string
  cause?: unknown
}

/**
 * Base class of every error bearer-guard answers a request with.
 *
 * @example Log the detail, answer the client tersely.
 * ```ts
 * try { await verifier.authenticate(header) } catch (e) {
 *   if (isAuthError(e)) { log.warn(e.reason); res.status(e.status).json(e.toJSON()) }
 * }
 * ```
 */
export class AuthError extends Error {
  override name = 'AuthError'
  readonly status: AuthErrorStatus
  readonly code: AuthErrorCode
  /** Short text safe to show a client; used as `error_description`. */
  readonly description: string
  /** Detailed reason for logs; never sent to a client. Same as `message`. */
  readonly reason: string
  declare readonly [BRAND]: true

  constructor(status: AuthErrorStatus, code: AuthErrorCode, description: string, init: AuthErrorInit) {
    super(init.reason, init.cause === undefined ? undefined : { cause: init.cause })
    this.status = status
    this.code = code
    this.description = init.description ?? description
    this.reason = init.reason
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * The RFC 6750 §3 challenge for this error, or `undefined` where none is sent (503).
   *
   * @param realm Realm attribute. Default: `'api'`.
   */
  wwwAuthenticate(realm: string = DEFAULT_REALM): string | undefined {
    const params = [`realm="${quote(realm)}"`]
    if (this.code !== 'missing_token') {
      params.push(`error="${this.code}"`, `error_description="${quote(this.description)}"`)
    }
    const challenge = this.challenge
    if (challenge === undefined) return `Bearer ${params.join(', ')}`
    const algs = challenge.algs === undefined ? '' : `, algs="${quote(challenge.algs.join(' '))}"`
    if (challenge.primary === 'DPoP') {
      return `DPoP ${params.join(', ')}${algs}${challenge.bearer ? `, Bearer realm="${quote(realm)}"` : ''}`
    }
    return `Bearer ${params.join(', ')}${algs === '' ? '' : `, DPoP realm="${quote(realm)}"${algs}`}`
  }

  /** How a verifier that takes DPoP challenges with this error (set by `withChallenge`). */
  get challenge(): Challenge | undefined {
    return (this as { [CHALLENGE]?: Challenge })[CHALLENGE]
  }

  /** The JSON body every adapter answers with. */
  toJSON(): { error: AuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description }
  }
}

const CHALLENGE = Symbol('challenge')

/**
 * A copy of `error` that challenges as `challenge` says (the same class, fields and `reason`). A
 * copy, not the error itself: an error may be shared (a key source's back-off answers the same one).
 */
export function withChallenge<E extends AuthError>(error: E, challenge: Challenge): E {
  const copy = Object.create(Object.getPrototypeOf(error) as object, Object.getOwnPropertyDescriptors(error)) as E
  Object.defineProperty(copy, CHALLENGE, { value: challenge })
  return copy
}

/** 401 without an error code: the request carried no credentials at all. */
export class MissingTokenError extends AuthError {
  override name = 'MissingTokenError'
  constructor(init: AuthErrorInit = { reason: 'no bearer token in the request' }) {
    super(401, 'missing_token', 'authentication required', init)
  }
}

/** 400: the Authorization header is malformed (wrong syntax, two tokens, a token in two places). */
export class InvalidRequestError extends AuthError {
  override name = 'InvalidRequestError'
  constructor(init: AuthErrorInit) {
    super(400, 'invalid_request', 'malformed authorization header', init)
  }
}

/** 401: the token itself is unacceptable (signature, algorithm, claims, revoked, unknown key). */
export class InvalidTokenError extends AuthError {
  override name = 'InvalidTokenError'
  /** The claim that failed a check, when one did. */
  readonly claim: string | undefined
  constructor(init: AuthErrorInit & { claim?: string }) {
    super(401, 'invalid_token', 'invalid token', init)
    this.claim = init.claim
  }
}

/** 401: `exp` has passed (beyond the clock tolerance). */
export class TokenExpiredError extends InvalidTokenError {
  override name = 'TokenExpiredError'
  readonly expiredAt: Date
  constructor(init: AuthErrorInit & { expiredAt: Date }) {
    super({ description: 'token expired', claim: 'exp', ...init })
    this.expiredAt = init.expiredAt
  }
}

/** 401: the token's `jti` is in the revocation store. */
export class TokenRevokedError extends InvalidTokenError {
  override name = 'TokenRevokedError'
  constructor(init: AuthErrorInit) {
    super({ description: 'token revoked', claim: 'jti', ...init })
  }
}

/**
 * 401 `invalid_dpop_proof`: the `DPoP` proof of a request is missing, malformed, not signed by its
 * key, or does not match the request (method, URL, time, access token, the token's key), or it was
 * seen before (RFC 9449 §4.3, §7.1).
 */
export class InvalidDpopProofError extends AuthError {
  override name = 'InvalidDpopProofError'
  constructor(init: AuthErrorInit) {
    super(401, 'invalid_dpop_proof', 'invalid DPoP proof', init)
  }
}

/** 401 `use_dpop_nonce`: the proof must carry the server nonce sent in `DPoP-Nonce` (RFC 9449 §8). */
export class UseDpopNonceError extends AuthError {
  override name = 'UseDpopNonceError'
  constructor(init: AuthErrorInit) {
    super(401, 'use_dpop_nonce', 'DPoP nonce required', init)
  }
}

/** 403: authenticated, but a role, scope or claim the route needs is missing. */
export class InsufficientScopeError extends AuthError {
  override name = 'InsufficientScopeError'
  /** What the route required (scopes, roles or claim names). */
  readonly required: string[]
  /** Scopes named in the challenge's `scope` attribute (RFC 6750 §3); empty for role/claim checks. */
  readonly scopes: string[]
  constructor(init: AuthErrorInit & { required: string[]; scopes?: string[] }) {
    super(403, 'insufficient_scope', 'insufficient scope', init)
    this.required = init.required
    this.scopes = init.scopes ?? []
  }

  override wwwAuthenticate(realm: string = DEFAULT_REALM): string {
    const base = super.wwwAuthenticate(realm) as string
    return this.scopes.length > 0 ? `${base}, scope="${quote(this.scopes.join(' '))}"` : base
  }
}

/** 503: keys could not be fetched and none are cached. The token is not blamed. */
export class KeySourceUnavailableError extends AuthError {
  override name = 'KeySourceUnavailableError'
  /** Seconds a client should wait before retrying (`Retry-After`). */
  readonly retryAfter: number
  constructor(init: AuthErrorInit & { retryAfter?: number }) {
    super(503, 'temporarily_unavailable', 'authorization keys unavailable, retry later', init)
    this.retryAfter = init.retryAfter ?? 5
  }

  override wwwAuthenticate(): undefined {
    return undefined
  }
}

/**
 * True for any bearer-guard `AuthError`, also one thrown by a second copy of the package
 * (ESM and CJS side by side), which `instanceof` would miss.
 */
export function isAuthError(value: unknown): value is AuthError {
  return (
    value instanceof AuthError ||
    (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true)
  )
}

/** RFC 6750 §3 allows only %x20-21 / %x23-5B / %x5D-7E inside the quoted values. */
function quote(value: string): string {
  return value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')
}
