/**
 * A `RevocationStore` for resource services that learns revoked jtis by polling the auth service's
 * `GET /revocations?after=<cursor>` (used when there is no shared Redis).
 *
 * Why polling: the denylist lives where tokens are revoked, in the auth service. Each resource
 * service keeps a copy in memory and asks only for what was added since its cursor, so a check
 * costs a Map lookup and the auth service is not on the request path. The price is a delay:
 * a revocation reaches every service within one poll `interval`. Access tokens are short-lived,
 * so the list stays small (entries are dropped once the token has expired, beyond any clock tolerance).
 *
 * Failure policy: a copy that is fresh enough (`maxStaleness`) is used even if one poll fails; a
 * copy older than that (or none at all) makes `isRevoked` try once more and throw if it fails.
 * bearer-guard answers that with 503: we would rather refuse requests than honour revoked tokens
 * for an unbounded time.
 */
import type { JWTPayload, RevocationStore } from 'bearer-guard'

export interface PolledRevocationStoreOptions {
  /** The auth service's revocation list, e.g. `http://127.0.0.1:8001/revocations`. */
  url: string
  /** Milliseconds between polls. Default: 1000. */
  interval?: number
  /** How old (ms) the copy may get before requests fail closed. Default: 30 000. */
  maxStaleness?: number
  /** Timeout of one poll in ms. Default: 2000. */
  timeout?: number
}

/**
 * Entries are kept this long past the token's `exp`: a verifier accepts a token until
 * exp + clockTolerance (at most 300 s), and a revoked token must stay refused for all of it.
 */
const KEEP_PAST_EXP_MS = 300_000

interface Page {
  revoked: { jti: string; exp: number }[]
  cursor: number
}

export function createPolledRevocationStore(
  options: PolledRevocationStoreOptions,
): RevocationStore & {
  close(): void
} {
  const { url, interval = 1000, maxStaleness = 30_000, timeout = 2000 } = options
  const revoked = new Map<string, number>() // jti → expiry (ms)
  let cursor = 0
  let syncedAt = 0 // ms; 0: never
  let inFlight: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined

  async function pollOnce(): Promise<void> {
    // follow the cursor until a short page says we are up to date
    for (;;) {
      const response = await fetch(`${url}?after=${cursor}`, {
        signal: AbortSignal.timeout(timeout),
      })
      if (!response.ok) throw new Error(`revocation list answered ${response.status}`)
      const page = (await response.json()) as Page
      if (!Array.isArray(page.revoked) || !Number.isSafeInteger(page.cursor)) {
        throw new Error('revocation list: unexpected response')
      }
      for (const { jti, exp } of page.revoked) revoked.set(String(jti), Number(exp) * 1000)
      const done = page.revoked.length === 0 || page.cursor === cursor
      cursor = page.cursor
      if (done || page.revoked.length < 1000) break
    }
    const now = Date.now()
    for (const [jti, expiresAt] of revoked) if (expiresAt + KEEP_PAST_EXP_MS <= now) revoked.delete(jti)
    syncedAt = now
  }

  /** One poll at a time; concurrent callers share it. */
  function sync(): Promise<void> {
    inFlight ??= pollOnce().finally(() => (inFlight = undefined))
    return inFlight
  }

  function start() {
    if (timer) return
    // started on first use, not at import: `next build` imports route modules without serving
    timer = setInterval(() => void sync().catch(() => {}), interval)
    timer.unref() // never keeps the process alive on its own
  }

  return {
    async isRevoked(jti: string, _claims: JWTPayload) {
      start()
      if (Date.now() - syncedAt > maxStaleness) await sync() // throws → 503 from bearer-guard
      return revoked.has(jti)
    },
    revoke(jti: string, expiresAt: Date) {
      // resource services do not revoke; kept for the interface (and for tests)
      revoked.set(jti, expiresAt.getTime())
    },
    close() {
      clearInterval(timer)
      timer = undefined
    },
  }
}
