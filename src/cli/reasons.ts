/**
 * The refusal as the CLI reads it: the reason texts hints tell apart (`REASON_PATTERNS`, each with a
 * test in test/cli/hints.test.ts) and the structured facts of an `AuthError` (`factsOf`).
 *
 * Part of the `bearer-guard` bin, not of an export.
 */

/** The reason texts hints must read, by name. Each has a test in test/cli/hints.test.ts. */
export const REASON_PATTERNS = {
  /** `alg "HS256" is not allowed (allowed: RS256)`: $1 alg, $2 the allowlist. */
  algNotAllowed: /^alg "([^"]*)" is not allowed \(allowed: ([^)]*)\)$/,
  /** `alg "none" is never accepted`. */
  algNone: /^alg "none" is never accepted$/,
  /** `no JWKS key fits kid "k" and alg RS256`: $1 JWKS|configured, $2 kid (absent without kid), $3 alg. */
  unknownKid: /^no (JWKS|configured) key fits (?:kid "([^"]*)"|the token(?: \(no kid\))?) and alg (\S+)(?: \(refetch cooling down\))?$/,
  /** `kid "k" matches 2 keys: ambiguous`. */
  ambiguousKid: /^kid "([^"]*)" matches (\d+) keys: ambiguous$/,
  /** `signature verification failed`. */
  badSignature: /^signature verification failed$/,
  /** The compact serialization is broken (non-canonical base64url, padding, …). */
  notJws: /^(?:not a compact JWS|JWE \(encrypted\) tokens|a part of the JWS is not base64url|header is not a JSON object|payload is not a JSON object)/,
  /** `a part of the JWS is empty (unsigned tokens are not accepted)`. */
  emptyPart: /^a part of the JWS is empty/,
  /** Header features refused for safety. */
  unsafeHeader: /^(?:header has crit|b64 other than true|cty .* nested JWTs|header has the member|kid is not a string|header has no alg)/,
  /** `token of 9000 bytes exceeds maxTokenLength 8192`. */
  tooLong: /^token of (\d+) bytes exceeds maxTokenLength (\d+)$/,
  /** An exception of a configured function (`rolesClaim`, a predicate). */
  unexpected: /^verification failed: /,
  /** A subject claim that is missing or unusable: $1 the path. */
  subject: /^subject claim "([^"]*)" /,
  /** Discovery failed at both metadata locations (or stopped after the first): $1 the issuer. */
  discoveryFailed: /^JWKS unavailable: discovery for (\S+) failed: /,
  /** The metadata names another issuer: $1 metadata URL, $2 its issuer, $3 the configured one. */
  discoveryIssuer: /discovery at (\S+): issuer "([^"]*)" does not equal "([^"]*)"/,
  /** Each URL a failed GET named (global: every match). */
  failedUrl: /GET (\S+?)(?= answered| failed| timed out|: )/g,
} as const

export type ReasonPattern = keyof typeof REASON_PATTERNS

/** Matches `reason` against one pattern of the table (a fresh copy of a global one). */
export function readReason(name: ReasonPattern, reason: string): RegExpExecArray | null {
  const re = REASON_PATTERNS[name]
  return new RegExp(re.source, re.flags.replace('g', '')).exec(reason)
}

/** The URLs named in `GET <url> …` parts of a reason. */
export function failedUrls(reason: string): string[] {
  return [...reason.matchAll(REASON_PATTERNS.failedUrl)].map((m) => m[1] as string)
}

/** What a refusal carries, read from an `AuthError` without `instanceof`. */
export interface ErrorFacts {
  status: number
  code: string
  description: string
  reason: string
  claim: string | undefined
  expiredAt: Date | undefined
  /** The key-source failure under a 503: what failed, the HTTP status, the root cause's code. */
  fetch: { kind: string | undefined; status: number | undefined; code: string | undefined } | undefined
  /** The innermost cause's message (`connect ECONNREFUSED 127.0.0.1:9`). */
  rootCause: string | undefined
}

/** The facts of an `AuthError` (also from another copy of the package). */
export function factsOf(error: {
  status: number
  code: string
  description: string
  reason: string
  claim?: unknown
  expiredAt?: unknown
  cause?: unknown
}): ErrorFacts {
  const cause = error.cause as { kind?: unknown; status?: unknown; code?: unknown } | undefined
  const fetch =
    typeof cause === 'object' && cause !== null && typeof cause.kind === 'string'
      ? {
          kind: cause.kind,
          status: typeof cause.status === 'number' ? cause.status : undefined,
          code: typeof cause.code === 'string' ? cause.code : undefined,
        }
      : undefined
  return {
    status: error.status,
    code: error.code,
    description: error.description,
    reason: error.reason,
    claim: typeof error.claim === 'string' ? error.claim : undefined,
    expiredAt: error.expiredAt instanceof Date ? error.expiredAt : undefined,
    fetch,
    rootCause: innermost(error.cause),
  }
}

function innermost(cause: unknown): string | undefined {
  let message: string | undefined
  let e: unknown = cause
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const x = e as { message?: unknown; cause?: unknown; errors?: unknown; code?: unknown }
    if (typeof x.message === 'string' && x.message !== '') message = x.message
    e = x.cause ?? (Array.isArray(x.errors) ? x.errors[0] : undefined)
  }
  return message
}
