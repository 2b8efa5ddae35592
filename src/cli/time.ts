/**
 * Times relative to now, for people ("expired 3 min ago", "nbf in 10 s") and for scripts (seconds).
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */

/** NumericDate claims shown with their time (RFC 7519 §4.1, OpenID Connect Core §2). */
export const TIME_CLAIMS = ['exp', 'nbf', 'iat', 'auth_time'] as const
export type TimeClaim = (typeof TIME_CLAIMS)[number]

/** Largest NumericDate a `Date` can hold (seconds). */
const MAX_TIME = 8.64e12

/** A span of seconds in one unit, rounded down: `10 s`, `3 min`, `2 h`, `4 d`. */
export function span(seconds: number): string {
  const s = Math.floor(Math.abs(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 172800) return `${Math.floor(s / 3600)} h`
  return `${Math.floor(s / 86400)} d`
}

/** A claim's time relative to `now` (epoch seconds), or `undefined` when the value is not a time. */
export function describeTime(claim: TimeClaim, value: unknown, now: number): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_TIME) return undefined
  const d = value - now
  const past = d <= 0
  switch (claim) {
    case 'exp':
      return past ? `expired ${span(d)} ago` : `expires in ${span(d)}`
    case 'nbf':
      return past ? `valid since ${span(d)} ago` : `nbf in ${span(d)} (not valid yet)`
    case 'iat':
      return past ? `issued ${span(d)} ago` : `issued in ${span(d)} (in the future: clock skew?)`
    case 'auth_time':
      return past ? `authenticated ${span(d)} ago` : `authenticated in ${span(d)} (in the future: clock skew?)`
  }
}

/** ISO 8601 of a NumericDate, or `undefined` when it is not a time. */
export function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_TIME) return undefined
  return new Date(value * 1000).toISOString()
}
