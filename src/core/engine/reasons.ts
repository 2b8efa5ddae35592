/**
 * How the engine words a refusal: the `InvalidTokenError` of a stage, values quoted for a reason,
 * and the conversion of anything else thrown on the way into an `AuthError` (never fail open).
 *
 * @module bearer-guard
 */
import { AuthError, InvalidTokenError, isAuthError } from '../errors.js'

/** A 401 `invalid_token` with this reason (and the claim it concerns). */
export function invalid(reason: string, claim?: string): InvalidTokenError {
  return new InvalidTokenError({ reason, claim })
}

/** A value as JSON, cut to `max` characters: quotes strings, so `"http://x/"` shows its slash. */
export function quote(value: unknown, max: number): string {
  return String(JSON.stringify(value)).slice(0, max)
}

/** Accepted values for a message: `"a" or "b"` (the list cut after a few). */
export function quoteAll(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((v) => quote(v, 200))
  return `${shown.join(' or ')}${values.length > 5 ? ` or ${values.length - 5} more` : ''}`
}

/** What a verification throws: an `AuthError` as it is, anything else (a bug, a user callback's error) as a 401. */
export function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError || isAuthError(error)) return error
  return new InvalidTokenError({ reason: `verification failed: ${(error as Error)?.message ?? String(error)}`, cause: error })
}
