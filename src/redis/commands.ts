/**
 * Every Redis command the store awaits, each bounded by `commandTimeout`. Revocations Redis did not
 * confirm wait here (at most 10 000) until the next subscription replays them.
 *
 * @module bearer-guard/redis
 */
import { KeySourceUnavailableError } from '../core/errors.js'
import type { StoreConfig } from './config.js'
import type { RedisSubscriberLike } from './types.js'
import { HEARTBEAT, revokedMessage, type Keyspace } from './wire.js'

const SCAN_COUNT = 500
const MAX_PENDING_WRITES = 10_000

export interface Commands {
  /** SET the id's key until `untilMs` and PUBLISH it; when that fails, queues it for `replay()` and throws. */
  share(id: string, untilMs: number): Promise<void>
  /** Writes the queued revocations again, in order, until one fails. */
  replay(): Promise<void>
  /** EXISTS, for ids that may have left the mirror; a failure is a `KeySourceUnavailableError` (503). */
  exists(id: string): Promise<boolean>
  /** One SCAN step: the next cursor and the store's keys found (client prefix handled). */
  scan(cursor: string): Promise<[cursor: string, found: { key: string; id: string }[]]>
  /** PTTL of each key: ms left, -1 without TTL, -2 gone. */
  pttl(keys: readonly string[]): Promise<number[]>
  subscribe(subscriber: RedisSubscriberLike): Promise<unknown>
  /** Publishes a heartbeat; a failure is only logged (debug). */
  heartbeat(): void
}

export function createCommands(config: StoreConfig, keys: Keyspace): Commands {
  const { client, channel, commandTimeoutMs: ms, log } = config
  const pending = new Map<string, number>()

  async function write(id: string, untilMs: number): Promise<void> {
    await withTimeout(client.set(keys.key(id), '1', 'PXAT', untilMs), ms, 'SET')
    await withTimeout(client.publish(channel, revokedMessage(id, untilMs)), ms, 'PUBLISH')
  }

  return {
    async share(id, untilMs) {
      try {
        await write(id, untilMs)
      } catch (err) {
        if (pending.size < MAX_PENDING_WRITES) pending.set(id, untilMs)
        log.error?.(
          `bearer-guard/redis: revocation of a jti not stored in Redis (${errorText(err)}); ` +
            'denied on this instance only, retried after reconnect',
        )
        throw new Error(`bearer-guard/redis: revocation not shared: ${errorText(err)}`, { cause: err })
      }
    },
    async replay() {
      for (const [id, untilMs] of [...pending]) {
        if (untilMs > Date.now()) {
          try {
            await write(id, untilMs)
          } catch {
            return
          }
        }
        pending.delete(id)
      }
    },
    async exists(id) {
      try {
        return (await withTimeout(client.exists(keys.key(id)), ms, 'EXISTS')) > 0
      } catch (err) {
        throw new KeySourceUnavailableError({
          reason: `revocation lookup failed: ${errorText(err)}`,
          description: 'revocation list unavailable, retry later',
        })
      }
    },
    async scan(cursor) {
      const [next, found] = await withTimeout(client.scan(cursor, 'MATCH', keys.pattern, 'COUNT', SCAN_COUNT), ms, 'SCAN')
      return [String(next), found.flatMap((raw) => keys.scanned(raw) ?? [])]
    },
    pttl: (list) => withTimeout(Promise.all(list.map((key) => client.pttl(key))), ms, 'PTTL'),
    subscribe: (subscriber) => withTimeout(subscriber.subscribe(channel), ms, 'SUBSCRIBE'),
    heartbeat() {
      withTimeout(client.publish(channel, HEARTBEAT), ms, 'PUBLISH').catch((err) => {
        log.debug?.(`bearer-guard/redis: heartbeat failed: ${errorText(err)}`)
      })
    },
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis ${what} timed out after ${ms} ms`)), ms)
    unref(timer)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Lets the process exit while a store's timer is pending (Node); a no-op elsewhere. */
export function unref(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}
