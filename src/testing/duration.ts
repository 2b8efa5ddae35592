/**
 * Duration parsing for the test issuer (private).
 *
 * @module bearer-guard/testing
 */

import { parseDuration } from '../core/duration.js'

/**
 * Seconds of a duration: a number is taken as seconds, a string such as `'5m'`, `'-1h'` or
 * `'30 seconds'` is parsed (the core's units, plus a sign: test tokens may be dated in the past).
 * Throws a `TypeError` naming `name` when the value is not a duration.
 */
export function toSeconds(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`"${name}" must be a finite number of seconds`)
    return value
  }
  const match = /^\s*([-+])?\s*(.*)$/s.exec(value) as RegExpExecArray
  const seconds = parseDuration(match[2] as string)
  if (seconds === undefined) {
    throw new TypeError(`"${name}" must be seconds or a duration string such as '5m', got '${value}'`)
  }
  return match[1] === '-' ? -seconds : seconds
}
