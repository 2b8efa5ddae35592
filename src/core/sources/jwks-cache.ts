/**
 * The remote JWKS: fetched once for all concurrent callers, fresh for `cacheMaxAge`, refetched for an
 * unknown `kid` at most once per `cooldown` (a lookup while a fetch is in flight waits for it),
 * served stale for `staleMaxAge` when the endpoint fails, and never more than `maxResponseBytes` or
 * `MAX_JWKS_KEYS` keys. Once warm, a lookup is synchronous. Keys are selected by the one rule of
 * keys/select.ts; a token naming a `kid` the set lacks refetches (a rotation) before the keys
 * without `kid` are tried.
 *
 * A key that a refetch still publishes unchanged keeps its `VerifyKey` object (and the forms already
 * imported for it); one the refetch no longer publishes is marked `retired`, so tokens it verified
 * are not served from the verified-token cache any more.
 *
 * @module bearer-guard
 */
import { InvalidTokenError, KeySourceUnavailableError } from '../errors.js'
import { keyFromJwk } from '../keys/jwk.js'
import { createSelector, type KeySource, type Selection } from '../keys/select.js'
import { describeKey, retire, type VerifyKey } from '../keys/verify-key.js'
import { MAX_JWKS_KEYS } from '../limits.js'
import type { Algorithm } from '../types.js'
import { fetchJson, FetchJsonError, type FetchJsonOptions } from './fetch-json.js'

export interface JwksCacheOptions extends FetchJsonOptions {
  /** Seconds. */
  cacheMaxAge: number
  cooldown: number
  staleMaxAge: number
  /** Called when keys are skipped, a fetch fails or succeeds (for logs). */
  onEvent?: (event: JwksEvent) => void
}

/** What the cache tells `onEvent`. */
export interface JwksEvent {
  type: 'skipped-key' | 'fetch-failed' | 'fetched'
  detail: string
  /** The JWKS URL, once known (discovery finds it inside the first fetch). */
  uri?: string
  /** `skipped-key` and `fetch-failed`: the cause without volatile parts (equal for repeats of one cause). */
  cause?: string
  /** `fetch-failed` while stale keys still serve: since when they were fetched, and until when they serve (epoch ms). */
  stale?: { fetchedAt: number; until: number }
  /** `skipped-key`: a key for another use or type (an encryption key): skipped as expected. */
  otherUse?: true
  /** `fetched` and `fetch-failed`: a GET was sent twice (a dropped connection, then the retry). */
  retried?: boolean
}

export interface JwksCache extends KeySource {
  /** Keys that may verify a token with this `kid`/`alg`; synchronous when warm. */
  select(kid: string | undefined, alg: Algorithm): readonly VerifyKey[] | Promise<readonly VerifyKey[]>
  /** Fetch now (single-flight). Rejects with `KeySourceUnavailableError`. */
  reload(): Promise<void>
}

/**
 * Creates a JWKS cache for a URL, or for a URL found lazily (discovery), resolved inside the first fetch.
 */
