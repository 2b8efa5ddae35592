/**
 * The token of an `Authorization` value for `verifier.authenticate`: RFC 6750 §2.1 extraction
 * (extract.ts), with a shortcut for the common form.
 *
 * @module bearer-guard
 */
import { extractBearer } from '../extract.js'
import { MAX_AUTHORIZATION_LENGTH } from '../limits.js'

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
