/**
 * RFC 6750 §2.1 extraction of a bearer token from an Authorization header value.
 *
 * @module bearer-guard
 */
import { InvalidRequestError, MissingTokenError } from './errors.js'

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const MAX_HEADER_LENGTH = 16 * 1024

/**
 * Returns the token of an `Authorization: Bearer <token>` header value.
 * The scheme is case-insensitive; exactly one space-separated token in b64token syntax is accepted.
 *
 * - no header, an empty one, or another scheme (`Basic …`): `MissingTokenError` (401, no error code)
 * - `Bearer` without a token, two tokens, bad characters, several Authorization headers: `InvalidRequestError` (400)
 *
 * @param authorization The header value; Node gives `string | string[] | undefined`.
 */
export function extractBearer(authorization: string | readonly string[] | null | undefined): string {
  if (authorization === undefined || authorization === null) {
    throw new MissingTokenError()
  }
  if (typeof authorization !== 'string') {
    if (!Array.isArray(authorization)) {
      throw new InvalidRequestError({ reason: `authorization header of type ${typeof authorization}` })
    }
    if (authorization.length === 0) throw new MissingTokenError()
    if (authorization.length > 1) {
      throw new InvalidRequestError({ reason: `${authorization.length} authorization headers` })
    }
    return extractBearer(authorization[0] as string)
  }
  if (authorization.length > MAX_HEADER_LENGTH) {
    throw new InvalidRequestError({ reason: `authorization header of ${authorization.length} characters` })
  }
  const value = authorization.trim()
  if (value === '') throw new MissingTokenError()
  const space = value.search(/[ \t]/)
  const scheme = space === -1 ? value : value.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') {
    throw new MissingTokenError({ reason: `authorization scheme "${scheme.slice(0, 20)}" is not Bearer` })
  }
  if (space === -1) throw new InvalidRequestError({ reason: 'Bearer scheme without a token' })
  const rest = value.slice(space).replace(/^[ \t]+/, '')
  if (/[ \t,]/.test(rest)) {
    throw new InvalidRequestError({ reason: 'more than one credential in the authorization header' })
  }
  if (!B64TOKEN.test(rest)) {
    throw new InvalidRequestError({ reason: 'bearer token is not b64token syntax (RFC 6750 §2.1)' })
  }
  return rest
}
