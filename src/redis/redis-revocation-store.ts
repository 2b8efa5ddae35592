/**
 * `createRedisRevocationStore`: a jti denylist shared by every instance of a service through Redis,
 * answered from a local mirror so a revocation check never waits on the network.
 *
 * Subpath export `'bearer-guard/redis'`.
 *
 * @module bearer-guard/redis
 */
import { LRUCache } from 'lru-cache'
import { parseDuration } from '../core/duration.js'
import { KeySourceUnavailableError } from '../core/errors.js'
import { REVOCATION_SLACK_MS } from '../core/revocation.js'
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

/** Options of {@link createRedisRevocationStore}. */
export interface RedisRevocationStoreOptions {
  /** An ioredis client (`new Redis(url)`). Required. */
  client: RedisClientLike
  /** A connection for pub/sub. Default: `client.duplicate()`, closed by `close()`. */
  subscriber?: RedisSubscriberLike
  /** Key prefix of revoked jtis. Default: `'bearer-guard:revoked:'`. */
  prefix?: string
  /** Pub/sub channel of revocations and heartbeats. Default: `'bearer-guard:revocations'`. */
  channel?: string
  /** How often the mirror is rebuilt from a SCAN of the prefix. Default: `'30s'`. */
  resyncInterval?: Duration
  /**
   * How long the mirror may go without proof that it is complete (a resync, or any message on the
   * channel while subscribed) before `isRevoked` fails closed with a 503
   * (`KeySourceUnavailableError`). `false` never fails closed. Default: `'60s'`.
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
   * Mirrors the jti at once, then stores it in Redis until `expiresAt` (plus the largest clock tolerance, 5 minutes) and
   * publishes it. Rejects when Redis did not confirm within `commandTimeout`; the jti is then
   * still denied locally and written again after the next reconnect.
   */
  revoke(jti: string, expiresAt: Date): Promise<void>
  /** Resolves after the first complete sync. Rejects when `timeout` passes first, or on `close()`. */
  ready(timeout?: Duration): Promise<void>
  /** Rebuilds the mirror from Redis now. */
  resync(): Promise<void>
  /** Current health. */
  readonly status: RedisRevocationStatus
  /** Stops timers and the subscriber connection. The `client` stays open (it is yours). */
  close(): Promise<void>
}

/** Kept past exp for the largest clock tolerance a verifier accepts (the core's rule). */
const EXPIRY_SLACK_MS = REVOCATION_SLACK_MS
const SCAN_COUNT = 500
const MAX_JTI_LENGTH = 1024
const MAX_PENDING_WRITES = 10_000
const SILENT: RevocationLogger = {}
const CONSOLE: RevocationLogger = {
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
}

/**
 * Creates a revocation store shared through Redis.
 *
 * `isRevoked` reads a local mirror (bounded, each entry expiring with its token), kept current by
 * pub/sub and a periodic SCAN resync: a revocation on one instance is refused by the others within
 * about a millisecond of Redis' round trip. While Redis is unreachable the mirror keeps answering;
 * once it has not been proven complete for `maxStaleness`, checks fail closed with a 503.
 *
 * > [!WARNING]
 * > Revocation is one-way: deleting a key in Redis does not un-revoke a jti on instances that
 * > mirrored it, until its token expires.
 *
 * @example Share revocations between the instances of a service.
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createVerifier } from 'bearer-guard'
 * import { createRedisRevocationStore } from 'bearer-guard/redis'
 *
 * const revocation = createRedisRevocationStore({ client: new Redis(process.env.REDIS_URL!) })
 * await revocation.ready('5s').catch(() => {}) // optional: wait for the first sync
 * const verifier = createVerifier({ issuer, audience, revocation })
 * // on logout:
 * await revocation.revoke(auth.claims.jti!, auth.expiresAt)
 * ```
 *
 * @param options The client and tuning; see {@link RedisRevocationStoreOptions}.
 */
