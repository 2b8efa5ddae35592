/**
 * The exception a refused request leaves Nest's guard with.
 *
 * @module bearer-guard/nestjs
 */
import { HttpException } from '@nestjs/common'
import type { AuthError } from '../../core/errors.js'
import type { ErrorResponse } from '../../core/http.js'

/**
 * What `AuthGuard` throws when it refuses a request: an `HttpException` whose status is the
 * `AuthError`'s (400, 401, 403 or 503), whose `getResponse()` is the RFC 6750 body
 * `{ error, error_description }`, and whose `cause` is the `AuthError` (with its detailed `reason`).
 * `message` is the client-safe `description`, never the reason.
 *
 * The guard sets the answer's `WWW-Authenticate`, `Retry-After` and `Cache-Control` headers on the
 * response before it throws, so Nest's default exception filter (or a filter that calls
 * `super.catch()`) sends exactly what every other bearer-guard adapter sends. A filter of yours
 * can catch it (`@Catch(AuthErrorException)`, or `HttpException`) to shape the answer; `headers`
 * holds the default answer's headers.
 *
 * @example An envelope of your own for auth failures, keeping the challenge headers.
 * ```ts
 * import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common'
 * import { AuthErrorException } from 'bearer-guard/nestjs'
 * @Catch(AuthErrorException)
 * export class AuthFailureFilter implements ExceptionFilter {
 *   catch(exception: AuthErrorException, host: ArgumentsHost) {
 *     const res = host.switchToHttp().getResponse() // Express platform
 *     res.status(exception.getStatus()).json({ ok: false, error: exception.cause.code })
 *   }
 * }
 * ```
 */
export class AuthErrorException extends HttpException {
  /** The refusal, with its `code`, client-safe `description` and server-side `reason`. */
  declare readonly cause: AuthError
  /** The default answer's headers (lower-case names), including `content-type`. */
  readonly headers: Readonly<Record<string, string>>

  constructor(error: AuthError, answer: ErrorResponse) {
    super(answer.body, answer.status, { cause: error })
    this.headers = answer.headers
    this.message = error.description
    this.name = 'AuthErrorException'
  }
}
