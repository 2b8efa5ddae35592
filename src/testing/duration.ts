/**
 * Duration parsing for the test issuer (private).
 *
 * @module bearer-guard/testing
 */

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
}

const PATTERN = /^\s*(-|\+)?\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i

/**
 * Seconds of a duration: a number is taken as seconds, a string such as `'5m'`, `'-1h'` or
 * `'30 seconds'` is parsed. Throws a `TypeError` naming `name` when the value is not a duration.
 */
export function toSeconds(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`"${name}" must be a finite number of seconds`)
    return value
  }
  const match = PATTERN.exec(value)
  const unit = UNITS[(match?.[3] ?? 's').toLowerCase()]
  if (!match || unit === undefined) {
    throw new TypeError(`"${name}" must be seconds or a duration string such as '5m', got '${value}'`)
  }
  const seconds = Number(match[2]) * unit
  return match[1] === '-' ? -seconds : seconds
}
