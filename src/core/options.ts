/**
 * The only place options are parsed: zod schemas, cross-option rules, and `normalizeOptions()` which
 * returns frozen options in canonical units (seconds, arrays) that nothing downstream re-checks.
 *
 * @module bearer-guard
 */
import { z } from 'zod'
import { parseDuration } from './duration.js'
import { ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS } from './keys.js'
import { resourceAudience, resourceUrlProblem } from './resource.js'
import type {
  Algorithm,
  AudiencePredicate,
  ClaimSource,
  IssuerPredicate,
  KeyInput,
  Logger,
  RevocationStore,
  VerifierOptions,
} from './types.js'

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

/** Minimum HMAC secret length in bytes per algorithm (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 }

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
  claims: z.ZodType | undefined
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

const ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS] as const
const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `is required: ${what}` : undefined

/** Upper bounds of durations (seconds): beyond them a value is a mistake, or a timer would overflow. */
export const MAX_DURATIONS = {
  clockTolerance: 300,
  maxTokenAge: 366 * 86400,
  cacheMaxAge: 7 * 86400,
  cooldown: 86400,
  timeout: 120,
  staleMaxAge: 7 * 86400,
} as const

const durationUpTo = (max: number) =>
  z.union([z.number(), z.string()]).superRefine((v, ctx) => {
    const seconds = parseDuration(v)
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected seconds (a non-negative number) or a duration string such as "5s", "10m", "1h"' })
    } else if (seconds > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max} seconds, got ${seconds}` })
    }
  })
const stringList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])
const claimSource = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(1),
  z.custom<(claims: unknown) => string[]>((v) => typeof v === 'function', 'expected a claim path, an array of paths, or a function'),
])
const url = z
  .union([z.string(), z.instanceof(URL)])
  .refine((v) => {
    try {
      const u = new URL(String(v))
      return u.protocol === 'https:' || u.protocol === 'http:'
    } catch {
      return false
    }
  }, 'expected an http(s) URL')

const predicate = <F>() => z.custom<F>((v) => typeof v === 'function', 'expected a function')

const jwksSchema = z.strictObject({
  cacheMaxAge: durationUpTo(MAX_DURATIONS.cacheMaxAge).optional(),
  cooldown: durationUpTo(MAX_DURATIONS.cooldown).optional(),
  timeout: durationUpTo(MAX_DURATIONS.timeout).optional(),
  staleMaxAge: durationUpTo(MAX_DURATIONS.staleMaxAge).optional(),
  maxResponseBytes: z.number().int().min(1024).max(16 * 1024 * 1024).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'expected a fetch function').optional(),
})

const entrySchema = z
  .strictObject({
    issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1), z.literal(false), predicate<IssuerPredicate>()], {
      error: required('the expected "iss", or false to skip the check explicitly'),
    }),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1), z.literal(false), predicate<AudiencePredicate>()], {
      error: required('the accepted "aud" value(s), or false to skip the check explicitly'),
    }),
    jwksUri: url.optional(),
    keys: z.custom<KeyInput>((v) => v !== null && (typeof v === 'object' || typeof v === 'string'), 'expected a JWK, JWK[], { keys }, a PEM string, a KeyObject or a CryptoKey').optional(),
    secret: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
    algorithms: z.array(z.enum(ALGORITHMS)).min(1).optional(),
    clockTolerance: durationUpTo(MAX_DURATIONS.clockTolerance).optional(),
    maxTokenAge: durationUpTo(MAX_DURATIONS.maxTokenAge).optional(),
    requiredClaims: z.array(z.string().min(1)).optional(),
    subjectClaim: z.union([z.string().min(1), z.literal(false)]).optional(),
    tokenType: z
      .union([
        stringList,
        z.strictObject({ header: stringList }),
        z.strictObject({
          claim: z.string().min(1),
          value: z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)]),
        }),
      ])
      .optional(),
    claims: z.custom<z.ZodType>((v) => typeof (v as { safeParse?: unknown } | null)?.safeParse === 'function', 'expected a zod schema').optional(),
    rolesClaim: claimSource.optional(),
    scopesClaim: claimSource.optional(),
    revocation: z
      .custom<RevocationStore>(
        (v) => typeof (v as RevocationStore | null)?.isRevoked === 'function' && typeof (v as RevocationStore).revoke === 'function',
        'expected a RevocationStore ({ isRevoked, revoke })',
      )
      .optional(),
    jwks: jwksSchema.optional(),
  })
  .superRefine((o, ctx) => {
    const sources = (['jwksUri', 'keys', 'secret'] as const).filter((k) => o[k] !== undefined)
    if (sources.length > 1) {
      ctx.addIssue({ code: 'custom', path: [sources[1] as string], message: `cannot be combined with "${sources[0]}": give exactly one key source` })
      return
    }
    if (sources.length === 0 && typeof o.issuer !== 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message: 'must be one issuer URL when no key source (jwksUri, keys, secret) is given: keys are discovered from it',
      })
    }
    if (sources.length === 0 && typeof o.issuer === 'string' && !/^https?:\/\//.test(o.issuer)) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must be an http(s) URL for discovery (or give jwksUri, keys or secret)' })
    }
    if (o.secret !== undefined) {
      const algs = o.algorithms ?? ['HS256']
      algs.forEach((alg, i) => {
        if (!alg.startsWith('HS')) {
          ctx.addIssue({ code: 'custom', path: ['algorithms', i], message: `"${alg}" cannot be used with a shared secret (HS256/384/512 only)` })
        }
      })
      const bytes = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret).length : o.secret.length
      const need = Math.max(...algs.map((a) => MIN_SECRET_BYTES[a] ?? 0))
      if (bytes < need) {
        ctx.addIssue({ code: 'custom', path: ['secret'], message: `must be at least ${need} bytes for ${algs.join('/')} (RFC 7518 §3.2), got ${bytes}` })
      }
    } else if (o.algorithms) {
      o.algorithms.forEach((alg, i) => {
        if (alg.startsWith('HS')) {
          ctx.addIssue({ code: 'custom', path: ['algorithms', i], message: `"${alg}" needs a shared secret; keys, jwksUri and discovery verify asymmetric algorithms only` })
        }
      })
    }
  })

/**
 * Options of the whole verifier: read before a token's issuer is known (`maxTokenLength`), or
 * shared by every issuer (`cache`, `logger`). With `issuers`, they sit at the top level only.
 */
const verifierWideSchema = z.object({
  maxTokenLength: z.number().int().min(256).max(1024 * 1024).optional(),
  cache: z.union([z.literal(false), z.strictObject({ max: z.number().int().min(1).optional() })]).optional(),
  logger: z
    .custom<Logger | false>(
      (v) => v === false || (typeof v === 'object' && v !== null && typeof (v as { warn?: unknown }).warn === 'function'),
      'expected false or an object with a warn(message) method, such as console',
    )
    .optional(),
  resource: z.custom<string | URL>().superRefine((v, ctx) => {
    const problem = resourceUrlProblem(v)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  }).optional(),
})
const VERIFIER_WIDE = Object.keys(verifierWideSchema.shape) as readonly string[]

/** Option names per level, for "did you mean" (the schemas are the source). */
const ENTRY_KEYS = [...Object.keys(entrySchema.shape), ...VERIFIER_WIDE]
const JWKS_KEYS = Object.keys(jwksSchema.shape)
/**
 * Names other libraries use for an option of ours (express-oauth2-jwt-bearer, jose, jsonwebtoken,
 * aws-jwt-verify), and names one may guess for it; keys lowercase, `_` and `-` removed.
 */
const ALIASES: Record<string, string> = {
  issuerbaseurl: 'issuer',
  iss: 'issuer',
  aud: 'audience',
  tokensigningalg: 'algorithms',
  algs: 'algorithms',
  publickey: 'keys',
  clockskew: 'clockTolerance',
  leeway: 'clockTolerance',
  graceseconds: 'clockTolerance',
  maxage: 'maxTokenAge',
  typ: 'tokenType',
  type: 'tokenType',
  alg: 'algorithms',
  roles: 'rolesClaim',
  scope: 'scopesClaim',
  scopes: 'scopesClaim',
  sub: 'subjectClaim',
  subject: 'subjectClaim',
  store: 'revocation',
  revocationstore: 'revocation',
  schema: 'claims',
  claimsschema: 'claims',
  cooldownduration: 'jwks.cooldown',
  timeoutduration: 'jwks.timeout',
}

/** Edit distance (insert, delete, substitute, swap two neighbours), bounded: above `max` is `max + 1`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prev2: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] as number) + 1)
      row.push(d)
    }
    prev2 = prev
    prev = row
  }
  return prev[b.length] as number
}

/**
 * The option meant by an unknown name at `level` (`'entry'` or `'jwks'`), as a path relative to the
 * entry: a near miss at the same level first, then one level over (`timeout` → `jwks.timeout`).
 */
function suggest(name: string, level: 'entry' | 'jwks'): string | undefined {
  const norm = (v: string) => v.toLowerCase().replace(/[_-]/g, '')
  const n = norm(name)
  const here = level === 'entry' ? ENTRY_KEYS : JWKS_KEYS.map((k) => `jwks.${k}`)
  const over = level === 'entry' ? JWKS_KEYS.map((k) => `jwks.${k}`) : ENTRY_KEYS
  const last = (path: string) => norm(path.slice(path.lastIndexOf('.') + 1))
  const alias = ALIASES[n]
  const exact = here.find((c) => last(c) === n) ?? (alias && [...here, ...over].includes(alias) ? alias : undefined) ?? over.find((c) => last(c) === n)
  if (exact !== undefined) return exact
  const max = n.length <= 4 ? 1 : n.length <= 8 ? 2 : 3
  let best: string | undefined
  let bestDistance = max + 1
  for (const c of [...here, ...over]) {
    const d = distance(n, last(c), max)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Turns zod issues into one TypeError that names the option and what was expected. */
function toTypeError(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[] = []): TypeError {
  const messages = issues.map((issue) => {
    const at = [...prefix, ...(issue.path as (string | number)[])]
    const path = formatPath(at)
    if (issue.code === 'unrecognized_keys') {
      // an entry (top level or issuers[i]) or its jwks object: suggest within the entry
      const isJwks = at[at.length - 1] === 'jwks'
      const entryPath = isJwks ? at.slice(0, -1) : at
      const level = isJwks ? 'jwks' : at.length === 0 || (at.length === 2 && at[0] === 'issuers') ? 'entry' : undefined
      return issue.keys
        .map((k) => {
          const hint = level && suggest(k, level)
          return `unknown option "${formatPath([...at, k])}"${hint ? `: did you mean "${formatPath([...entryPath, hint])}"?` : ''}`
        })
        .join('; ')
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      return `invalid option "${path}": expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join('|')}`
    }
    return `invalid option "${path}": ${issue.message}`
  })
  return new TypeError(`bearer-guard: ${messages.join('; ')}`)
}

function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}

/** `raw` split into the verifier-wide options and the rest. */
function splitWide(raw: Record<string, unknown>): { wide: Record<string, unknown>; rest: Record<string, unknown> } {
  const wide: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) (VERIFIER_WIDE.includes(k) ? wide : rest)[k] = v
  return { wide, rest }
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

type EntryInput = z.infer<typeof entrySchema>

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

/** `at+jwt` also matches `application/at+jwt` (RFC 8725 §3.11); compared case-insensitively. */
function normalizeTyps(v: string | readonly string[]): readonly string[] {
  return Object.freeze((typeof v === 'string' ? [v] : [...v]).map((t) => t.toLowerCase().replace(/^application\//, '')))
}

/**
 * Validates options once and returns them normalized. Throws `TypeError` naming the option.
 */
export function normalizeOptions(input: VerifierOptions): NormalizedOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('bearer-guard: options must be an object with at least "issuer" and "audience"')
  }
  const { wide: wideRaw, rest } = splitWide(input as Record<string, unknown>)
  const wide = verifierWideSchema.safeParse(wideRaw)
  // `resource` is the default audience (of every entry of `issuers`); an explicit `audience` wins
  if (wideRaw.resource !== undefined && rest.audience === undefined) rest.audience = resourceAudience(wideRaw.resource)
  if ('issuers' in rest) {
    const { issuers, ...defaults } = rest
    if (!wide.success) throw toTypeError(wide.error.issues)
    if (!Array.isArray(issuers) || issuers.length === 0) {
      throw new TypeError('bearer-guard: invalid option "issuers": expected a non-empty array of issuer options')
    }
    const entries = issuers.map((entry, i) => {
      if (typeof entry !== 'object' || entry === null) {
        throw new TypeError(`bearer-guard: invalid option "issuers[${i}]": expected an object`)
      }
      const misplaced = VERIFIER_WIDE.filter((k) => k in entry)
      if (misplaced.length > 0) {
        throw new TypeError(
          `bearer-guard: ${misplaced
            .map((k) => `invalid option "issuers[${i}].${k}": applies to the whole verifier, not to one issuer: set it at the top level, next to "issuers"`)
            .join('; ')}`,
        )
      }
      const merged: Record<string, unknown> = { ...defaults, ...entry }
      if (defaults.jwks || (entry as { jwks?: unknown }).jwks) {
        merged.jwks = { ...(defaults.jwks as object), ...((entry as { jwks?: object }).jwks ?? {}) }
      }
      const parsed = entrySchema.safeParse(merged)
      if (!parsed.success) throw toTypeError(parsed.error.issues, ['issuers', i])
      if (parsed.data.issuer === false || typeof parsed.data.issuer === 'function') {
        throw new TypeError(`bearer-guard: invalid option "issuers[${i}].issuer": each entry of "issuers" needs its issuer URL(s), not false or a function (the token's iss selects the entry)`)
      }
      return normalizeEntry(parsed.data)
    })
    const seen = new Set<string>()
    for (const [i, e] of entries.entries()) {
      for (const iss of e.issuers as readonly string[]) {
        if (seen.has(iss)) throw new TypeError(`bearer-guard: invalid option "issuers[${i}].issuer": "${iss}" is listed twice`)
        seen.add(iss)
      }
    }
    return Object.freeze({ entries: Object.freeze(entries), multi: true, ...normalizeWide(wide.data) })
  }
  const parsed = entrySchema.safeParse(rest)
  // every problem of the options at once, in the order they were written
  if (!parsed.success || !wide.success) {
    throw toTypeError([...(parsed.success ? [] : parsed.error.issues), ...(wide.success ? [] : wide.error.issues)])
  }
  return Object.freeze({ entries: Object.freeze([normalizeEntry(parsed.data)]), multi: false, ...normalizeWide(wide.data) })
}

function normalizeWide(w: z.infer<typeof verifierWideSchema>): Pick<NormalizedOptions, 'maxTokenLength' | 'cache' | 'logger' | 'resource'> {
  return {
    maxTokenLength: w.maxTokenLength ?? DEFAULTS.maxTokenLength,
    cache: w.cache === false ? false : { max: w.cache?.max ?? DEFAULTS.cacheMax },
    logger: w.logger,
    resource: w.resource === undefined ? undefined : String(w.resource),
  }
}
