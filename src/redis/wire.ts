/**
 * What the Redis store writes and reads: the id that names a jti (in keys, messages and the mirror
 * alike), the keys under the client's ioredis `keyPrefix`, and the messages on the channel.
 *
 * @module bearer-guard/redis
 */
import { createHash } from 'node:crypto'

/** Longest id: a jti up to this length is its own id; a longer one is hashed. */
export const MAX_ID_LENGTH = 1024
const HASHED = '#sha256:'
/** The heartbeat message: it carries nothing but proves publish → subscribe end to end. */
export const HEARTBEAT = '{"t":"h"}'

/**
 * The id of a jti: the jti itself up to 1024 characters; beyond, `#sha256:` and the base64url
 * SHA-256 of its UTF-8 bytes (51 characters), so any jti the token cap lets through is revocable.
 * A short jti that happens to read `#sha256:…` can only make more tokens refused, never fewer.
 */
export function jtiId(jti: string): string {
  return jti.length <= MAX_ID_LENGTH ? jti : HASHED + createHash('sha256').update(jti, 'utf8').digest('base64url')
}

/** An id read back from Redis (a key or a message) is 1 to 1024 characters; anything else is not ours. */
export function isId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH
}

/** The client's ioredis `keyPrefix` (`''` without one), which SCAN results carry and SCAN's MATCH needs. */
export function clientKeyPrefix(client: { readonly options?: { readonly keyPrefix?: unknown } }): string {
  const prefix = client.options?.keyPrefix
  if (typeof prefix === 'string') return prefix
  return ArrayBuffer.isView(prefix) ? new TextDecoder().decode(prefix) : ''
}

/** The store's keys in Redis, for a client that adds `clientPrefix` to every key but SCAN's. */
export interface Keyspace {
  /** The key of an id as given to the client (which adds its own prefix). */
  key(id: string): string
  /** SCAN's MATCH pattern: the one place the client's prefix must be written out. */
  readonly pattern: string
  /** A key as SCAN returns it (client prefix included): the key to give the client again, and the id; `undefined` if it is not ours. */
  scanned(raw: string): { key: string; id: string } | undefined
}

export function keyspace(clientPrefix: string, prefix: string): Keyspace {
  const full = clientPrefix + prefix
  return {
    key: (id) => prefix + id,
    pattern: `${escapeGlob(full)}*`,
    scanned(raw) {
      if (typeof raw !== 'string' || !raw.startsWith(full)) return undefined
      const id = raw.slice(full.length)
      return isId(id) ? { key: raw.slice(clientPrefix.length), id } : undefined
    },
  }
}

/** A message on the channel: a revocation (`t: 'r'`, id `j`, kept until `x` ms) or a heartbeat. */
export type Message = { readonly type: 'revoked'; readonly id: string; readonly untilMs: number } | { readonly type: 'heartbeat' }

export function revokedMessage(id: string, untilMs: number): string {
  return JSON.stringify({ t: 'r', j: id, x: untilMs })
}

/** The message in `raw`, or `undefined` for anything malformed or oversized (ignored, and no proof of freshness). */
export function parseMessage(raw: unknown): Message | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_ID_LENGTH + 64) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { t, j, x } = parsed as { t?: unknown; j?: unknown; x?: unknown }
  if (t === 'h') return { type: 'heartbeat' }
  if (t === 'r' && isId(j) && typeof x === 'number' && Number.isFinite(x)) return { type: 'revoked', id: j, untilMs: x }
  return undefined
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}
