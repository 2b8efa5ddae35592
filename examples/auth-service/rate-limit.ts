/**
 * A token-bucket rate limiter, keyed by client IP (the seed: "对令牌刷新端点实施速率限制，防止暴力破解").
 *
 * Each key has a bucket of `perMinute` tokens that refills continuously; a request takes one. The
 * map is bounded, so a flood of distinct addresses cannot exhaust memory: when it is full, the
 * least recently seen key is dropped (a Map iterates in insertion order, and we re-insert on use).
 *
 * This is per process. Behind several instances, keep the buckets in a shared store (Redis).
 */
export interface RateLimiter {
  /** Takes one token for `key`: `{ ok: true }`, or `{ ok: false, retryAfter }` in whole seconds. */
  take(key: string, now?: number): { ok: true } | { ok: false; retryAfter: number }
}

export function createRateLimiter(perMinute: number, maxKeys = 10_000): RateLimiter {
  if (!(perMinute >= 1))
    throw new Error('the rate limit must allow at least one request per minute')
  const ratePerMs = perMinute / 60_000
  const buckets = new Map<string, { tokens: number; at: number }>()

  return {
    take(key, now = Date.now()) {
      const previous = buckets.get(key)
      const tokens = previous
        ? // a clock that steps back refills nothing (rather than draining the bucket)
          Math.min(perMinute, previous.tokens + Math.max(0, now - previous.at) * ratePerMs)
        : perMinute
      buckets.delete(key)
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!)
      if (tokens < 1) {
        buckets.set(key, { tokens, at: now })
        return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - tokens) / ratePerMs / 1000)) }
      }
      buckets.set(key, { tokens: tokens - 1, at: now })
      return { ok: true }
    },
  }
}
