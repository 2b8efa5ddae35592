/**
 * The public types of `bearer-guard/redis`: the part of an ioredis client the store uses, its
 * options, its health and the store itself.
 *
 * @module bearer-guard/redis
 */
import type { Duration, RevocationStore } from '../core/types.js'

/**
 * The part of an ioredis client the store uses (structural: ioredis is never imported). The store
 * does not close this client; it closes only the subscriber connection it made with `duplicate()`.
 */
export interface RedisClientLike {
  set(key: string, value: string, mode: 'PXAT', unixTimeMilliseconds: number): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  scan(
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[cursor: string, keys: string[]]>
  pttl(key: string): Promise<number>
  exists(key: string): Promise<number>
  duplicate(): RedisSubscriberLike
  /**
   * The client's options. A `keyPrefix` there is honoured: ioredis adds it to SET, EXISTS and PTTL
   * but not to SCAN's MATCH, so the store adds it to the pattern itself.
   */
  readonly options?: { readonly keyPrefix?: string }
}

/** The part of an ioredis connection in subscriber mode the store uses. */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>
  on(event: string, listener: (...args: any[]) => void): unknown
  removeAllListeners(event?: string): unknown
  disconnect(): void
  readonly status: string
}

/** Where the store reports state changes. `console` fits; so does a pino or winston logger. */
export interface RevocationLogger {
  debug?(message: string): void
  info?(message: string): void
  warn?(message: string): void
  error?(message: string): void
}

/** Options of {@link createRedisRevocationStore}. Unknown options are refused. */
export interface RedisRevocationStoreOptions {
  /** An ioredis client (`new Redis(url)`, with or without `keyPrefix`). Required. */
  client: RedisClientLike
  /** A connection for pub/sub. Default: `client.duplicate()`, closed by `close()`. */
  subscriber?: RedisSubscriberLike
  /** Key prefix of revoked jtis (after the client's own `keyPrefix`). Default: `'bearer-guard:revoked:'`. */
  prefix?: string
  /** Pub/sub channel of revocations and heartbeats. Default: `'bearer-guard:revocations'`. */
  channel?: string
  /** How often the mirror is rebuilt from a SCAN of the prefix. Default: `'30s'`, at most one day. */
  resyncInterval?: Duration
  /**
   * How long the mirror may go without proof that it is complete (a resync, or any message on the
   * channel while subscribed) before `isRevoked` fails closed with a 503
   * (`KeySourceUnavailableError`). `false` never fails closed. Default: `'60s'`, at most one day.
   */
  maxStaleness?: Duration | false
  /** How often a heartbeat is published, proving the pub/sub path end to end. Default: a quarter of `maxStaleness`, at most `'5s'`. */
  heartbeatInterval?: Duration
  /** Timeout of every Redis command the store awaits. Default: `'1s'`. */
  commandTimeout?: Duration
  /**
   * Most jtis mirrored. Beyond it, the least recently used entries leave the mirror, and lookups
   * that miss it ask Redis (a Promise, with `commandTimeout`). Default: `100000`.
   */
  max?: number
  /** Where state changes are logged. `false` silences. Default: warnings and errors to `console`. */
  logger?: RevocationLogger | false
}

/** Health of the store, for readiness probes and metrics. */
export interface RedisRevocationStatus {
  /** Jtis in the mirror (expired ones may linger until purged). */
  size: number
  /** True while subscribed and resynced since the subscription started. */
  synced: boolean
  /** Milliseconds since the mirror was last proven complete. */
  stalenessMs: number
  /** True when `isRevoked` currently fails closed. */
  stale: boolean
}

/** A Redis-backed `RevocationStore`. */
export interface RedisRevocationStore extends RevocationStore {
  /** Answered from the mirror: a boolean, or a Promise only after the mirror overflowed `max`. Throws `KeySourceUnavailableError` when stale. */
  isRevoked(jti: string, claims?: unknown): boolean | Promise<boolean>
  /**
   * Mirrors the jti at once, then stores it in Redis until `expiresAt` (plus the largest clock
   * tolerance, 300 s) and publishes it. `expiresAt` is a `Date` (`auth.expiresAt`) or a NumericDate
   * in seconds (`claims.exp`); a number that can only be milliseconds is refused with a `TypeError`.
   * A jti of any length is accepted (over 1024 characters, its SHA-256 names it in Redis). Rejects
   * when Redis did not confirm within `commandTimeout`; the jti is then still denied locally and
   * written again after the next reconnect.
   */
  revoke(jti: string, expiresAt: Date | number): Promise<void>
  /** Resolves after the first complete sync. Rejects when `timeout` passes first, or on `close()`. */
  ready(timeout?: Duration): Promise<void>
  /** Rebuilds the mirror from Redis now. */
  resync(): Promise<void>
  /** Current health. */
  readonly status: RedisRevocationStatus
  /** Stops timers and the subscriber connection. The `client` stays open (it is yours). */
  close(): Promise<void>
}

/**
 * The part of a Redis client the replay store uses: one `SET key value PX ms NX`. An ioredis `Redis`
 * or `Cluster` fits (structural: ioredis is never imported); its `keyPrefix` applies as usual.
 */
export interface RedisReplayClientLike {
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<unknown>
}

/** Options of {@link createRedisReplayStore}. Unknown options are refused. */
export interface RedisReplayStoreOptions {
  /** An ioredis client (`new Redis(url)`, with or without `keyPrefix`), shared by every instance. Required. */
  client: RedisReplayClientLike
  /** Key prefix of seen proof ids (after the client's own `keyPrefix`). Default: `'bearer-guard:dpop:'`. */
  prefix?: string
  /**
   * Timeout of each `SET`; past it the request is answered 503 (the proof is not accepted).
   * Default: `'1s'`, at most one day.
   */
  commandTimeout?: Duration
}

/**
 * A DPoP proof replay store shared through Redis: the same shape as the core's `ReplayStore`
 * (`mark(id, expiresAt)` → `true` the first time an id is seen).
 */
export interface RedisReplayStore {
  /**
   * Records `id` until `expiresAt` (a NumericDate in seconds) with one `SET … PX … NX`: `true` when
   * this call stored it (first time seen, on any instance), `false` when it was already there (a
   * replay). Rejects with a `KeySourceUnavailableError` (503) when Redis fails or does not answer
   * within `commandTimeout`: an unknown answer never accepts a proof.
   */
  mark(id: string, expiresAt: number): Promise<boolean>
}
