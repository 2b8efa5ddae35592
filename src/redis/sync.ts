/**
 * Keeps the mirror complete and says how far it can be trusted: the subscriber (revocations and
 * heartbeats as they are published), the SCAN resync on every subscription and every
 * `resyncInterval`, and the state of state.ts, which every event passes through. Logging happens
 * on the state's edges, so each change is reported once.
 *
 * @module bearer-guard/redis
 */
import { KeySourceUnavailableError } from '../core/errors.js'
import type { Duration } from '../core/types.js'
import { errorText, unref, type Commands } from './commands.js'
import { durationMs, type StoreConfig } from './config.js'
import type { Mirror } from './mirror.js'
import { initialState, isSubscribed, next, staleness, type Event, type State } from './state.js'
import { parseMessage } from './wire.js'

export interface Sync {
  readonly state: State
  /** Rebuilds the mirror from a SCAN now (one at a time: a call during a resync shares it). */
  resync(): Promise<void>
  /** Throws `KeySourceUnavailableError` (503) when the mirror has gone unproven past `maxStaleness`. */
  assertFresh(): void
  staleness(): { ms: number; stale: boolean }
  /** Resolves after the first complete sync; rejects after `timeout` or on `close()`. */
  ready(timeout?: Duration): Promise<void>
  close(): Promise<void>
}

const CLOSED = 'bearer-guard/redis: store closed'
const SUBSCRIBER_EVENTS = ['message', 'ready', 'close', 'end'] as const

