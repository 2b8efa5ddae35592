/**
 * The token of an `Authorization` value for `verifier.authenticate`: RFC 6750 §2.1 extraction
 * (extract.ts), with a shortcut for the common form.
 *
 * @module bearer-guard
 */
import { extractBearer } from '../extract.js'
import { MAX_AUTHORIZATION_LENGTH } from '../limits.js'
import type { HeaderValue } from '../request.js'

/**
 * `Bearer <compact JWS>`: a value of this form is what `extractBearer` would read as the string after
 * `Bearer ` (one space, no whitespace or commas, b64token characters), so it is taken without it.
 */
const BEARER_JWS = /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * The bearer token of `authorization`, exactly as `extractBearer` reads it (which throws its
 * `AuthError`). The shortcut: a single `Bearer <token>` whose token is a compact JWS, or is served
 * from the cache right now (a cached token is a compact JWS), is taken as it is.
 */
export function bearerToken(authorization: string | readonly string[] | null | undefined, cached?: { peek(token: string): unknown }): string {
  // one header given as a list (Node's headersDistinct) reads as that header, as in extractBearer
  const value = typeof authorization === 'string' || !Array.isArray(authorization) || authorization.length !== 1 ? authorization : authorization[0]
  if (typeof value === 'string' && value.length <= MAX_AUTHORIZATION_LENGTH && value.startsWith('Bearer ')) {
    const token = value.slice(7)
    if ((cached !== undefined && cached.peek(token) !== undefined) || BEARER_JWS.test(value)) return token
  }
  return extractBearer(authorization)
}

/**
 * The token of a single `Bearer <token>` value whose syntax check can be left to the JWS reader, or
 * `undefined` (read it with `bearerToken`). Whenever `extractBearer` accepts such a value, it answers
 * this very string (one space after the scheme, no OWS at the end); and a token the JWS reader (or
 * the cache, which holds only tokens it read) accepts is a b64token. So the caller verifies the token
 * at once and, should that fail, asks `extractBearer` first (`malformedFirst`): a malformed header is
 * still refused as `extractBearer` refuses it (400), and nothing else changes. What the caller must not
 * do with the token before it is read as a JWS: send it anywhere (introspection).
 */
export function deferredBearer(authorization: HeaderValue): string | undefined {
  if (typeof authorization !== 'string' || authorization.length > MAX_AUTHORIZATION_LENGTH || !authorization.startsWith('Bearer ')) return undefined
  const first = authorization.charCodeAt(7)
  const last = authorization.charCodeAt(authorization.length - 1)
  // `Bearer ` alone gives NaN: not taken
  if (!(first > 0x20) || last === 0x20 || last === 0x09) return undefined
  return authorization.slice(7)
}

/** Why a request whose token came from `deferredBearer` failed: `extractBearer`'s refusal first, else `error`. */
export function malformedFirst(error: unknown, authorization: HeaderValue): unknown {
  try {
    extractBearer(authorization)
  } catch (malformed) {
    return malformed
  }
  return error
}
