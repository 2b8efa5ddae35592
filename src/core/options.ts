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
import type { AuthRequest, ClientCertificate } from './request.js'
import type { Algorithm, AsymmetricAlgorithm, AudiencePredicate, ClaimSource, IssuerPredicate, KeyInput, Logger, PrivateKeyJwtAuth, ReplayStore, RevocationStore, VerifierOptions } from './types.js'

/** Defaults, as documented in docs/configuration.md. */
export const DEFAULTS = {
  clockTolerance: 5,
  maxTokenLength: 8192,
  rolesClaim: 'roles',
  scopesClaim: ['scope', 'scp'] as readonly string[],
  subjectClaim: 'sub',
  cacheMax: 10_000,
  jwks: { cacheMaxAge: 600, cooldown: 30, timeout: 5, staleMaxAge: 3600, maxResponseBytes: 512 * 1024 },
  dpop: { algorithms: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as readonly AsymmetricAlgorithm[], maxAge: 60, nonceLifetime: 300 },
  introspection: { cacheMaxAge: 60, negativeCacheMaxAge: 5, timeout: 5, maxResponseBytes: 64 * 1024 },
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

/** How the resource server authenticates at the introspection endpoint. */
export type ClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; key: PrivateKeyJwtAuth['key']; alg: PrivateKeyJwtAuth['alg']; kid: string | undefined }

export interface NormalizedIntrospection {
  /** `undefined`: discovered from the issuer's metadata. */
  endpoint: URL | undefined
  auth: ClientAuth
  use: 'opaque' | 'always'
  /** Seconds. */
  cacheMaxAge: number
  negativeCacheMaxAge: number
  timeoutMs: number
  maxBytes: number
  signedResponse: boolean
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
  introspection: NormalizedIntrospection | undefined
}

/** DPoP options in canonical units; `false`: the `DPoP` scheme is off. */
export type NormalizedDpop =
  | false
  | {
      mode: 'allowed' | 'required'
      algorithms: readonly AsymmetricAlgorithm[]
      /** Seconds. */
      maxAge: number
      /** `undefined`: the verifier makes its own memory store. */
      replay: ReplayStore | undefined
      nonce: false | { secrets: readonly Uint8Array[]; lifetime: number }
    }

export type NormalizedMtls = false | { mode: 'allowed' | 'required'; certificate: ((request: AuthRequest) => ClientCertificate | undefined) | undefined }

export interface NormalizedOptions {
  dpop: NormalizedDpop
  mtls: NormalizedMtls
  entries: readonly NormalizedIssuer[]
  multi: boolean
  maxTokenLength: number
  cache: false | { max: number }
  /** Asymmetric signatures of tokens the cache does not hold on libuv's threadpool. */
  threadpool: boolean
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
    introspection: o.introspection ? normalizeIntrospection(o.introspection) : undefined,
  })
}

function normalizeIntrospection(i: NonNullable<EntryInput['introspection']>): NormalizedIntrospection {
  const d = DEFAULTS.introspection
  const cacheMaxAge = seconds(i.cacheMaxAge, d.cacheMaxAge)
  const auth: ClientAuth = i.clientAuth
    ? { method: 'private_key_jwt', clientId: i.clientId, key: i.clientAuth.key as PrivateKeyJwtAuth['key'], alg: i.clientAuth.alg, kid: i.clientAuth.kid }
    : { method: i.method ?? 'client_secret_basic', clientId: i.clientId, secret: i.clientSecret as string }
  return Object.freeze({
    endpoint: i.endpoint === undefined ? undefined : new URL(String(i.endpoint)),
    auth: Object.freeze(auth),
    use: i.use ?? 'opaque',
    cacheMaxAge,
    negativeCacheMaxAge: Math.min(cacheMaxAge, seconds(i.negativeCacheMaxAge, d.negativeCacheMaxAge)),
    timeoutMs: seconds(i.timeout, d.timeout) * 1000,
    maxBytes: i.maxResponseBytes ?? d.maxResponseBytes,
    signedResponse: i.signedResponse ?? false,
    headers: i.headers,
    fetch: i.fetch,
  })
}

function bytesOf(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? new TextEncoder().encode(v) : new Uint8Array(v)
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

function normalizeWide(w: WideInput): Pick<NormalizedOptions, 'maxTokenLength' | 'cache' | 'threadpool' | 'logger' | 'dpop' | 'mtls' | 'resource'> {
  const d = w.dpop
  const m = w.mtls
  return {
    dpop:
      d?.mode === false
        ? false
        : Object.freeze({
            mode: d?.mode ?? 'allowed',
            algorithms: Object.freeze([...new Set(d?.algorithms ?? DEFAULTS.dpop.algorithms)]),
            maxAge: seconds(d?.maxAge, DEFAULTS.dpop.maxAge),
            replay: d?.replay,
            nonce: d?.nonce
              ? Object.freeze({
                  secrets: Object.freeze((Array.isArray(d.nonce.secret) ? d.nonce.secret : [d.nonce.secret]).map(bytesOf)),
                  lifetime: Math.max(1, seconds(d.nonce.lifetime, DEFAULTS.dpop.nonceLifetime)),
                })
              : false,
          }),
    mtls: m?.mode === false ? false : Object.freeze({ mode: m?.mode ?? 'allowed', certificate: m?.certificate as ((request: AuthRequest) => ClientCertificate | undefined) | undefined }),
    maxTokenLength: w.maxTokenLength ?? DEFAULTS.maxTokenLength,
    cache: w.cache === false ? false : { max: w.cache?.max ?? DEFAULTS.cacheMax },
    threadpool: w.threadpool === true,
    logger: w.logger,
    resource: w.resource === undefined ? undefined : String(w.resource),
  }
}
