/**
 * A frozen clock: `Date` stands still at a fixed instant until the test moves it, and real timers
 * come back after the test. Only `Date` is faked unless `timers: true`, so fetches, msw and
 * `setTimeout` keep running while token times stay exact.
 *
 * @example Every test of a file starts at 2030-01-01T00:00:00Z.
 * ```ts
 * const clock = useFrozenClock()
 * it('expires', async () => {
 *   clock.advance(301)
 * })
 * ```
 */
import { afterEach, beforeEach, onTestFinished, vi } from 'vitest'

/** Where a frozen clock starts by default: 2030-01-01T00:00:00Z, in milliseconds. */
export const FROZEN_AT = Date.UTC(2030, 0, 1)

/** Options of a frozen clock. */
export interface ClockOptions {
  /** Also fake `setTimeout` and friends; `advance()` then runs the timers that fall due. Default: `false`. */
  timers?: boolean
}

/** The clock of a test. */
export interface FrozenClock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number
  /** Seconds since the epoch (a NumericDate), rounded down. */
  seconds(): number
  /** Moves the clock forward (or back, with a negative number) by `seconds`. */
  advance(seconds: number): void
  /** Sets the clock to `at` (milliseconds or a `Date`). */
  set(at: number | Date): void
}

/** Freezes the clock at `start` before each test of the enclosing file or `describe`. */
export function useFrozenClock(start: number | Date = FROZEN_AT, options: ClockOptions = {}): FrozenClock {
  beforeEach(() => {
    fake(start, options)
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  return clock(options)
}

/** Freezes the clock at `at` for the rest of the current test. */
export function freezeClock(at: number | Date, options: ClockOptions = {}): FrozenClock {
  fake(at, options)
  onTestFinished(() => {
    vi.useRealTimers()
  })
  return clock(options)
}

function fake(at: number | Date, options: ClockOptions): void {
  vi.useFakeTimers(options.timers === true ? { now: at } : { toFake: ['Date'], now: at })
}

function clock(options: ClockOptions): FrozenClock {
  return {
    now: () => Date.now(),
    seconds: () => Math.floor(Date.now() / 1000),
    advance(seconds) {
      if (options.timers === true && seconds >= 0) vi.advanceTimersByTime(seconds * 1000)
      else vi.setSystemTime(Date.now() + seconds * 1000)
    },
    set(at) {
      vi.setSystemTime(at)
    },
  }
}
