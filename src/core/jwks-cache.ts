/**
 * The remote JWKS: fetched once for all concurrent callers, fresh for `cacheMaxAge`, refetched for an
 * unknown `kid` at most once per `cooldown`, served stale for `staleMaxAge` when the endpoint fails,
 * and never more than `maxResponseBytes` or `MAX_KEYS` keys. Once warm, a lookup is synchronous.
 *
 * @module bearer-guard
 */
import { InvalidTokenError, KeySourceUnavailableError } from './errors.js'
import { fetchJson, type FetchJsonOptions } from './fetch-json.js'
import { keyFitsAlgorithm, keyFromJwk, type VerifyKey } from './keys.js'
import type { Algorithm } from './types.js'

/** Keys read from one JWKS at most; the rest are ignored. */
export const MAX_KEYS = 100

export interface JwksCacheOptions extends FetchJsonOptions {
  /** Seconds. */
  cacheMaxAge: number
  cooldown: number
  staleMaxAge: number
  /** Called when keys are skipped or a fetch fails (for logs). */
  onEvent?: (event: { type: 'skipped-key' | 'fetch-failed' | 'fetched'; detail: string }) => void
}

export interface JwksCache {
  /** Keys that may verify a token with this `kid`/`alg`; synchronous when warm. */
  select(kid: string | undefined, alg: Algorithm): VerifyKey[] | Promise<VerifyKey[]>
  /** Fetch now (single-flight). Rejects with `KeySourceUnavailableError`. */
  reload(): Promise<void>
  /** True while the keys are within `cacheMaxAge`. */
  readonly fresh: boolean
  /** True while an unknown `kid` would not trigger a refetch. */
  readonly coolingDown: boolean
  /** The current keys. */
  keys(): readonly VerifyKey[]
}

/**
 * Creates a JWKS cache for a URL, or for a URL found lazily (discovery), resolved inside the first fetch.
 */
export function createJwksCache(source: URL | (() => Promise<URL>), options: JwksCacheOptions): JwksCache {
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
    try {
      if (!uri) uri = await (source as () => Promise<URL>)()
      const body = await fetchJson(uri, options)
      if (!Array.isArray(body.keys)) throw new Error(`JWKS at ${uri.href} has no "keys" array`)
      const next: VerifyKey[] = []
      for (const jwk of body.keys.slice(0, MAX_KEYS)) {
        const result = keyFromJwk(jwk)
        if ('key' in result) next.push(result.key)
        else options.onEvent?.({ type: 'skipped-key', detail: `${describeKid(jwk)}: ${result.skipped}` })
      }
      keys = next
      fetchedAt = Date.now()
      lastFailure = ''
      options.onEvent?.({ type: 'fetched', detail: `${next.length} keys from ${uri.href}` })
    } catch (error) {
      failedAt = Date.now()
      lastFailure = (error as Error).message
      options.onEvent?.({ type: 'fetch-failed', detail: lastFailure })
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

  // the answer for the last (kid, alg) of the current key set is kept: an issuer signs with one key at a time
  let lastKeys: VerifyKey[] | undefined
  let lastKid: string | undefined | null = null
  let lastAlg = ''
  let last: VerifyKey[] = []

  function match(kid: string | undefined, alg: Algorithm): VerifyKey[] {
    if (keys === lastKeys && kid === lastKid && alg === lastAlg) return last
    const out: VerifyKey[] = []
    for (const key of keys ?? []) {
      if (kid !== undefined && key.kid !== kid) continue
      if (keyFitsAlgorithm(key, alg)) out.push(key)
    }
    lastKeys = keys
    lastKid = kid
    lastAlg = alg
    last = out
    return out
  }

  function unavailable(): KeySourceUnavailableError {
    const wait = Math.max(1, Math.ceil((failedAt + backoffMs - Date.now()) / 1000))
    return new KeySourceUnavailableError({ reason: `JWKS unavailable: ${lastFailure || 'not fetched'}`, retryAfter: wait })
  }

  async function refreshThenSelect(kid: string | undefined, alg: Algorithm): Promise<VerifyKey[]> {
    const now = Date.now()
    const inBackoff = !pending && now - failedAt < backoffMs && failedAt >= attemptedAt
    try {
      if (inBackoff) throw unavailable()
      await reload()
    } catch (error) {
      // the endpoint failed: serve stale keys while allowed, else 503 (never blame the token)
      if (keys && Date.now() - fetchedAt <= maxAgeMs + staleMs) {
        const stale = match(kid, alg)
        if (stale.length > 0) return stale
      }
      throw error
    }
    const found = match(kid, alg)
    if (found.length === 0) throw noKey(kid, alg)
    return found
  }

  return {
    select(kid, alg) {
      const now = Date.now()
      if (keys && now - fetchedAt <= maxAgeMs) {
        const found = match(kid, alg)
        if (found.length > 0) return found
        if (now - attemptedAt < cooldownMs) throw noKey(kid, alg, true)
      }
      return refreshThenSelect(kid, alg)
    },
    reload,
    get fresh() {
      return keys !== undefined && Date.now() - fetchedAt <= maxAgeMs
    },
    get coolingDown() {
      return Date.now() - attemptedAt < cooldownMs
    },
    keys: () => keys ?? [],
  }
}

function noKey(kid: string | undefined, alg: Algorithm, coolingDown = false): InvalidTokenError {
  return new InvalidTokenError({
    reason: `no JWKS key fits ${kid === undefined ? 'the token (no kid)' : `kid "${kid.slice(0, 64)}"`} and alg ${alg}${coolingDown ? ' (refetch cooling down)' : ''}`,
  })
}

function describeKid(jwk: unknown): string {
  const kid = (jwk as { kid?: unknown } | null)?.kid
  return typeof kid === 'string' ? `key "${kid.slice(0, 64)}"` : 'key without kid'
}
