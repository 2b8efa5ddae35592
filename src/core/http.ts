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

/** Options of the default answer. */
export interface ErrorResponseOptions {
  /** Realm of the challenge. Default: `'api'`. */
  realm?: string
  /**
   * The URL of the protected-resource metadata (RFC 9728 §5.1): every challenge then ends with
   * `resource_metadata="…"`. Default: none.
   */
  resourceMetadata?: string | URL
}

/**
 * The default answer to an `AuthError`: `WWW-Authenticate` (except 503), `Retry-After` (503),
 * `Cache-Control: no-store`, and a JSON body built from `code` and `description` only.
 *
 * @param error The error.
 * @param options `realm` of the challenge (default `'api'`), and `resourceMetadata`.
 */
export function toErrorResponse(error: AuthError, options: ErrorResponseOptions = {}): ErrorResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  }
  let challenge = error.wwwAuthenticate(options.realm ?? DEFAULT_REALM)
  if (challenge !== undefined && options.resourceMetadata !== undefined) {
    // a URL's serialization has no `"` or `\`; anything outside RFC 6750's quoted-string set is dropped all the same
    challenge += `, resource_metadata="${String(options.resourceMetadata).replace(/[^\x21\x23-\x5b\x5d-\x7e]/g, '')}"`
  }
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
export function toWebResponse(error: AuthError, options: ErrorResponseOptions = {}): Response {
  return webResponse(toErrorResponse(error, options))
}

/** An `ErrorResponse` as a Web `Response`. */
export function webResponse({ status, headers, body }: ErrorResponse): Response {
  return new Response(JSON.stringify(body), { status, headers })
}
