/**
 * The zod schemas of `createVerifier`'s options: one issuer's options, the verifier-wide options,
 * and the multi-issuer form (`issuers`, with top-level options as defaults of every entry).
 * Every rule lives here; options.ts only converts what passed into canonical units.
 *
 * @module bearer-guard
 */
import { z } from 'zod'
import { parseDuration } from '../duration.js'
import { ALGORITHMS, ASYMMETRIC_ALGORITHMS, MAX_DURATIONS, MIN_SECRET_BYTES, SYMMETRIC_ALGORITHMS, TOKEN_LENGTH_BOUNDS } from '../limits.js'
import { resourceUrlProblem } from '../resource.js'
import type { AsymmetricAlgorithm, AudiencePredicate, IssuerPredicate, KeyInput, Logger, ReplayStore, RevocationStore, SymmetricAlgorithm } from '../types.js'

/** The algorithm lists of limits.ts (a leaf) and the public types say the same: checked when compiling. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
void (true satisfies Same<(typeof ASYMMETRIC_ALGORITHMS)[number], AsymmetricAlgorithm>)
void (true satisfies Same<(typeof SYMMETRIC_ALGORITHMS)[number], SymmetricAlgorithm>)

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `is required: ${what}` : undefined

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

export const jwksSchema = z.strictObject({
  cacheMaxAge: durationUpTo(MAX_DURATIONS.cacheMaxAge).optional(),
  cooldown: durationUpTo(MAX_DURATIONS.cooldown).optional(),
  timeout: durationUpTo(MAX_DURATIONS.timeout).optional(),
  staleMaxAge: durationUpTo(MAX_DURATIONS.staleMaxAge).optional(),
  maxResponseBytes: z.number().int().min(1024).max(16 * 1024 * 1024).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'expected a fetch function').optional(),
})

const privateKey = z.custom<object | string>(
  (v) => (typeof v === 'string' && v.includes('PRIVATE KEY')) || (typeof v === 'object' && v !== null),
  'expected a private JWK, a PKCS#8 PEM, a KeyObject or a CryptoKey',
)

export const introspectionSchema = z.strictObject({
  endpoint: url.optional(),
  clientId: z.string({ error: required('the client id this API authenticates with at the introspection endpoint') }).min(1),
  clientSecret: z.string().min(1).optional(),
  method: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  clientAuth: z
    .strictObject({
      method: z.literal('private_key_jwt'),
      key: privateKey,
      alg: z.enum(ASYMMETRIC_ALGORITHMS),
      kid: z.string().min(1).optional(),
    })
    .optional(),
  use: z.enum(['opaque', 'always']).optional(),
  cacheMaxAge: durationUpTo(MAX_DURATIONS.introspectionCacheMaxAge).optional(),
  negativeCacheMaxAge: durationUpTo(MAX_DURATIONS.introspectionCacheMaxAge).optional(),
  timeout: durationUpTo(MAX_DURATIONS.timeout).optional(),
  maxResponseBytes: z.number().int().min(1024).max(1024 * 1024).optional(),
  signedResponse: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'expected a fetch function').optional(),
})

/** The options of one issuer (the single-issuer form, or one entry of `issuers` with its defaults). */
const entryShape = {
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
  introspection: introspectionSchema.optional(),
}

type EntryFields = z.infer<z.ZodObject<typeof entryShape>>

/** Cross-option rules of one issuer: one key source, and algorithms that fit it. */
function entryRules(o: EntryFields, ctx: z.RefinementCtx): void {
  if (o.introspection) introspectionRules(o, o.introspection, ctx)
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
}

