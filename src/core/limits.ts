/**
 * The numbers and lists every room of the core agrees on: duration maxima, the revocation slack,
 * header and token caps, the algorithm lists and `typ` normalisation. A leaf: it imports nothing
 * (enforced by test/architecture), so `bearer-guard/redis` and `bearer-guard/presets` can use it
 * without loading jose or zod.
 *
 * @module bearer-guard
 */

/** Upper bounds of durations (seconds): beyond them a value is a mistake, or a timer would overflow. */
export const MAX_DURATIONS = {
  clockTolerance: 300,
  maxTokenAge: 366 * 86400,
  cacheMaxAge: 7 * 86400,
  cooldown: 86400,
  timeout: 120,
  staleMaxAge: 7 * 86400,
  dpopMaxAge: 3600,
  nonceLifetime: 86400,
  introspectionCacheMaxAge: 86400,
} as const

/** Longest `DPoP` proof read, in characters (an RSA-16384 proof is about 6 KiB). */
export const MAX_DPOP_PROOF_LENGTH = 8192

/** Longest `jti` of a DPoP proof (RFC 9449 §4.2 asks for 96 bits of randomness: ~22 characters). */
export const MAX_DPOP_JTI_LENGTH = 256

/**
 * How long past `exp` a revocation is kept, in milliseconds: the largest `clockTolerance` a verifier
 * accepts, so a revoked token can never be accepted again inside its tolerance window.
 */
export const REVOCATION_SLACK_MS = MAX_DURATIONS.clockTolerance * 1000

/**
 * The first number `revoke()` reads as milliseconds rather than a NumericDate in seconds: 1e11 s is
 * the year 5138, while 1e11 ms was 1973 — every millisecond timestamp of our time is far above it.
 */
export const MIN_MILLISECOND_TIMESTAMP = 1e11

/** Largest NumericDate (seconds) a `Date` can hold: `expiresAt`/`issuedAt` must stay valid. */
export const MAX_NUMERIC_DATE = 8.64e12

/** Longest `Authorization` value read (RFC 6750 extraction and the verifier's shortcut alike). */
export const MAX_AUTHORIZATION_LENGTH = 16 * 1024

/** Bounds of the `maxTokenLength` option, in bytes. */
export const TOKEN_LENGTH_BOUNDS = { min: 256, max: 1024 * 1024 } as const

/** Keys read from one JWKS at most; the rest are ignored. */
export const MAX_JWKS_KEYS = 100

/**
 * The negative cache (engine/token-cache.ts `RejectionCache`): slots of remembered bad signatures,
 * how long one is remembered at most (ms), and the longest token remembered (8 KiB: the slots hold
 * at most 2 MiB of tokens whatever `maxTokenLength` says).
 */
export const REJECTION_CACHE = { slots: 256, ttlMs: 60_000, maxTokenLength: 8192 } as const

/** Keys tried for one token when its `kid` names none of them (or it has no `kid`). */
export const MAX_KEYS_WITHOUT_KID = 5

/** Bounds of RSA moduli, in bits: below is factorable, above only costs time. */
export const RSA_BITS = { min: 2048, max: 16384 } as const

/** Minimum HMAC secret length in bytes per algorithm (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 }

/** Asymmetric JWS algorithms bearer-guard verifies (the `AsymmetricAlgorithm` type, as values). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const

/** HMAC algorithms, for a shared `secret` (the `SymmetricAlgorithm` type, as values). */
export const SYMMETRIC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const

/** Every algorithm the `algorithms` option accepts. */
export const ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS] as const

/**
 * A `typ` as compared: lowercase, without `application/` (RFC 8725 §3.11: `at+jwt` also matches
 * `application/at+jwt`). Options and headers go through it alike.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice(12) : lower
}
