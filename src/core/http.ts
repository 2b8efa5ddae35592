/**
 * The one error answer every adapter sends: status, RFC 6750 headers and a `{ error, error_description }` body.
 *
 * @module bearer-guard
 */
import { DEFAULT_REALM, type AuthError, type AuthErrorCode } from './errors.js'

/** A framework-neutral HTTP answer. Header names are lower case. */
export interface ErrorResponse {
  status: number
  headers: Record<string, string>
  body: { error: AuthErrorCode; error_description: string }
}

/**
 * The default answer to an `AuthError`: `WWW-Authenticate` (except 503), `Retry-After` (503),
 * `Cache-Control: no-store`, and a JSON body built from `code` and `description` only.
 *
 * @param error The error.
 * @param options `realm` of the challenge. Default: `'api'`.
 */
export function toErrorResponse(error: AuthError, options: { realm?: string } = {}): ErrorResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  }
  const challenge = error.wwwAuthenticate(options.realm ?? DEFAULT_REALM)
  if (challenge !== undefined) headers['www-authenticate'] = challenge
  const sender = error.challenge
  if (sender?.nonce !== undefined) headers['dpop-nonce'] = sender.nonce
  // a browser client reads the challenge and the nonce only when CORS exposes them
  if (sender?.algs !== undefined) headers['access-control-expose-headers'] = 'WWW-Authenticate, DPoP-Nonce'
  // by status, not class: the error may come from another copy of the package (ESM beside CJS)
  if (error.status === 503) {
    headers['retry-after'] = String((error as { retryAfter?: number }).retryAfter ?? 5)
  }
  return { status: error.status, headers, body: error.toJSON() }
}

/** The same answer as a Web `Response` (Hono, Next.js, edge handlers). */
export function toWebResponse(error: AuthError, options: { realm?: string } = {}): Response {
  return webResponse(toErrorResponse(error, options))
}

/** An `ErrorResponse` as a Web `Response`. */
export function webResponse({ status, headers, body }: ErrorResponse): Response {
  return new Response(JSON.stringify(body), { status, headers })
}