export function createRedisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  const config = normalize(options)
  const { client, prefix, channel, log } = config
  const createdAt = Date.now()
  let closed = false
  let overflowed = false
  let subscribed = false
  /** Bumped whenever the subscription may have lost messages. */
  let subscriptionEpoch = 0
  let synced = false
  let verifiedAt = createdAt
  let failingClosed = false
  let resyncing: Promise<void> | undefined
  let resyncTimer: ReturnType<typeof setTimeout> | undefined
  let readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = []
  let everSynced = false
  const pendingWrites = new Map<string, number>()

  const mirror = new LRUCache<string, number>({
    max: config.max,
    dispose(expiresAt, _jti, reason) {
      if (reason === 'evict' && expiresAt > Date.now() && !overflowed) {
        overflowed = true
        log.warn?.(
          `bearer-guard/redis: more than ${config.max} revoked jtis; lookups missing the mirror now ask Redis`,
        )
      }
    },
  })

  function remember(jti: string, expiresAtMs: number): void {
    const ttl = Math.ceil(expiresAtMs - Date.now())
    if (ttl <= 0) return
    mirror.set(jti, expiresAtMs, { ttl })
  }

  // --- subscriber --------------------------------------------------------------------------------

  const subscriber = options.subscriber ?? client.duplicate()
  const ownsSubscriber = options.subscriber === undefined
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return
    onMessage(message)
  })
  subscriber.on('ready', () => void subscribe())
  subscriber.on('close', () => lostSubscription('connection closed'))
  subscriber.on('end', () => lostSubscription('connection ended'))
  subscriber.on('error', (err: Error) => {
    log.debug?.(`bearer-guard/redis: subscriber error: ${err.message}`)
  })
  if (subscriber.status === 'ready') void subscribe()

  async function subscribe(): Promise<void> {
    if (closed) return
    const epoch = subscriptionEpoch
    try {
      await withTimeout(subscriber.subscribe(channel), config.commandTimeoutMs, 'SUBSCRIBE')
    } catch (err) {
      log.warn?.(`bearer-guard/redis: could not subscribe to '${channel}': ${message(err)}`)
      return
    }
    if (closed || epoch !== subscriptionEpoch) return
    if (!subscribed) log.info?.(`bearer-guard/redis: subscribed to '${channel}'`)
    subscribed = true
    void flushPendingWrites()
    void resync().catch(() => {})
  }

  function lostSubscription(why: string): void {
    subscriptionEpoch++
    if (!subscribed && !synced) return
    subscribed = false
    synced = false
    if (!closed) {
      log.warn?.(
        `bearer-guard/redis: subscriber ${why}; answering from the local mirror (${mirror.size} jtis) until Redis is back`,
      )
    }
  }

  function onMessage(raw: string): void {
    if (typeof raw !== 'string' || raw.length > MAX_JTI_LENGTH + 64) return
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      return
    }
    if (typeof parsed !== 'object' || parsed === null) return
    const { t, j, x } = parsed as { t?: unknown; j?: unknown; x?: unknown }
    if (t === 'r' && typeof j === 'string' && validJti(j) && typeof x === 'number' && Number.isFinite(x)) {
      remember(j, x)
    } else if (t !== 'h') {
      return
    }
    if (synced) proveFresh(Date.now())
  }

  // --- freshness ---------------------------------------------------------------------------------

  function proveFresh(at: number): void {
    if (at > verifiedAt) verifiedAt = at
    if (failingClosed) {
      failingClosed = false
      log.warn?.('bearer-guard/redis: revocation mirror is current again; checks resume')
    }
  }

  function stalenessMs(): number {
    return Date.now() - verifiedAt
  }

  function failClosed(staleFor: number): never {
    if (!failingClosed) {
      failingClosed = true
      log.error?.(
        `bearer-guard/redis: revocation mirror not synced for ${Math.round(staleFor / 1000)}s ` +
          `(maxStaleness ${config.maxStalenessMs / 1000}s); failing closed with 503 until Redis is back`,
      )
    }
    throw new KeySourceUnavailableError({
      reason: `revocation list stale: not synced with Redis for ${staleFor} ms (maxStaleness ${config.maxStalenessMs} ms)`,
      description: 'revocation list unavailable, retry later',
      retryAfter: Math.max(1, Math.ceil(config.heartbeatMs / 1000)),
    })
  }

  // --- resync ------------------------------------------------------------------------------------

  function resync(): Promise<void> {
    if (closed) return Promise.reject(new Error('bearer-guard/redis: store closed'))
    resyncing ??= runResync().finally(() => {
      resyncing = undefined
      schedule()
    })
    return resyncing
  }

  async function runResync(): Promise<void> {
    const startedAt = Date.now()
    const epoch = subscriptionEpoch
    const wasSubscribed = subscribed
    const pattern = `${escapeGlob(prefix)}*`
    let cursor = '0'
    let count = 0
    try {
      do {
        const [next, keys] = await withTimeout(
          client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
          config.commandTimeoutMs,
          'SCAN',
        )
        const ttls = await withTimeout(
          Promise.all(keys.map((k) => client.pttl(k))),
          config.commandTimeoutMs,
          'PTTL',
        )
        const now = Date.now()
        keys.forEach((key, i) => {
          const ttl = ttls[i] as number
          const jti = key.slice(prefix.length)
          if (validJti(jti) && ttl > 0) {
            remember(jti, now + ttl)
            count++
          }
        })
        cursor = String(next)
        if (closed) return
      } while (cursor !== '0')
    } catch (err) {
      log.warn?.(`bearer-guard/redis: resync failed: ${message(err)}`)
      throw err
    }
    mirror.purgeStale()
    if (overflowed && mirror.size < config.max) overflowed = count >= config.max
    if (wasSubscribed && subscribed && epoch === subscriptionEpoch) {
      const first = !synced
      synced = true
      proveFresh(startedAt)
      if (first) {
        log.info?.(`bearer-guard/redis: mirror synced (${count} revoked jtis in ${Date.now() - startedAt} ms)`)
      }
      if (!everSynced) {
        everSynced = true
        for (const w of readyWaiters) w.resolve()
        readyWaiters = []
      }
    }
  }

  function schedule(): void {
    if (closed) return
    clearTimeout(resyncTimer)
    // retry soon while not synced, else at the regular interval
    const delay = synced ? config.resyncMs : Math.min(config.resyncMs, 1000)
    resyncTimer = setTimeout(() => {
      if (subscribed) void resync().catch(() => {})
      else schedule()
    }, delay)
    unref(resyncTimer)
  }

  // --- heartbeat and writes ----------------------------------------------------------------------

  const heartbeatTimer = setInterval(() => {
    if (!subscribed) return
    withTimeout(client.publish(channel, '{"t":"h"}'), config.commandTimeoutMs, 'PUBLISH').catch((err) => {
      log.debug?.(`bearer-guard/redis: heartbeat failed: ${message(err)}`)
    })
  }, config.heartbeatMs)
  unref(heartbeatTimer)
  schedule()

  async function write(jti: string, expiresAtMs: number): Promise<void> {
    const at = expiresAtMs + EXPIRY_SLACK_MS
    await withTimeout(client.set(prefix + jti, '1', 'PXAT', at), config.commandTimeoutMs, 'SET')
    await withTimeout(
      client.publish(channel, JSON.stringify({ t: 'r', j: jti, x: at })),
      config.commandTimeoutMs,
      'PUBLISH',
    )
  }

  async function flushPendingWrites(): Promise<void> {
    for (const [jti, expiresAtMs] of [...pendingWrites]) {
      if (expiresAtMs + EXPIRY_SLACK_MS <= Date.now()) {
        pendingWrites.delete(jti)
        continue
      }
      try {
        await write(jti, expiresAtMs)
        pendingWrites.delete(jti)
      } catch {
        return
      }
    }
  }

  async function askRedis(jti: string): Promise<boolean> {
    try {
      const found = await withTimeout(client.exists(prefix + jti), config.commandTimeoutMs, 'EXISTS')
      return found > 0
    } catch (err) {
      throw new KeySourceUnavailableError({
        reason: `revocation lookup failed: ${message(err)}`,
        description: 'revocation list unavailable, retry later',
      })
    }
  }

  // --- the store ---------------------------------------------------------------------------------

  const maxStalenessMs = config.maxStalenessMs
  return {
    isRevoked(jti: string): boolean | Promise<boolean> {
      if (maxStalenessMs !== Infinity) {
        const staleFor = Date.now() - verifiedAt
        if (staleFor > maxStalenessMs) failClosed(staleFor)
      }
      if (mirror.has(jti)) return true
      if (overflowed && typeof jti === 'string' && validJti(jti)) return askRedis(jti)
      return false
    },

    async revoke(jti: string, expiresAt: Date): Promise<void> {
      if (typeof jti !== 'string' || !validJti(jti)) {
        throw new TypeError(`bearer-guard/redis: revoke() needs a jti of 1 to ${MAX_JTI_LENGTH} characters`)
      }
      const expiresAtMs = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN
      if (!Number.isFinite(expiresAtMs)) throw new TypeError('bearer-guard/redis: revoke() needs a valid Date')
      if (expiresAtMs + EXPIRY_SLACK_MS <= Date.now()) return
      remember(jti, expiresAtMs + EXPIRY_SLACK_MS)
      try {
        await write(jti, expiresAtMs)
      } catch (err) {
        if (pendingWrites.size < MAX_PENDING_WRITES) pendingWrites.set(jti, expiresAtMs)
        log.error?.(
          `bearer-guard/redis: revocation of a jti not stored in Redis (${message(err)}); ` +
            'denied on this instance only, retried after reconnect',
        )
        throw new Error(`bearer-guard/redis: revocation not shared: ${message(err)}`, { cause: err })
      }
    },

    ready(timeout?: Duration): Promise<void> {
      if (everSynced) return Promise.resolve()
      if (closed) return Promise.reject(new Error('bearer-guard/redis: store closed'))
      return new Promise<void>((resolve, reject) => {
        const waiter = { resolve, reject }
        readyWaiters.push(waiter)
        if (timeout === undefined) return
        const ms = durationMs(timeout, 'timeout')
        const timer = setTimeout(() => {
          readyWaiters = readyWaiters.filter((w) => w !== waiter)
          reject(new Error(`bearer-guard/redis: not synced with Redis within ${ms} ms`))
        }, ms)
        unref(timer)
        waiter.resolve = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    },

    resync,

    get status(): RedisRevocationStatus {
      const staleFor = stalenessMs()
      return { size: mirror.size, synced, stalenessMs: staleFor, stale: staleFor > maxStalenessMs }
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      clearTimeout(resyncTimer)
      clearInterval(heartbeatTimer)
      for (const w of readyWaiters) w.reject(new Error('bearer-guard/redis: store closed'))
      readyWaiters = []
      subscriber.removeAllListeners('message')
      subscriber.removeAllListeners('ready')
      subscriber.removeAllListeners('close')
      subscriber.removeAllListeners('end')
      if (ownsSubscriber) subscriber.disconnect()
      await resyncing?.catch(() => {})
    },
  }
}

interface Config {
  client: RedisClientLike
  prefix: string
  channel: string
  resyncMs: number
  maxStalenessMs: number
  heartbeatMs: number
  commandTimeoutMs: number
  max: number
  log: RevocationLogger
}

function normalize(options: RedisRevocationStoreOptions): Config {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('bearer-guard/redis: options with a "client" are required')
  }
  const { client } = options
  for (const method of ['set', 'publish', 'scan', 'pttl', 'exists'] as const) {
    if (typeof (client as unknown as Record<string, unknown> | undefined)?.[method] !== 'function') {
      throw new TypeError(`bearer-guard/redis: invalid option "client": expected an ioredis client (no ${method}())`)
    }
  }
  if (options.subscriber === undefined && typeof client.duplicate !== 'function') {
    throw new TypeError('bearer-guard/redis: invalid option "client": expected duplicate(), or pass "subscriber"')
  }
  const prefix = options.prefix ?? 'bearer-guard:revoked:'
  const channel = options.channel ?? 'bearer-guard:revocations'
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new TypeError('bearer-guard/redis: invalid option "prefix": expected a non-empty string')
  }
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new TypeError('bearer-guard/redis: invalid option "channel": expected a non-empty string')
  }
  const maxStalenessMs =
    options.maxStaleness === false ? Infinity : durationMs(options.maxStaleness ?? '60s', 'maxStaleness')
  const heartbeatMs =
    options.heartbeatInterval === undefined
      ? Math.max(100, Math.min(5000, maxStalenessMs / 4))
      : durationMs(options.heartbeatInterval, 'heartbeatInterval')
  if (heartbeatMs >= maxStalenessMs) {
    throw new TypeError('bearer-guard/redis: invalid option "heartbeatInterval": must be shorter than "maxStaleness"')
  }
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError('bearer-guard/redis: invalid option "max": expected a positive integer')
  }
  const logger = options.logger === false ? SILENT : (options.logger ?? CONSOLE)
  return {
    client,
    prefix,
    channel,
    resyncMs: durationMs(options.resyncInterval ?? '30s', 'resyncInterval'),
    maxStalenessMs,
    heartbeatMs,
    commandTimeoutMs: durationMs(options.commandTimeout ?? '1s', 'commandTimeout'),
    max,
    log: logger,
  }
}

function durationMs(value: Duration, name: string): number {
  const seconds = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined
  if (seconds === undefined || seconds <= 0) {
    throw new TypeError(
      `bearer-guard/redis: invalid option "${name}": expected a positive number of seconds or a duration string`,
    )
  }
  return Math.round(seconds * 1000)
}

function validJti(jti: string): boolean {
  return jti.length > 0 && jti.length <= MAX_JTI_LENGTH
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis ${what} timed out after ${ms} ms`)), ms)
    unref(timer)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function unref(timer: unknown): void {
  const handle = timer as { unref?: () => void }
  handle.unref?.()
}
