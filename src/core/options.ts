/**
 * The only place options are parsed: zod schemas, cross-option rules, and `normalizeOptions()` which
 * returns frozen options in canonical units (seconds, arrays) that nothing downstream re-checks.
 *
 * @module bearer-guard
 */
import { z } from 'zod'
import { parseDuration } from './duration.js'
import { ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS } from './keys.js'
import type {
  Algorithm,
  AudiencePredicate,
  ClaimSource,
  IssuerPredicate,
  KeyInput,
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
    maxTokenLength: z.number().int().min(256).max(1024 * 1024).optional(),
    cache: z.union([z.literal(false), z.strictObject({ max: z.number().int().min(1).optional() })]).optional(),
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

/** Turns zod issues into one TypeError that names the option and what was expected. */
function toTypeError(error: z.ZodError, prefix: (string | number)[] = []): TypeError {
  const messages = error.issues.map((issue) => {
    const path = formatPath([...prefix, ...(issue.path as (string | number)[])])
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys
      return keys.map((k) => `unknown option "${formatPath([...prefix, ...(issue.path as (string | number)[]), k])}"`).join('; ')
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      return `invalid option "${path}": expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join('|')}`
    }
    return `invalid option "${path}": ${issue.message}`
  })
  return new TypeError(`bearer-guard: ${messages.join('; ')}`)
}

function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
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
  const raw = input as Record<string, unknown>
  if ('issuers' in raw) {
    const { issuers, ...defaults } = raw
    if (!Array.isArray(issuers) || issuers.length === 0) {
      throw new TypeError('bearer-guard: invalid option "issuers": expected a non-empty array of issuer options')
    }
    const entries = issuers.map((entry, i) => {
      if (typeof entry !== 'object' || entry === null) {
        throw new TypeError(`bearer-guard: invalid option "issuers[${i}]": expected an object`)
      }
      const merged: Record<string, unknown> = { ...defaults, ...entry }
      if (defaults.jwks || (entry as { jwks?: unknown }).jwks) {
        merged.jwks = { ...(defaults.jwks as object), ...((entry as { jwks?: object }).jwks ?? {}) }
      }
      const parsed = entrySchema.safeParse(merged)
      if (!parsed.success) throw toTypeError(parsed.error, ['issuers', i])
      if (parsed.data.issuer === false || typeof parsed.data.issuer === 'function') {
        throw new TypeError(`bearer-guard: invalid option "issuers[${i}].issuer": each entry of "issuers" needs its issuer URL(s), not false or a function (the token's iss selects the entry)`)
      }
      return { parsed: parsed.data, normalized: normalizeEntry(parsed.data) }
    })
    const seen = new Set<string>()
    for (const [i, e] of entries.entries()) {
      for (const iss of e.normalized.issuers as readonly string[]) {
        if (seen.has(iss)) throw new TypeError(`bearer-guard: invalid option "issuers[${i}].issuer": "${iss}" is listed twice`)
        seen.add(iss)
      }
    }
    const first = entries[0]!.parsed
    return Object.freeze({
      entries: Object.freeze(entries.map((e) => e.normalized)),
      multi: true,
      maxTokenLength: first.maxTokenLength ?? DEFAULTS.maxTokenLength,
      cache: normalizeCache(first.cache),
    })
  }
  const parsed = entrySchema.safeParse(raw)
  if (!parsed.success) throw toTypeError(parsed.error)
  return Object.freeze({
    entries: Object.freeze([normalizeEntry(parsed.data)]),
    multi: false,
    maxTokenLength: parsed.data.maxTokenLength ?? DEFAULTS.maxTokenLength,
    cache: normalizeCache(parsed.data.cache),
  })
}

function normalizeCache(c: EntryInput['cache']): false | { max: number } {
  return c === false ? false : { max: c?.max ?? DEFAULTS.cacheMax }
}