/** `introspection`: one client authentication, and an endpoint that is given or can be discovered. */
function introspectionRules(o: EntryFields, i: NonNullable<EntryFields['introspection']>, ctx: z.RefinementCtx): void {
  const at = (key: string) => ['introspection', key]
  if (i.clientSecret !== undefined && i.clientAuth !== undefined) {
    ctx.addIssue({ code: 'custom', path: at('clientAuth'), message: 'cannot be combined with "clientSecret": give one client authentication' })
  } else if (i.clientSecret === undefined && i.clientAuth === undefined) {
    ctx.addIssue({ code: 'custom', path: at('clientSecret'), message: 'is required: the client secret, or "clientAuth" for private_key_jwt' })
  }
  if (i.method !== undefined && i.clientSecret === undefined) {
    ctx.addIssue({ code: 'custom', path: at('method'), message: 'applies to "clientSecret" only ("clientAuth" names its own method)' })
  }
  if (i.endpoint === undefined && (typeof o.issuer !== 'string' || !/^https?:\/\//.test(o.issuer))) {
    ctx.addIssue({
      code: 'custom',
      path: at('endpoint'),
      message: 'is required unless "issuer" is one http(s) URL: the endpoint is discovered from its metadata (introspection_endpoint)',
    })
  }
}

export const entrySchema = z.strictObject(entryShape).superRefine(entryRules)
export type EntryInput = z.infer<typeof entrySchema>

/**
 * Options of the whole verifier: read before a token's issuer is known (`maxTokenLength`), or
 * shared by every issuer (`cache`, `threadpool`, `logger`, `dpop`, `mtls`, `resource`). With `issuers`, they sit at the top level only.
 */
const nonceSecret = z.union([z.string(), z.instanceof(Uint8Array)]).refine(
  (v) => (typeof v === 'string' ? new TextEncoder().encode(v).length : v.length) >= 32,
  'must be at least 32 bytes',
)
const modeSchema = z.union([z.literal('allowed'), z.literal('required'), z.literal(false)], {
  error: 'expected "allowed", "required" or false',
})
/** `mtls.certificate`'s argument: the request (typed where the options are). */
type CertificateOf = (request: never) => unknown
export const dpopSchema = z.strictObject({
  mode: modeSchema.optional(),
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS, { error: 'expected an asymmetric JWS algorithm (DPoP proofs are signed with a private key)' })).min(1).optional(),
  maxAge: durationUpTo(MAX_DURATIONS.dpopMaxAge).optional(),
  replay: z
    .custom<ReplayStore>((v) => typeof (v as ReplayStore | null)?.mark === 'function', 'expected a ReplayStore ({ mark(id, expiresAt) })')
    .optional(),
  nonce: z.preprocess(
    (v) => (v === false ? undefined : v),
    z
      .strictObject({
        secret: z.union([nonceSecret, z.array(nonceSecret).min(1)], { error: 'expected a secret of at least 32 bytes, or a list of them' }),
        lifetime: durationUpTo(MAX_DURATIONS.nonceLifetime).optional(),
      })
      .optional(),
  ),
})
export const mtlsSchema = z.strictObject({
  mode: modeSchema.optional(),
  certificate: z.custom<CertificateOf>((v) => typeof v === 'function', 'expected a function (request) => certificate').optional(),
})

const wideShape = {
  // `false` reads as `{ mode: false }`, so a wrong member is reported by its own name
  dpop: z.preprocess((v) => (v === false ? { mode: false } : v), dpopSchema.optional()),
  mtls: z.preprocess((v) => (v === false ? { mode: false } : v), mtlsSchema.optional()),
  maxTokenLength: z.number().int().min(TOKEN_LENGTH_BOUNDS.min).max(TOKEN_LENGTH_BOUNDS.max).optional(),
  cache: z.union([z.literal(false), z.strictObject({ max: z.number().int().min(1).optional() })]).optional(),
  threadpool: z.boolean().optional(),
  logger: z
    .custom<Logger | false>(
      (v) => v === false || (typeof v === 'object' && v !== null && typeof (v as { warn?: unknown }).warn === 'function'),
      'expected false or an object with a warn(message) method, such as console',
    )
    .optional(),
  /** RFC 8707: the resource this verifier protects (the default audience: options.ts). */
  resource: z
    .custom<string | URL>()
    .superRefine((v, ctx) => {
      const problem = resourceUrlProblem(v)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    })
    .optional(),
}
export const wideSchema = z.object(wideShape)
export type WideInput = z.infer<typeof wideSchema>