export function createJwksCache(source: URL | ((options: FetchJsonOptions) => Promise<URL>), options: JwksCacheOptions): JwksCache {
  let uri: URL | undefined = source instanceof URL ? source : undefined
  let keys: VerifyKey[] | undefined
  let fetchedAt = 0
  let attemptedAt = -Infinity
  let failedAt = -Infinity
  let lastFailure = ''
  let pending: Promise<void> | undefined
  const cooldownMs = options.cooldown * 1000
  const maxAgeMs = options.cacheMaxAge * 1000
  const staleMs = options.staleMaxAge * 1000
  // after a failed fetch, wait this long before the next try; requests in between answer at once
  const backoffMs = Math.min(cooldownMs, 5000)

  async function fetchKeys(): Promise<void> {
    attemptedAt = Date.now()
    // whether a GET of this fetch (discovery or JWKS) was sent twice, for the events
    let retried = false
    const fetchOptions: FetchJsonOptions = { ...options, onRetry: () => (retried = true) }
    try {
      if (!uri) uri = await (source as (options: FetchJsonOptions) => Promise<URL>)(fetchOptions)
      const body = await fetchJson(uri, fetchOptions)
      if (!Array.isArray(body.keys)) throw new FetchJsonError(`JWKS at ${uri.href} has no "keys" array`, { kind: 'body' })
      const next: VerifyKey[] = []
      // an unchanged key keeps its object: its imported forms, and the cache entries it verified
      const previous = new Map<string, VerifyKey>()
      if (keys) for (const key of keys) if (!previous.has(keyIdentity(key))) previous.set(keyIdentity(key), key)
      for (const jwk of body.keys.slice(0, MAX_JWKS_KEYS)) {
        const result = keyFromJwk(jwk)
        if ('key' in result) {
          const id = keyIdentity(result.key)
          const same = previous.get(id)
          previous.delete(id)
          next.push(same ?? result.key)
        } else {
          const who = describeKey(jwk)
          options.onEvent?.({
            type: 'skipped-key',
            detail: `${who} skipped: ${result.skipped}`,
            uri: uri.href,
            cause: `${who}: ${result.skipped}`,
            ...(result.otherUse ? { otherUse: true } : {}),
          })
        }
      }
      if (keys) {
        const kept = new Set(next)
        for (const key of keys) if (!kept.has(key)) retire(key)
      }
      keys = next
      fetchedAt = Date.now()
      lastFailure = ''
      options.onEvent?.({ type: 'fetched', detail: `${next.length} keys from ${uri.href}`, uri: uri.href, retried })
    } catch (error) {
      failedAt = Date.now()
      lastFailure = (error as Error).message
      const staleUntil = fetchedAt + maxAgeMs + staleMs
      options.onEvent?.({
        type: 'fetch-failed',
        detail: lastFailure,
        uri: uri?.href,
        cause: error instanceof FetchJsonError ? error.causeKey : lastFailure,
        stale: keys && failedAt <= staleUntil ? { fetchedAt, until: staleUntil } : undefined,
        retried,
      })
      throw new KeySourceUnavailableError({
        reason: `JWKS unavailable: ${lastFailure}`,
        retryAfter: Math.max(1, Math.ceil(backoffMs / 1000)),
        cause: error,
      })
    }
  }

  function reload(): Promise<void> {
    if (!pending) {
      pending = fetchKeys().finally(() => {
        pending = undefined
      })
    }
    return pending
  }

  const selector = createSelector()
  function match(kid: string | undefined, alg: Algorithm): Selection {
    return selector(keys ?? [], kid, alg)
  }

  function unavailable(): KeySourceUnavailableError {
    const wait = Math.max(1, Math.ceil((failedAt + backoffMs - Date.now()) / 1000))
    return new KeySourceUnavailableError({ reason: `JWKS unavailable: ${lastFailure || 'not fetched'}`, retryAfter: wait })
  }

  async function refreshThenSelect(kid: string | undefined, alg: Algorithm): Promise<readonly VerifyKey[]> {
    const now = Date.now()
    const inBackoff = !pending && now - failedAt < backoffMs && failedAt >= attemptedAt
    try {
      if (inBackoff) throw unavailable()
      await reload()
    } catch (error) {
      // the endpoint failed: serve stale keys while allowed, else 503 (never blame the token)
      if (keys && Date.now() - fetchedAt <= maxAgeMs + staleMs) {
        const stale = match(kid, alg).keys
        if (stale.length > 0) return stale
      }
      throw error
    }
    const found = match(kid, alg).keys
    if (found.length === 0) throw noKey(kid, alg)
    return found
  }

  return {
    select(kid, alg) {
      const now = Date.now()
      if (keys && now - fetchedAt <= maxAgeMs) {
        const found = match(kid, alg)
        if (found.keys.length > 0 && !found.unknownKid) return found.keys
        // a refetch in flight may bring the kid (a key rotation): wait for it, as everyone else does
        if (!pending && now - attemptedAt < cooldownMs) {
          if (found.keys.length > 0) return found.keys
          throw noKey(kid, alg, true)
        }
      }
      return refreshThenSelect(kid, alg)
    },
    reload,
    warmUp: reload,
  }
}

function noKey(kid: string | undefined, alg: Algorithm, coolingDown = false): InvalidTokenError {
  return new InvalidTokenError({
    reason: `no JWKS key fits ${kid === undefined ? 'the token (no kid)' : `kid "${kid.slice(0, 64)}"`} and alg ${alg}${coolingDown ? ' (refetch cooling down)' : ''}`,
  })
}

/** Equal for the same public key published again with the same kid and alg. */
function keyIdentity(key: VerifyKey): string {
  return `${key.kid ?? ''}\u0000${key.alg ?? ''}\u0000${JSON.stringify(key.jwk)}`
}
