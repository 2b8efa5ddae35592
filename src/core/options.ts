/**
 * The only place options are parsed: `normalizeOptions()` validates them with the schemas of
 * options/schema.ts (errors worded by options/type-error.ts) and returns frozen options in canonical
 * units (seconds, arrays) that nothing downstream re-checks.
 *
 * @module bearer-guard
 */
import type { ZodType } from 'zod'
import { parseDuration } from './duration.js'
import { ASYMMETRIC_ALGORITHMS, normalizeTyp } from './limits.js'
import { entrySchema, issuersSchema, VERIFIER_WIDE, wideSchema, type EntryInput, type WideInput } from './options/schema.js'
import { toTypeError } from './options/type-error.js'
import { resourceAudience } from './resource.js'
import type { Algorithm, AudiencePredicate, ClaimSource, IssuerPredicate, KeyInput, Logger, RevocationStore, VerifierOptions } from './types.js'

/** Defaults, as documented in docs/configuration.md. */
export const DEFAULTS = {
  clockTolerance: 5,
  maxTokenLength: 8192,
  rolesClaim: 'roles',
  scopesClaim: ['scope', 'scp'] as readonly string[],
  subjectClaim: 'sub',
  cacheMax: 10_000,
  jwks: { cacheMaxAge: 600, cooldown: 30, timeout: 5, staleMaxAge: 3600, maxResponseBytes: 512 * 1024 },
} as const

export type KeySource =
  | { type: 'secret'; secret: Uint8Array }
  | { type: 'keys'; input: KeyInput }
  | { type: 'jwks'; uri: URL }
  | { type: 'discovery'; issuer: string }

export type TokenTypeCheck =
  | { kind: 'header'; values: readonly string[] }
  | { kind: 'claim'; path: string; values: readonly unknown[] }

export interface NormalizedJwks {
  cacheMaxAge: number
  cooldown: number
  timeoutMs: number
  staleMaxAge: number
  maxBytes: number
  headers: Record<string, string> | undefined
  fetch: typeof fetch | undefined
}

export interface NormalizedIssuer {
  /** Accepted `iss` values, a predicate, or `false` (check off). */
  issuers: readonly string[] | false | IssuerPredicate
  audience: readonly string[] | false | AudiencePredicate
  source: KeySource
  /** `undefined` for static keys without an explicit list: derived from the keys at import. */
  algorithms: readonly Algorithm[] | undefined
  clockTolerance: number
  maxTokenAge: number | undefined
  requiredClaims: readonly string[]
  subjectClaim: string | false
  tokenType: TokenTypeCheck | undefined
  claims: ZodType | undefined
  rolesClaim: ClaimSource
  scopesClaim: ClaimSource
  revocation: RevocationStore | undefined
  jwks: NormalizedJwks
}

export interface NormalizedOptions {
  entries: readonly NormalizedIssuer[]
  multi: boolean
  maxTokenLength: number
  cache: false | { max: number }
  /** `undefined`: the default (`console`). */
  logger: Logger | false | undefined
  /** The resource identifier (RFC 8707) this verifier protects, as given. */
  resource: string | undefined
}

function seconds(v: number | string | undefined, fallback: number): number
function seconds(v: number | string | undefined, fallback: undefined): number | undefined
function seconds(v: number | string | undefined, fallback: number | undefined): number | undefined {
  return v === undefined ? fallback : (parseDuration(v) as number)
}

function toList<F>(v: string | readonly string[] | false | F): readonly string[] | false | F {
  if (v === false || typeof v === 'function') return v
  return Object.freeze(typeof v === 'string' ? [v] : [...(v as readonly string[])])
}