/** Names of the verifier-wide options. */
export const VERIFIER_WIDE = Object.keys(wideShape) as readonly string[]
/** Option names of one issuer, and of `jwks` (for "did you mean"; the schemas are the source). */
export const ENTRY_KEYS: readonly string[] = [...Object.keys(entryShape), ...VERIFIER_WIDE]
export const JWKS_KEYS: readonly string[] = Object.keys(jwksSchema.shape)

/** A verifier-wide option found inside an entry of `issuers`. */
const notPerIssuer = z
  .unknown()
  .refine(() => false, 'applies to the whole verifier, not to one issuer: set it at the top level, next to "issuers"')
  .optional()

/** One entry of `issuers`, its defaults merged in: named issuer URL(s), no verifier-wide option. */
const issuersEntrySchema = z
  .strictObject(
    { ...entryShape, ...Object.fromEntries(VERIFIER_WIDE.map((k) => [k, notPerIssuer])) },
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object' : undefined) },
  )
  .superRefine((o, ctx) => {
    entryRules(o as EntryFields, ctx)
    if (o.issuer === false || typeof o.issuer === 'function') {
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message: 'each entry of "issuers" needs its issuer URL(s), not false or a function (the token\'s iss selects the entry)',
      })
    }
  })

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/**
 * The top-level options other than the verifier-wide ones are defaults of every entry: each entry
 * is validated with them merged in (the entry winning, `jwks` merged key by key).
 */
function mergeDefaults(input: unknown): unknown {
  if (!isObject(input) || !Array.isArray(input.issuers)) return input
  const defaults: Record<string, unknown> = {}
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input)) (k === 'issuers' || VERIFIER_WIDE.includes(k) ? out : defaults)[k] = v
  out.issuers = input.issuers.map((entry: unknown) => {
    if (!isObject(entry)) return entry
    const merged: Record<string, unknown> = { ...defaults, ...entry }
    if (defaults.jwks || entry.jwks) merged.jwks = { ...(defaults.jwks as object), ...((entry.jwks as object | undefined) ?? {}) }
    return merged
  })
  return out
}

const NOT_A_LIST = 'expected a non-empty array of issuer options'

/** The multi-issuer form: verifier-wide options, then `issuers`; no issuer listed twice. */
export const issuersSchema = z.preprocess(
  mergeDefaults,
  z
    .object({ ...wideShape, issuers: z.array(issuersEntrySchema, { error: NOT_A_LIST }).min(1, NOT_A_LIST) })
    .superRefine((o, ctx) => {
      const seen = new Set<unknown>()
      // an opaque token names no issuer: one entry at most can be asked about it
      const opaque = o.issuers.flatMap((entry: unknown, i) =>
        isObject(entry) && isObject(entry.introspection) && entry.introspection.use !== 'always' ? [i] : [],
      )
      if (opaque.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['issuers', opaque[1] as number, 'introspection'],
          message: `only one entry of "issuers" can introspect opaque tokens (an opaque token names no issuer), and issuers[${opaque[0]}] does: use "always" here, or drop it`,
        })
      }
      o.issuers.forEach((entry: unknown, i) => {
        // refinements may run next to other issues: read only what is well-formed
        const issuer = isObject(entry) ? entry.issuer : undefined
        for (const iss of typeof issuer === 'string' ? [issuer] : Array.isArray(issuer) ? (issuer as unknown[]) : []) {
          if (seen.has(iss)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'issuer'], message: `"${String(iss)}" is listed twice` })
          seen.add(iss)
        }
      })
    }),
)
export type IssuersInput = z.infer<typeof issuersSchema>
