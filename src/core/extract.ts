/**
 * RFC 6750 §2.1 extraction of a bearer token from an Authorization header value.
 *
 * @module bearer-guard
 */
import { InvalidRequestError, MissingTokenError } from './errors.js'

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const MAX_HEADER_LENGTH = 16 * 1024

// tchar (RFC 9110 §5.6.2): the characters of an auth-scheme and of an auth-param's name
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1
}

const isTchar = (code: number) => code < 128 && TCHAR[code] === 1
/** OWS is SP and HTAB only (RFC 9110 §5.6.3), not every space `String.prototype.trim()` removes. */
const isOws = (code: number) => code === 0x20 || code === 0x09

function skipOws(value: string, i: number): number {
  while (i < value.length && isOws(value.charCodeAt(i))) i++
  return i
}

function trimOws(value: string): string {
  const start = skipOws(value, 0)
  let end = value.length
  while (end > start && isOws(value.charCodeAt(end - 1))) end--
  return value.slice(start, end)
}

/**
 * The credentials in an Authorization value. Several Authorization lines reach a Web `Headers`
 * joined with ", ", so after a comma (and OWS) a new credential starts unless an auth-param
 * (`token BWS "="`) follows: `Digest a="1", b="2"` is one credential, `Basic x, Bearer y` two.
 * Commas inside a quoted-string are not separators. An empty element (an empty line) counts as one.
 */
function splitCredentials(value: string): string[] {
  const credentials: string[] = []
  let start = 0
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code === 0x22) {
      // quoted-string: skip to the closing quote, honouring quoted-pairs
      for (i++; i < value.length && value.charCodeAt(i) !== 0x22; i++) {
        if (value.charCodeAt(i) === 0x5c) i++
      }
      if (i >= value.length) throw new InvalidRequestError({ reason: 'unterminated quoted-string in the authorization header' })
    } else if (code === 0x2c) {
      const next = skipOws(value, i + 1)
      let end = next
      while (end < value.length && isTchar(value.charCodeAt(end))) end++
      const authParam = end > next && value.charCodeAt(skipOws(value, end)) === 0x3d
      if (!authParam) {
        credentials.push(trimOws(value.slice(start, i)))
        start = next
      }
    }
  }
  credentials.push(trimOws(value.slice(start)))
  return credentials
}

/**
 * Returns the token of an `Authorization: Bearer <token>` header value.
 * The scheme is case-insensitive; exactly one token in b64token syntax is accepted, with only SP and
 * HTAB around it (RFC 9110 OWS).
 *
 * - no header, an empty one, or one credential of another scheme (`Basic …`): `MissingTokenError`
 *   (401, no error code)
 * - `Bearer` without a token, two tokens, bad characters, another kind of whitespace, several
 *   Authorization headers or several credentials in one (`Basic …, Bearer …`, as a Web `Headers`
 *   joins two lines): `InvalidRequestError` (400)
 *
 * @example Read the token of a request's header.
 * ```ts
 * import { extractBearer } from 'bearer-guard'
 * const token = extractBearer(request.headers.get('authorization'))
 * ```
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
  const value = trimOws(authorization)
  if (value === '') throw new MissingTokenError()
  const credentials = splitCredentials(value)
  if (credentials.length > 1) {
    throw new InvalidRequestError({ reason: `${credentials.length} credentials in the authorization header` })
  }
  let end = 0
  while (end < value.length && isTchar(value.charCodeAt(end))) end++
  const scheme = value.slice(0, end)
  if (end === 0 || (end < value.length && !isOws(value.charCodeAt(end)))) {
    throw new InvalidRequestError({ reason: 'authorization scheme is not a token (RFC 9110 §11.4)' })
  }
  if (scheme.toLowerCase() !== 'bearer') {
    throw new MissingTokenError({ reason: `authorization scheme "${scheme.slice(0, 20)}" is not Bearer` })
  }
  if (end === value.length) throw new InvalidRequestError({ reason: 'Bearer scheme without a token' })
  const rest = value.slice(skipOws(value, end))
  if (/[ \t,]/.test(rest)) {
    throw new InvalidRequestError({ reason: 'more than one credential in the authorization header' })
  }
  if (!B64TOKEN.test(rest)) {
    throw new InvalidRequestError({ reason: 'bearer token is not b64token syntax (RFC 6750 §2.1)' })
  }
  return rest
}