export function startSync(config: StoreConfig, mirror: Mirror, commands: Commands): Sync {
  const { log, channel, maxStalenessMs } = config
  let state = initialState(Date.now())
  let resyncing: Promise<void> | undefined
  let resyncTimer: ReturnType<typeof setTimeout> | undefined
  let firstSync!: { resolve: () => void; reject: (e: Error) => void }
  const synced = new Promise<void>((resolve, reject) => (firstSync = { resolve, reject }))
  synced.catch(() => {}) // rejected on close even when nobody waits

  function dispatch(event: Event): void {
    const before = state
    state = next(state, event)
    if (state !== before) report(before, state, event)
  }

  function report(before: State, after: State, event: Event): void {
    if (event.type === 'subscribed') log.info?.(`bearer-guard/redis: subscribed to '${channel}'`)
    if (event.type === 'lost' && isSubscribed(before.phase)) {
      log.warn?.(`bearer-guard/redis: subscriber ${event.why}; answering from the local mirror (${mirror.size} jtis) until Redis is back`)
    }
    if (event.type === 'resynced' && before.phase !== 'synced') {
      log.info?.(`bearer-guard/redis: mirror synced (${event.found} revoked jtis in ${Date.now() - event.at} ms)`)
      firstSync.resolve()
    }
    if (event.type === 'stale') {
      log.error?.(
        `bearer-guard/redis: revocation mirror not synced for ${Math.round(event.ms / 1000)}s ` +
          `(maxStaleness ${maxStalenessMs / 1000}s); failing closed with 503 until Redis is back`,
      )
    }
    if (before.failingClosed && !after.failingClosed) log.warn?.('bearer-guard/redis: revocation mirror is current again; checks resume')
  }

  // --- subscriber --------------------------------------------------------------------------------
  const subscriber = config.subscriber ?? config.client.duplicate()
  subscriber.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return
    const message = parseMessage(raw)
    if (message === undefined) return
    if (message.type === 'revoked') mirror.remember(message.id, message.untilMs)
    dispatch({ type: 'heard', at: Date.now() })
  })
  subscriber.on('ready', () => void subscribe())
  subscriber.on('close', () => dispatch({ type: 'lost', why: 'connection closed' }))
  subscriber.on('end', () => dispatch({ type: 'lost', why: 'connection ended' }))
  subscriber.on('error', (err: Error) => log.debug?.(`bearer-guard/redis: subscriber error: ${err.message}`))
  if (subscriber.status === 'ready') void subscribe()

  /** True while the store is open and the subscription of `epoch` has not been lost. */
  function live(epoch: number): boolean {
    return state.phase !== 'closed' && state.epoch === epoch
  }

  async function subscribe(): Promise<void> {
    const { epoch } = state
    if (!live(epoch)) return
    try {
      await commands.subscribe(subscriber)
    } catch (err) {
      log.warn?.(`bearer-guard/redis: could not subscribe to '${channel}': ${errorText(err)}`)
      return
    }
    if (!live(epoch)) return // lost (or closed) meanwhile: the next 'ready' subscribes again
    dispatch({ type: 'subscribed', epoch })
    void commands.replay()
    void resync().catch(() => {})
  }

  // --- resync ------------------------------------------------------------------------------------
  function resync(): Promise<void> {
    if (state.phase === 'closed') return Promise.reject(new Error(CLOSED))
    resyncing ??= runResync().finally(() => {
      resyncing = undefined
      schedule()
    })
    return resyncing
  }

  async function runResync(): Promise<void> {
    const from = state
    const at = Date.now()
    let found = 0
    try {
      let cursor = '0'
      do {
        const [nextCursor, keys] = await commands.scan(cursor)
        const ttls = await commands.pttl(keys.map((k) => k.key))
        const now = Date.now()
        keys.forEach(({ id }, i) => {
          const ttl = ttls[i] as number
          if (ttl === -2) return // gone since the SCAN
          mirror.remember(id, ttl === -1 ? Infinity : now + ttl) // no TTL: revoked, as EXISTS says
          found++
        })
        cursor = nextCursor
        if (state.phase === 'closed') return
      } while (cursor !== '0')
    } catch (err) {
      log.warn?.(`bearer-guard/redis: resync failed: ${errorText(err)}`)
      throw err
    }
    mirror.settle(found)
    dispatch({ type: 'resynced', from, at, found })
  }

  function schedule(): void {
    if (state.phase === 'closed') return
    clearTimeout(resyncTimer)
    // retry soon while not synced, else at the regular interval
    const delay = state.phase === 'synced' ? config.resyncMs : Math.min(config.resyncMs, 1000)
    resyncTimer = setTimeout(() => (isSubscribed(state.phase) ? void resync().catch(() => {}) : schedule()), delay)
    unref(resyncTimer)
  }

  const heartbeatTimer = setInterval(() => isSubscribed(state.phase) && commands.heartbeat(), config.heartbeatMs)
  unref(heartbeatTimer)
  schedule()

  return {
    get state() {
      return state
    },
    resync,
    staleness: () => staleness(state, Date.now(), maxStalenessMs),
    assertFresh() {
      if (maxStalenessMs === Infinity) return
      const { ms, stale } = staleness(state, Date.now(), maxStalenessMs)
      if (!stale) return
      dispatch({ type: 'stale', ms })
      throw new KeySourceUnavailableError({
        reason: `revocation list stale: not synced with Redis for ${ms} ms (maxStaleness ${maxStalenessMs} ms)`,
        description: 'revocation list unavailable, retry later',
        retryAfter: Math.max(1, Math.ceil(config.heartbeatMs / 1000)),
      })
    },
    ready(timeout) {
      if (timeout === undefined) return synced
      return new Promise<void>((resolve, reject) => {
        const ms = durationMs(timeout, 'timeout')
        const timer = setTimeout(() => reject(new Error(`bearer-guard/redis: not synced with Redis within ${ms} ms`)), ms)
        unref(timer)
        synced.then(resolve, reject).finally(() => clearTimeout(timer))
      })
    },
    async close() {
      if (state.phase === 'closed') return
      dispatch({ type: 'closed' })
      clearTimeout(resyncTimer)
      clearInterval(heartbeatTimer)
      firstSync.reject(new Error(CLOSED))
      for (const event of SUBSCRIBER_EVENTS) subscriber.removeAllListeners(event)
      if (config.subscriber === undefined) subscriber.disconnect()
      await resyncing?.catch(() => {})
    },
  }
}
