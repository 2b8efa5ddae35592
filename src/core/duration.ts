/**
 * Durations: seconds as a number, or strings like `'5s'`, `'10m'`, `'1h'`, `'2d'`, `'1w'`, `'250ms'`.
 *
 * @module bearer-guard
 */
const UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
}
const PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i

/** Seconds of a duration, or `undefined` when it is not one. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  const match = PATTERN.exec(value.trim())
  if (!match) return undefined
  const unit = (match[2] ?? 's').toLowerCase()
  const factor = UNITS[unit]
  if (factor === undefined) return undefined
  const seconds = Number(match[1]) * factor
  return Number.isFinite(seconds) ? seconds : undefined
}