function normalizeEntry(o: EntryInput): NormalizedIssuer {
  let source: KeySource
  if (o.secret !== undefined) {
    source = { type: 'secret', secret: typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : new Uint8Array(o.secret) }
  } else if (o.keys !== undefined) {
    source = { type: 'keys', input: o.keys }
  } else if (o.jwksUri !== undefined) {
    source = { type: 'jwks', uri: new URL(String(o.jwksUri)) }
  } else {
    source = { type: 'discovery', issuer: o.issuer as string }
  }
  let algorithms: readonly Algorithm[] | undefined = o.algorithms
  if (!algorithms) {
    if (source.type === 'secret') algorithms = ['HS256']
    else if (source.type !== 'keys') algorithms = ASYMMETRIC_ALGORITHMS
  }
  let tokenType: TokenTypeCheck | undefined
  const tt = o.tokenType
  if (typeof tt === 'string' || Array.isArray(tt)) tokenType = { kind: 'header', values: normalizeTyps(tt) }
  else if (tt && 'header' in tt) tokenType = { kind: 'header', values: normalizeTyps(tt.header) }
  else if (tt && 'claim' in tt) tokenType = { kind: 'claim', path: tt.claim, values: Array.isArray(tt.value) ? tt.value : [tt.value] }
  const j = o.jwks ?? {}
  return Object.freeze({
    issuers: toList(o.issuer),
    audience: toList(o.audience),
    source,
    algorithms: algorithms ? Object.freeze([...new Set(algorithms)]) : undefined,
    clockTolerance: seconds(o.clockTolerance, DEFAULTS.clockTolerance),
    maxTokenAge: seconds(o.maxTokenAge, undefined),
    requiredClaims: Object.freeze([...(o.requiredClaims ?? [])]),
    subjectClaim: o.subjectClaim ?? DEFAULTS.subjectClaim,
    tokenType,
    claims: o.claims,
    rolesClaim: (o.rolesClaim ?? DEFAULTS.rolesClaim) as ClaimSource,
    scopesClaim: (o.scopesClaim ?? DEFAULTS.scopesClaim) as ClaimSource,
    revocation: o.revocation,
    jwks: Object.freeze({
      cacheMaxAge: seconds(j.cacheMaxAge, DEFAULTS.jwks.cacheMaxAge),
      cooldown: seconds(j.cooldown, DEFAULTS.jwks.cooldown),
      timeoutMs: seconds(j.timeout, DEFAULTS.jwks.timeout) * 1000,
      staleMaxAge: seconds(j.staleMaxAge, DEFAULTS.jwks.staleMaxAge),
      maxBytes: j.maxResponseBytes ?? DEFAULTS.jwks.maxResponseBytes,
      headers: j.headers,
      fetch: j.fetch,
    }),
  })
}

function normalizeTyps(v: string | readonly string[]): readonly string[] {
  return Object.freeze((typeof v === 'string' ? [v] : [...v]).map(normalizeTyp))
}

/**
 * Validates options once and returns them normalized. Throws `TypeError` naming the option.
 */
export function normalizeOptions(input: VerifierOptions): NormalizedOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('bearer-guard: options must be an object with at least "issuer" and "audience"')
  }
  // `resource` is the default audience (of every entry of `issuers`); an explicit `audience` wins
  const { resource, audience } = input as { resource?: unknown; audience?: unknown }
  if (resource !== undefined && audience === undefined) input = { ...input, audience: resourceAudience(resource) }
  if ('issuers' in input) {
    const parsed = issuersSchema.safeParse(input)
    if (!parsed.success) throw toTypeError(parsed.error.issues)
    const entries = parsed.data.issuers.map((entry) => normalizeEntry(entry as EntryInput))
    return Object.freeze({ entries: Object.freeze(entries), multi: true, ...normalizeWide(parsed.data) })
  }
  const wideRaw: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input)) (VERIFIER_WIDE.includes(k) ? wideRaw : rest)[k] = v
  const parsed = entrySchema.safeParse(rest)
  const wide = wideSchema.safeParse(wideRaw)
  // every problem of the options at once, in the order they were written
  if (!parsed.success || !wide.success) {
    throw toTypeError([...(parsed.success ? [] : parsed.error.issues), ...(wide.success ? [] : wide.error.issues)])
  }
  return Object.freeze({ entries: Object.freeze([normalizeEntry(parsed.data)]), multi: false, ...normalizeWide(wide.data) })
}

function normalizeWide(w: WideInput): Pick<NormalizedOptions, 'maxTokenLength' | 'cache' | 'logger' | 'resource'> {
  return {
    maxTokenLength: w.maxTokenLength ?? DEFAULTS.maxTokenLength,
    cache: w.cache === false ? false : { max: w.cache?.max ?? DEFAULTS.cacheMax },
    logger: w.logger,
    resource: w.resource === undefined ? undefined : String(w.resource),
  }
}
