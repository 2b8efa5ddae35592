/**
 * What a hint is made from (`HintInput`: the refusal's facts, the decoded token, the configuration)
 * and the names of the rules that give one (`HINT_IDS`).
 *
 * Part of the `bearer-guard` bin, not of an export.
 */
import type { ErrorFacts } from './reasons.js'


/** How the verifier was configured, for hints that compare the token with it. */
export interface VerifyConfig {
  /** Where keys come from. */
  source: { type: 'discovery'; issuer: string } | { type: 'jwks'; uri: string }
  /** Expected issuers, `false` (not checked) or `'function'` (a preset's predicate). */
  issuer: readonly string[] | false | 'function'
  audience: readonly string[] | false | 'function'
  /** The allowlist, when one was set (else every asymmetric algorithm). */
  algorithms: readonly string[] | undefined
  /** Seconds. */
  clockTolerance: number
  /** JWKS timeout, as given (`'5s'`). */
  timeout: string
  preset: string | undefined
}

export interface HintInput {
  error: ErrorFacts
  header: Record<string, unknown>
  claims: Record<string, unknown>
  config: VerifyConfig
  /** Epoch seconds. */
  now: number
}

/** Every rule's name: a rule with a name not listed here does not compile, and each has a test. */
export const HINT_IDS = [
  'key-source-dns',
  'key-source-refused',
  'key-source-tls',
  'key-source-network',
  'key-source-timeout',
  'discovery-issuer-slash',
  'discovery-issuer-mismatch',
  'discovery-not-found',
  'key-source-not-found',
  'key-source-redirect',
  'key-source-denied',
  'key-source-server',
  'key-source-status',
  'key-source-body',
  'key-source-down',
  'expired',
  'clock-skew',
  'iss-missing',
  'iss-trailing-slash',
  'iss-mismatch',
  'aud-missing',
  'aud-mismatch',
  'token-type',
  'subject',
  'claim-check',
  'alg-hmac-confusion',
  'alg-not-allowed',
  'alg-none',
  'empty-part',
  'unknown-kid',
  'ambiguous-kid',
  'bad-signature',
  'not-jws',
  'unsafe-header',
  'too-long',
  'unexpected',
  'no-hint',
  'other',
] as const

export type HintId = (typeof HINT_IDS)[number]

export interface Hint {
  /** Stable name of the rule that gave it (for tests and `--json`). */
  id: HintId
  text: string
}
