/**
 * The Redis store's options, checked once at creation against one table of rules and turned into a
 * frozen config in milliseconds. Errors read like the core's: `bearer-guard: invalid option "x": …`.
 * (The core validates with zod; this subpath does not load zod, so the rules are plain functions.)
 *
 * @module bearer-guard/redis
 */
import { parseDuration } from '../core/duration.js'
import type { Duration } from '../core/types.js'
import { clientKeyPrefix } from './wire.js'
import type { RedisClientLike, RedisRevocationStoreOptions, RedisSubscriberLike, RevocationLogger } from './types.js'

/** The checked options, in milliseconds. `maxStalenessMs` is `Infinity` with `maxStaleness: false`. */
export interface StoreConfig {
  readonly client: RedisClientLike
  /** The client's own ioredis `keyPrefix` (`''` without one). */
  readonly clientPrefix: string
  readonly subscriber: RedisSubscriberLike | undefined
  readonly prefix: string
  readonly channel: string
  readonly resyncMs: number
  readonly maxStalenessMs: number
  readonly heartbeatMs: number
  readonly commandTimeoutMs: number
  readonly max: number
  readonly log: RevocationLogger
}

/** Longest duration option: one day (it also keeps every timer below setTimeout's 2^31 ms). */
const MAX_DURATION_SECONDS = 86_400
const CLIENT_METHODS = ['set', 'publish', 'scan', 'pttl', 'exists'] as const
const SUBSCRIBER_METHODS = ['subscribe', 'on', 'removeAllListeners'] as const
const CONSOLE: RevocationLogger = { warn: (m) => console.warn(m), error: (m) => console.error(m) }

/** Checks one option's value (`undefined` when absent) and returns it converted; throws a `TypeError` naming it. */
export type Rule<T> = (value: unknown, name: string) => T

/** One rule per option: the table is the whole validation, and the type keeps it complete. */
const RULES = {
  client: required(methods<RedisClientLike>(CLIENT_METHODS, 'an ioredis client')),
  subscriber: optional(methods<RedisSubscriberLike>(SUBSCRIBER_METHODS, 'an ioredis connection')),
  prefix: optional(nonEmptyString, 'bearer-guard:revoked:'),
  channel: optional(nonEmptyString, 'bearer-guard:revocations'),
  resyncInterval: optional(durationMs, 30_000),
  maxStaleness: optional((v, name) => (v === false ? Infinity : durationMs(v, name)), 60_000),
  heartbeatInterval: optional(durationMs),
  commandTimeout: optional(durationMs, 1000),
  max: optional(positiveInteger, 100_000),
  logger: optional(logger, CONSOLE),
} satisfies { [K in keyof RedisRevocationStoreOptions]-?: Rule<unknown> }

/**
 * A reader of `options` by `rules`: refuses a non-object (as a missing `client`) and any option the
 * table does not name, then reads each option through its rule.
 */
export function optionReader<R extends Record<string, Rule<unknown>>>(
  rules: R,
  options: unknown,
): <K extends keyof R & string>(key: K) => ReturnType<R[K]> {
  if (typeof options !== 'object' || options === null) throw invalid('client', 'is required: an ioredis client')
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(rules, key))
  if (unknown.length > 0) {
    throw new TypeError(`bearer-guard: ${unknown.map((key) => `unknown option "${key}"`).join('; ')}`)
  }
  const input = options as Record<string, unknown>
  return (key) => rules[key]!(input[key], key) as ReturnType<R[typeof key]>
}

/** Checks `options` and returns the store's config; throws a `TypeError` naming the first bad option. */
export function parseOptions(options: RedisRevocationStoreOptions): StoreConfig {
  const read = optionReader(RULES, options)
  const client = read('client')
  const subscriber = read('subscriber')
  if (subscriber === undefined && typeof client.duplicate !== 'function') {
    throw invalid('client', 'expected duplicate(), or pass "subscriber"')
  }
  const maxStalenessMs = read('maxStaleness')
  const heartbeatMs = read('heartbeatInterval') ?? Math.max(100, Math.min(5000, maxStalenessMs / 4))
  if (heartbeatMs >= maxStalenessMs) throw invalid('heartbeatInterval', 'must be shorter than "maxStaleness"')
  return Object.freeze({
    client,
    clientPrefix: clientKeyPrefix(client),
    subscriber,
    prefix: read('prefix'),
    channel: read('channel'),
    resyncMs: read('resyncInterval'),
    maxStalenessMs,
    heartbeatMs,
    commandTimeoutMs: read('commandTimeout'),
    max: read('max'),
    log: read('logger'),
  })
}

/** Milliseconds of a duration option (seconds or a string such as `'500ms'`), positive and at most one day. */
export function durationMs(value: unknown, name: string): number {
  const seconds = typeof value === 'number' || typeof value === 'string' ? parseDuration(value as Duration) : undefined
  if (seconds === undefined || seconds <= 0) {
    throw invalid(name, 'expected a positive number of seconds or a duration string such as "500ms", "30s", "1m"')
  }
  if (seconds > MAX_DURATION_SECONDS) throw invalid(name, `must be at most ${MAX_DURATION_SECONDS} seconds, got ${seconds}`)
  return Math.round(seconds * 1000)
}

export function invalid(name: string, problem: string): TypeError {
  return new TypeError(`bearer-guard: invalid option "${name}": ${problem}`)
}

export function optional<T>(rule: Rule<T>): Rule<T | undefined>
export function optional<T>(rule: Rule<T>, fallback: T): Rule<T>
export function optional<T>(rule: Rule<T>, fallback?: T): Rule<T | undefined> {
  return (value, name) => (value === undefined ? fallback : rule(value, name))
}

export function required<T>(rule: Rule<T>): Rule<T> {
  return (value, name) => {
    if (value === undefined) throw invalid(name, 'is required: an ioredis client')
    return rule(value, name)
  }
}

export function methods<T>(names: readonly string[], what: string): Rule<T> {
  return (value, name) => {
    for (const method of names) {
      if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function') {
        throw invalid(name, `expected ${what} (no ${method}())`)
      }
    }
    return value as T
  }
}

export function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'expected a non-empty string')
  return value
}

function positiveInteger(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw invalid(name, 'expected a positive integer')
  return value as number
}

function logger(value: unknown, name: string): RevocationLogger {
  if (value === false) return {}
  if (typeof value !== 'object' || value === null) throw invalid(name, 'expected { debug?, info?, warn?, error? }, or false')
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    const method = (value as Record<string, unknown>)[level]
    if (method !== undefined && typeof method !== 'function') throw invalid(`${name}.${level}`, 'expected a function')
  }
  return value as RevocationLogger
}
