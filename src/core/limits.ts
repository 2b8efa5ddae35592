/**
 * Limits shared by stages that must not load the option schemas (a leaf: it imports nothing, so
 * `bearer-guard/redis` can use it without pulling in jose or zod).
 *
 * @module bearer-guard
 */

/**
 * How long past `exp` a revocation is kept, in milliseconds: the largest `clockTolerance` a verifier
 * accepts (300 s, `MAX_DURATIONS.clockTolerance` in options.ts; a test keeps the two equal), so a
 * revoked token can never be accepted again inside its tolerance window.
 */
export const REVOCATION_SLACK_MS = 300_000

/**
 * The first number `revoke()` reads as milliseconds rather than a NumericDate in seconds: 1e11 s is
 * the year 5138, while 1e11 ms was 1973 — every millisecond timestamp of our time is far above it.
 */
export const MIN_MILLISECOND_TIMESTAMP = 1e11
