/**
 * Warnings through the `logger` option, at most one per cause per minute: a key source that fails
 * on every request must not flood the log, and must not be silent either.
 *
 * @module bearer-guard
 */
import type { Logger } from './types.js'

/** One warning per cause per this window. */
export const WARNING_WINDOW_MS = 60_000
/** Causes remembered per logger; beyond, those older than the window are forgotten. */
const MAX_CAUSES = 256

interface Told {
  at: number
  /** Warnings of this cause held back since. */
  held: number
}

/** Per logger (verifiers sharing `console` share the limit): when each cause was last told. */
const toldBy = new WeakMap<Logger, Map<string, Told>>()

/**
 * Warns `message` unless `cause` was told within the window; `cause` must leave out what varies
 * between repeats of one failure (addresses, sizes, ages).
 */
export type Warn = (cause: string, message: string) => void

const silent: Warn = () => {}

/** A `Warn` for the `logger` option: `undefined` is `console`, `false` mutes. */
export function createWarn(logger: Logger | false | undefined): Warn {
  if (logger === false) return silent
  const target: Logger | undefined = logger ?? (globalThis as { console?: Logger }).console
  if (!target) return silent
  let told = toldBy.get(target)
  if (!told) toldBy.set(target, (told = new Map()))
  const causes = told
  return (cause, message) => {
    const now = Date.now()
    const last = causes.get(cause)
    if (last && now - last.at < WARNING_WINDOW_MS) {
      last.held++
      return
    }
    if (causes.size >= MAX_CAUSES) forgetOld(causes, now)
    causes.set(cause, { at: now, held: 0 })
    const text = last && last.held > 0 ? `${message} (${last.held} more in the last minute)` : message
    try {
      target.warn(text)
    } catch {
      // a logger that throws must not turn into a failed request
    }
  }
}

function forgetOld(causes: Map<string, Told>, now: number): void {
  for (const [cause, told] of causes) if (now - told.at >= WARNING_WINDOW_MS) causes.delete(cause)
  if (causes.size >= MAX_CAUSES) causes.clear()
}
