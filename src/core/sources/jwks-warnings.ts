/**
 * What a JWKS cache reports, told to the `logger` option: a failed fetch (stale keys served, or 503)
 * and skipped keys — not those of another use (the encryption keys many JWKS publish beside the
 * signing keys). The logger's rate limit (one line per cause per minute) is warnings.ts's.
 *
 * @module bearer-guard
 */
import type { Warn } from '../warnings.js'
import type { JwksEvent } from './jwks-cache.js'

/** Warns about `event` of the JWKS cache of `source` (the JWKS URL, or the issuer being discovered). */
export function warnJwks(event: JwksEvent, source: string, warn: Warn): void {
  if (event.type === 'skipped-key') {
    if (event.otherUse) return
    warn(`jwks\u0000${event.uri}\u0000skipped\u0000${event.cause}`, `bearer-guard: JWKS at ${event.uri}: ${event.detail}`)
  } else if (event.type === 'fetch-failed') {
    const { stale } = event
    if (stale) {
      const now = Date.now()
      const ago = Math.round((now - stale.fetchedAt) / 1000)
      const left = Math.round((stale.until - now) / 1000)
      warn(
        `jwks\u0000${source}\u0000stale\u0000${event.cause}`,
        `bearer-guard: JWKS refresh failed, still using the keys fetched ${ago} s ago (for up to ${left} s more): ${event.detail}`,
      )
    } else {
      warn(`jwks\u0000${source}\u0000down\u0000${event.cause}`, `bearer-guard: JWKS unavailable, answering 503 until it can be fetched: ${event.detail}`)
    }
  }
}
