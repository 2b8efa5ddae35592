/**
 * `createVerifier` and `verifyAccessToken`: the verification engine.
 *
 * Order of work for a token, cheapest and most hostile-input-safe first: length cap → verified-token
 * cache → compact JWS syntax → header (no duplicate names, alg allowlist, no `none`, no `crit`, no
 * `b64:false`, no nested JWT) →
 * payload → issuer routing (before any key fetch) → key by kid/kty/alg → signature → claims →
 * zod schema → revocation. Header fields `jku`, `x5u`, `jwk` and `x5c` are never read.
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import type { ZodType, output } from 'zod'
import { asciiBytes, decodeCanonical, decodeJsonPart, decodeJsonText, findDuplicateMember, isBase64url, NOT_BASE64URL, parseJsonText } from './base64url.js'
import { readClaim, readList } from './claim-path.js'
import { createHmacVerifier, verifyAsymmetric } from './crypto.js'
import { discoverJwksUri } from './discovery.js'
import {
  AuthError,
  InvalidTokenError,
  isAuthError,
  KeySourceUnavailableError,
  TokenExpiredError,
  TokenRevokedError,
} from './errors.js'
import { extractBearer } from './extract.js'
import { ambiguous, createJwksCache, type JwksCache, type JwksEvent } from './jwks-cache.js'
import { algorithmsOf, importStaticKeys, keyFitsAlgorithm, type VerifyKey } from './keys.js'
import { normalizeOptions, type NormalizedIssuer } from './options.js'
import { createWarn, type Warn } from './warnings.js'
import {
  VERIFIER_BRAND,
  type Algorithm,
  type AuthContext,
  type JWSHeaderParameters,
  type JWTPayload,
  type RegisteredClaims,
  type Verifier,
  type VerifierOptions,
} from './types.js'

/** The claims type a verifier yields: the zod schema's output, else the registered claims. */
export type ClaimsOf<S> = [S] extends [ZodType] ? output<S> : RegisteredClaims

/** Largest NumericDate (seconds) a `Date` can hold: `expiresAt`/`issuedAt` must stay valid. */
const MAX_TIME = 8.64e12

/** Without a `kid`, at most this many fitting keys are tried. */
const MAX_KEYS_WITHOUT_KID = 5

interface IssuerRuntime {
  cfg: NormalizedIssuer
  allowed: ReadonlySet<string>
  /** Keys fitting (kid, alg); sync when warm. Absent for a shared secret. */
  select?: (kid: string | undefined, alg: Algorithm) => VerifyKey[] | Promise<VerifyKey[]>
  hmac?: ReturnType<typeof createHmacVerifier>
  /** Pending while keys are still being imported: `allowed` and `select` are not known before. */
  ready?: Promise<void>
  warmUp(): Promise<void>
}

/** What verified a cached token: a JWKS key is retired when a refetch drops it. */
interface Verifying {
  readonly retired: boolean
}
/** A shared secret, or a key object that does not come from a JWKS: never retired. */
const PERMANENT: Verifying = Object.freeze({ retired: false })

interface CacheEntry {
  token: string
  /** The key that verified the token: once retired, the entry is not served. */
  key: Verifying
  /** Epoch ms after which the entry is not served (the cache's TTL). */
  until: number
  ctx: AuthContext<unknown>
  /** The raw payload: revocation reads its `jti` even when a schema transformed the claims. */
  payload: JWTPayload
  rt: IssuerRuntime
  exp: number
  iat: number | undefined
}

/**
 * `Bearer <compact JWS>`: a header of this form is what `extractBearer` would read as the string after
 * `Bearer ` (one space, no whitespace or commas, b64token characters), so it is taken without it.
 */
const BEARER_JWS = /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** extractBearer's limit on the header length. */
const MAX_BEARER_HEADER = 16 * 1024

/** Parsed, checked protected headers kept by their exact base64url text (one issuer uses a few). */
const HEADER_CACHE_MAX = 64
const HEADER_CACHE_MAX_LENGTH = 1024

function invalid(reason: string, claim?: string): InvalidTokenError {
  return new InvalidTokenError({ reason, claim })
}

function buildRuntime(cfg: NormalizedIssuer, warn: Warn): IssuerRuntime {
  const { source } = cfg
  if (source.type === 'secret') {
    return {
      cfg,
      allowed: new Set(cfg.algorithms),
      hmac: createHmacVerifier(source.secret),
      warmUp: async () => {},
    }
  }
  if (source.type === 'keys') {
    const imported = importStaticKeys(source.input, (who, why) => warn(`keys\u0000${who}\u0000${why}`, `bearer-guard: option "keys": ${who} skipped: ${why}`))
    if (Array.isArray(imported)) {
      const algs = cfg.algorithms ?? algorithmsOf(imported)
      return { cfg, allowed: new Set(algs), select: staticSelect(imported), warmUp: async () => {} }
    }
    // PEM without node:crypto: imported asynchronously, once; tokens wait for it (see `ready`)
    const ready = (imported as Promise<VerifyKey[]>).then((keys) => {
      rt.allowed = new Set(cfg.algorithms ?? algorithmsOf(keys))
      rt.select = staticSelect(keys)
      rt.ready = undefined
    })
    const rt: IssuerRuntime = { cfg, allowed: new Set(), ready, warmUp: () => ready }
    ready.catch(() => {})
    return rt
  }
  const jwksOptions = {
    timeoutMs: cfg.jwks.timeoutMs,
    maxBytes: cfg.jwks.maxBytes,
    headers: cfg.jwks.headers,
    fetch: cfg.jwks.fetch,
    cacheMaxAge: cfg.jwks.cacheMaxAge,
    cooldown: cfg.jwks.cooldown,
    staleMaxAge: cfg.jwks.staleMaxAge,
    onEvent: (event: JwksEvent) => warnJwks(event, source.type === 'jwks' ? source.uri.href : source.issuer, warn),
  }
  const cache: JwksCache =
    source.type === 'jwks'
      ? createJwksCache(source.uri, jwksOptions)
      : createJwksCache((fetchOptions) => discoverJwksUri(source.issuer, fetchOptions), jwksOptions)
  return { cfg, allowed: new Set(cfg.algorithms), select: cache.select, warmUp: cache.reload }
}

/**
 * Tells the logger what a JWKS cache reports: a failed fetch (stale keys or 503) and skipped keys —
 * not those of another use (the encryption keys many JWKS publish beside the signing keys).
 */
function warnJwks(event: JwksEvent, source: string, warn: Warn): void {
  if (event.type === 'skipped-key') {
    if (event.otherUse) return
    warn(`jwks\u0000${event.uri}\u0000skipped\u0000${event.cause}`, `bearer-guard: JWKS at ${event.uri}: ${event.detail}`)
  } else if (event.type === 'fetch-failed') {
    const { stale } = event
    if (stale) {
      const now = Date.now()
      const ago = Math.round((now - stale.fetchedAt) / 1000)
      const left = Math.round((stale.until - now) / 1000)
      warn(
        `jwks\u0000${source}\u0000stale\u0000${event.cause}`,
        `bearer-guard: JWKS refresh failed, still using the keys fetched ${ago} s ago (for up to ${left} s more): ${event.detail}`,
      )
    } else {
      warn(`jwks\u0000${source}\u0000down\u0000${event.cause}`, `bearer-guard: JWKS unavailable, answering 503 until it can be fetched: ${event.detail}`)
    }
  }
}

function staticSelect(keys: readonly VerifyKey[]): (kid: string | undefined, alg: Algorithm) => VerifyKey[] {
  // the answer for the last (kid, alg) is kept: an issuer signs with one key at a time
  let lastKid: string | undefined | null = null
  let lastAlg = ''
  let last: VerifyKey[] = []
  return (kid, alg) => {
    if (kid === lastKid && alg === lastAlg) return last
    // a token naming a kid uses the key with that kid (ambiguous when several have it); only when
    // none has it, the keys without kid, tried in turn as for a token without kid (a static key
    // without kid may verify any token: two of them are the usual rotation overlap)
    // (loops, not filter: no closure allocated per token)
    const out: VerifyKey[] = []
    if (kid !== undefined) for (const key of keys) if (key.kid === kid && keyFitsAlgorithm(key, alg)) out.push(key)
    if (out.length > 1) throw ambiguous(kid as string, out.length)
    if (out.length === 0) for (const key of keys) if ((kid === undefined || key.kid === undefined) && keyFitsAlgorithm(key, alg)) out.push(key)
    if (out.length === 0) throw invalid(`no configured key fits ${kid === undefined ? 'the token' : `kid "${kid.slice(0, 64)}"`} and alg ${alg}`)
    lastKid = kid
    lastAlg = alg
    last = out
    return out
  }
}

/**
 * A `Date` whose setters throw: `Object.freeze` does not stop `setTime`, and a cached context, with its
 * `expiresAt` and `issuedAt`, is shared between requests.
 */
class FrozenDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue
  Object.defineProperty(FrozenDate.prototype, name, {
    value: function frozen(): never {
      throw new TypeError(`bearer-guard: Date.prototype.${name} on a frozen auth context (copy it first: new Date(date))`)
    },
    writable: false,
    configurable: false,
    enumerable: false,
  })
}
Object.freeze(FrozenDate.prototype)

/** Deep-freezes a JSON value (the claims): a cached context is shared between requests. */
function deepFreeze<T>(value: T, depth = 0): T {
  if (typeof value === 'object' && value !== null && depth < 32 && !Object.isFrozen(value)) {
    Object.freeze(value)
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i]
        if (typeof v === 'object' && v !== null) deepFreeze(v, depth + 1)
      }
    } else {
      for (const v of Object.values(value as object)) if (typeof v === 'object' && v !== null) deepFreeze(v, depth + 1)
    }
  }
  return value
}

/** A value as JSON, cut to `max` characters: quotes strings, so `"http://x/"` shows its slash. */
function quote(value: unknown, max: number): string {
  return String(JSON.stringify(value)).slice(0, max)
}

/** Accepted values for a message: `"a" or "b"` (the list cut after a few). */
function quoteAll(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((v) => quote(v, 200))
  return `${shown.join(' or ')}${values.length > 5 ? ` or ${values.length - 5} more` : ''}`
}

function intersects(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (b.includes(a[i] as string)) return true
  return false
}

/** Deep-freezes a JSON.parse result: a tree (no shared or cyclic nodes), none of it frozen yet. */
function freezeJson<T>(value: T, depth = 0): T {
  Object.freeze(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      if (typeof v === 'object' && v !== null && depth < 32) freezeJson(v, depth + 1)
    }
  } else {
    for (const k in value) {
      const v: unknown = value[k]
      if (typeof v === 'object' && v !== null && depth < 32) freezeJson(v, depth + 1)
    }
  }
  return value
}

/**
 * A protected header's checks that do not depend on the issuer; the header comes back frozen.
 * Runs once per distinct header text (the verifier caches the result by it).
 */
function parseHeader(h: string): JWSHeaderParameters {
  const text = decodeJsonText(h)
  const header = text === undefined ? undefined : (parseJsonText(text) as JWSHeaderParameters | undefined)
  if (!header) throw invalid('header is not a JSON object')
  // JSON parsers disagree on repeated names (first or last wins): RFC 7515 §4 lets us refuse them
  const duplicate = findDuplicateMember(text as string)
  if (duplicate !== undefined) throw invalid(`header has the member ${JSON.stringify(duplicate.slice(0, 40))} twice`)
  const alg = header.alg
  if (typeof alg !== 'string') throw invalid('header has no alg')
  if (alg.toLowerCase() === 'none') throw invalid('alg "none" is never accepted')
  if (header.crit !== undefined) throw invalid('header has crit: no extensions are supported')
  if (header.b64 !== undefined && header.b64 !== true) throw invalid('b64 other than true is not allowed in a JWT')
  if (header.kid !== undefined && typeof header.kid !== 'string') throw invalid('kid is not a string')
  // a nested JWT (RFC 7519 §5.2) signs another token, not claims: not supported
  if (typeof header.cty === 'string' && /^(application\/)?jwt$/i.test(header.cty)) throw invalid(`cty ${JSON.stringify(header.cty)}: nested JWTs are not accepted`)
  return freezeJson(header)
}

/**
 * Tries the fitting keys in order (several only without a matching kid, at most five) and answers
 * the key that verified, or `false`; synchronous while every verification is (node:crypto), so a
 * warm verifier adds no promise of its own.
 */
function tryKeys(keys: readonly VerifyKey[], alg: Algorithm, data: Uint8Array, sig: Uint8Array): VerifyKey | false | Promise<VerifyKey | false> {
  const n = Math.min(keys.length, MAX_KEYS_WITHOUT_KID)
  for (let i = 0; i < n; i++) {
    const key = keys[i] as VerifyKey
    const r = verifyAsymmetric(alg, key, data, sig)
    if (typeof r !== 'boolean') return restLater(r, keys, i, n, alg, data, sig)
    if (r) return key
  }
  return false
}

function restLater(pending: Promise<boolean>, keys: readonly VerifyKey[], at: number, n: number, alg: Algorithm, data: Uint8Array, sig: Uint8Array): Promise<VerifyKey | false> {
  return pending.then((ok) => (ok ? (keys[at] as VerifyKey) : tryKeysAsync(keys, at + 1, n, alg, data, sig)))
}

async function tryKeysAsync(keys: readonly VerifyKey[], from: number, n: number, alg: Algorithm, data: Uint8Array, sig: Uint8Array): Promise<VerifyKey | false> {
  for (let i = from; i < n; i++) if (await verifyAsymmetric(alg, keys[i] as VerifyKey, data, sig)) return keys[i] as VerifyKey
  return false
}

/**
 * Consults the revocation store; `undefined` when that was synchronous (or there is nothing to ask).
 * Hot path: no closure here (a function with closures allocates their context on every call).
 */
function checkRevocation(rt: IssuerRuntime, payload: JWTPayload): Promise<void> | undefined {
  const store = rt.cfg.revocation
  const jti = payload.jti
  if (!store || typeof jti !== 'string') return undefined
  let answer: boolean | Promise<boolean>
  try {
    answer = store.isRevoked(jti, payload)
  } catch (error) {
    throw storeFailure(error)
  }
  if (typeof (answer as Promise<boolean> | null)?.then !== 'function') {
    if (answer) throw revokedError(jti)
    return undefined
  }
  return revocationLater(answer as Promise<boolean>, jti)
}

function revocationLater(answer: Promise<boolean>, jti: string): Promise<void> {
  return Promise.resolve(answer).then(
    (r) => {
      if (r) throw revokedError(jti)
    },
    (error: unknown) => {
      throw storeFailure(error)
    },
  )
}

function revokedError(jti: string): TokenRevokedError {
  return new TokenRevokedError({ reason: `jti "${jti.slice(0, 64)}" is revoked` })
}

function storeFailure(error: unknown): AuthError {
  return isAuthError(error) ? error : new KeySourceUnavailableError({ reason: `revocation store failed: ${(error as Error)?.message}`, cause: error })
}

/** `tryKeys` once the keys arrive (a JWKS fetch). */
function tryKeysLater(keys: Promise<VerifyKey[]>, alg: Algorithm, data: Uint8Array, sig: Uint8Array): Promise<VerifyKey | false> {
  return keys.then((k) => tryKeys(k, alg, data, sig))
}

/** Whether `values` has one that is `Object.is` to `actual`. */
function hasSame(values: readonly unknown[], actual: unknown): boolean {
  for (let i = 0; i < values.length; i++) if (Object.is(values[i], actual)) return true
  return false
}

function thenValue<T>(pending: Promise<void>, value: T): Promise<T> {
  return pending.then(() => value)
}

/** A 30-bit hash of a token's last characters (its signature): for the cache's admission filter only. */
function tokenHash(token: string): number {
  let h = 0x811c9dc5
  for (let i = Math.max(0, token.length - 24); i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193)
  return h & 0x3fffffff
}

/**
 * Creates a verifier for one authorization server (or several with `issuers`). Options are
 * validated now: a wrong or unknown option throws a `TypeError` naming it.
 *
 * @example Verify tokens from an issuer's JWKS, with roles from Keycloak's claim.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com/realms/main',
 *   audience: 'orders-api',
 *   rolesClaim: 'realm_access.roles',
 * })
 * const auth = await verifier.authenticate(request.headers.get('authorization'))
 * auth.subject // 'f3b2…'
 * ```
 *
 * @param options See docs/configuration.md.
 */
export function createVerifier<S extends ZodType | undefined = undefined>(options: VerifierOptions<S>): Verifier<ClaimsOf<S>> {
  const normalized = normalizeOptions(options as VerifierOptions)
  const warn = createWarn(normalized.logger)
  const runtimes = normalized.entries.map((entry) => buildRuntime(entry, warn))
  const byIssuer = new Map<string, IssuerRuntime>()
  if (normalized.multi) {
    for (const rt of runtimes) for (const iss of rt.cfg.issuers as readonly string[]) byIssuer.set(iss, rt)
  }
  const single = normalized.multi ? undefined : runtimes[0]
  const maxLength = normalized.maxTokenLength
  const cache = normalized.cache
    ? new LRUCache<string, CacheEntry>({
        max: normalized.cache.max,
        ttlAutopurge: false,
        dispose: (entry, token) => {
          const slot = tokenHash(token) & seenMask
          if (front[slot] === entry) front[slot] = undefined
        },
      })
    : undefined
  // Admission. While tokens repeat, a verified token is cached at once. Under churn (fewer than 1 in
  // 16 lookups hit, over the last 1024), a token is cached on its second verification only, so a
  // stream of never-repeated tokens does not fill the cache, and the heap's old generation, with
  // entries nobody reads: measured, that made distinct tokens slower with the cache than without.
  // `seen` is a direct-mapped table of small token hashes (never tokens), fixed in size: a collision
  // only admits a token early, or forgets one. Under churn, a token whose hash is not in `seen` was
  // not verified recently: the cache lookup (which hashes the whole token) is skipped; should its slot
  // have been reused meanwhile, a cached token is simply verified once more. Without churn the LRU is
  // always asked, so two tokens of a steady pool that share a slot do not re-verify each other out.
  let seenSize = 2048
  while (normalized.cache && seenSize < 2 * normalized.cache.max && seenSize < 1 << 22) seenSize *= 2
  const seen = new Int32Array(normalized.cache ? seenSize : 0)
  const seenMask = seenSize - 1
  // Hits are served from `front` first: per `seen` slot, the entry last found or cached there. It
  // compares the whole token (never the hash alone) and the deadline, and skips the LRU's lookup,
  // which hashes the whole token on each request (a request's header is always a new string).
  // The LRU's `dispose` takes evicted entries out of `front`.
  const front: (CacheEntry | undefined)[] = normalized.cache ? new Array<CacheEntry | undefined>(seenSize) : []

  /** The cached entry of exactly this token, if `front` has it, it is not past its TTL, and its key is not retired. */
  function frontHit(token: string, slot: number): CacheEntry | undefined {
    const e = front[slot]
    return e !== undefined && e.token === token && e.until > Date.now() && !e.key.retired ? e : undefined
  }
  let lookups = 0
  let hits = 0
  let churn = false
  const headerCache = new Map<string, JWSHeaderParameters>()
  let lastHeaderText = ''
  let lastHeader: JWSHeaderParameters | undefined

  function nowSeconds(): number {
    return Math.floor(Date.now() / 1000)
  }

  function checkTimes(rt: IssuerRuntime, exp: number, iat: number | undefined, now: number): void {
    const tol = rt.cfg.clockTolerance
    if (exp <= now - tol) {
      throw new TokenExpiredError({ reason: `exp ${exp} is past: now ${now}, tolerance ${tol}s`, expiredAt: new Date(exp * 1000) })
    }
    if (rt.cfg.maxTokenAge !== undefined && iat !== undefined && now - iat > rt.cfg.maxTokenAge + tol) {
      throw invalid(`iat ${iat} is older than maxTokenAge ${rt.cfg.maxTokenAge}s`, 'iat')
    }
  }

  /** Verifies a token the cache does not hold: synchronous when keys are warm and crypto is node:crypto. */
  function verifyFresh(token: string): CacheEntry | Promise<CacheEntry> {
    const d1 = token.indexOf('.')
    const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1)
    if (d2 === -1) throw invalid('not a compact JWS: expected three dot-separated parts')
    if (token.indexOf('.', d2 + 1) !== -1) {
      throw invalid(token.split('.').length === 5 ? 'JWE (encrypted) tokens are not accepted' : 'not a compact JWS: too many parts')
    }
    const h = token.slice(0, d1)
    const p = token.slice(d1 + 1, d2)
    const s = token.slice(d2 + 1)
    if (h === '' || p === '' || s === '') throw invalid('a part of the JWS is empty (unsigned tokens are not accepted)')
    // an issuer signs with one or two headers: comparing with the last one is cheaper than hashing
    // the header string for the Map (a token's parts are always new strings)
    let header = h === lastHeaderText ? lastHeader : headerCache.get(h)
    if (header === undefined && !isBase64url(h)) throw invalid('a part of the JWS is not base64url')
    // payload and signature: checked canonical while decoded (both decoders answer as isBase64url);
    // the payload is parsed now (from scratch bytes), its JSON refused only after the header's checks
    const parsed = decodeJsonPart(p)
    const signature = parsed !== NOT_BASE64URL && decodeCanonical(s)
    if (!signature) throw invalid('a part of the JWS is not base64url')
    if (header === undefined) {
      header = parseHeader(h)
      if (h.length <= HEADER_CACHE_MAX_LENGTH) {
        if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear()
        headerCache.set(h, header)
      }
    }
    if (h.length <= HEADER_CACHE_MAX_LENGTH) {
      lastHeaderText = h
      lastHeader = header
    }
    const alg = header.alg as string

    const payload = parsed as JWTPayload | undefined
    if (!payload) throw invalid('payload is not a JSON object')

    let rt: IssuerRuntime
    if (single) {
      rt = single
    } else {
      const iss = payload.iss
      const found = typeof iss === 'string' ? byIssuer.get(iss) : undefined
      if (!found) throw invalid(typeof iss === 'string' ? `iss "${iss.slice(0, 200)}" is not a configured issuer` : 'iss missing: cannot select an issuer', 'iss')
      rt = found
    }
    // keys still importing: the allowlist derived from them is not known yet
    if (rt.ready) return freshWhenReady(rt.ready, token)
    const cfg = rt.cfg
    if (!rt.allowed.has(alg)) throw invalid(`alg "${alg.slice(0, 20)}" is not allowed (allowed: ${[...rt.allowed].join(', ')})`)

    if (cfg.tokenType?.kind === 'header') {
      const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined
      if (typ === undefined || !cfg.tokenType.values.includes(typ)) {
        const expected = quoteAll(cfg.tokenType.values)
        throw invalid(header.typ === undefined ? `typ missing, expected ${expected}` : `typ ${quote(header.typ, 40)} is not ${expected}`, 'typ')
      }
    }

    // the key that verified (`true`: the secret), or false
    let ok: VerifyKey | boolean | Promise<VerifyKey | boolean>
    if (rt.hmac) {
      // the signing input goes as its string: the MAC encodes it without a buffer of its own
      ok = rt.hmac(alg as Algorithm, token.slice(0, d2), signature)
    } else {
      const data = asciiBytes(token.slice(0, d2))
      const keys = (rt.select as NonNullable<IssuerRuntime['select']>)(header.kid, alg as Algorithm)
      ok = Array.isArray(keys) ? tryKeys(keys, alg as Algorithm, data, signature) : tryKeysLater(keys, alg as Algorithm, data, signature)
    }
    if (typeof (ok as Partial<PromiseLike<unknown>>).then !== 'function') return checkClaims(token, rt, header, payload, ok as VerifyKey | boolean)
    return claimsLater(ok as Promise<VerifyKey | boolean>, token, rt, header, payload)
  }

  // the continuations of verifyFresh, kept out of it: a function with closures allocates their
  // context on every call, also when it returns synchronously
  function freshWhenReady(ready: Promise<void>, token: string): Promise<CacheEntry> {
    return ready.then(() => verifyFresh(token))
  }

  function claimsLater(ok: Promise<VerifyKey | boolean>, token: string, rt: IssuerRuntime, header: JWSHeaderParameters, payload: JWTPayload): Promise<CacheEntry> {
    return ok.then((v) => checkClaims(token, rt, header, payload, v))
  }

  /** Everything after the signature: time and claim checks, the context, revocation. */
  function checkClaims(token: string, rt: IssuerRuntime, header: JWSHeaderParameters, payload: JWTPayload, ok: VerifyKey | boolean): CacheEntry | Promise<CacheEntry> {
    // fail closed: only `true` (the secret's MAC) or the key that verified counts
    if (ok !== true && (ok === false || typeof (ok as VerifyKey).kty !== 'string')) throw invalid('signature verification failed')
    const cfg = rt.cfg

    // claims
    const now = nowSeconds()
    const tol = cfg.clockTolerance
    const exp = payload.exp
    if (exp === undefined) throw invalid('exp missing', 'exp')
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('exp is not a number', 'exp')
    if (Math.abs(exp) > MAX_TIME) throw invalid('exp is not a valid time (beyond the range of a Date)', 'exp')
    const iat = payload.iat
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw invalid('iat is not a number', 'iat')
    if (iat !== undefined && Math.abs(iat) > MAX_TIME) throw invalid('iat is not a valid time (beyond the range of a Date)', 'iat')
    if (payload.nbf !== undefined) {
      if (typeof payload.nbf !== 'number' || !Number.isFinite(payload.nbf)) throw invalid('nbf is not a number', 'nbf')
      if (payload.nbf > now + tol) {
        throw new InvalidTokenError({ description: 'token not yet valid', reason: `nbf ${payload.nbf} is in the future: now ${now}, tolerance ${tol}s`, claim: 'nbf' })
      }
    }
    if (iat !== undefined && iat > now + tol) throw invalid(`iat ${iat} is in the future: now ${now}, tolerance ${tol}s`, 'iat')
    if (cfg.maxTokenAge !== undefined && iat === undefined) throw invalid('iat missing (maxTokenAge is set)', 'iat')
    checkTimes(rt, exp, iat as number | undefined, now)

    if (cfg.issuers !== false) {
      if (typeof payload.iss !== 'string') throw invalid('iss missing', 'iss')
      if (typeof cfg.issuers === 'function') {
        if (cfg.issuers(payload.iss, payload) !== true) throw invalid(`iss "${payload.iss.slice(0, 200)}" rejected by the issuer function`, 'iss')
      } else if (!cfg.issuers.includes(payload.iss)) {
        throw invalid(`iss mismatch: got ${quote(payload.iss, 200)}, expected ${quoteAll(cfg.issuers)}`, 'iss')
      }
    }
    let audience: string[] = []
    const aud = payload.aud
    if (typeof aud === 'string') audience = [aud]
    else if (Array.isArray(aud)) {
      for (let i = 0; i < aud.length; i++) if (typeof aud[i] !== 'string') throw invalid('aud has a non-string member', 'aud')
      audience = aud
    } else if (aud !== undefined) throw invalid('aud is neither a string nor an array', 'aud')
    if (typeof cfg.audience === 'function') {
      if (cfg.audience(audience, payload) !== true) {
        throw invalid(`aud ${JSON.stringify(audience).slice(0, 200)} rejected by the audience function`, 'aud')
      }
    } else if (cfg.audience !== false) {
      if (aud === undefined) throw invalid('aud missing', 'aud')
      const accepted = cfg.audience
      if (!intersects(audience, accepted)) {
        throw invalid(`aud mismatch: got ${JSON.stringify(audience).slice(0, 200)}, expected ${quoteAll(accepted)}`, 'aud')
      }
    }
    let subject: string | undefined
    const subPath = cfg.subjectClaim === false ? 'sub' : cfg.subjectClaim
    const rawSub = readClaim(payload, subPath)
    if (typeof rawSub === 'string' && rawSub !== '') subject = rawSub
    // beyond 2^53, JSON.parse rounds: two users' numeric ids would give one subject
    else if (typeof rawSub === 'number' && Math.abs(rawSub) <= Number.MAX_SAFE_INTEGER) subject = String(rawSub)
    else if (cfg.subjectClaim !== false) {
      throw invalid(
        rawSub === undefined
          ? `subject claim "${subPath}" missing`
          : typeof rawSub === 'number'
            ? `subject claim "${subPath}" is a number beyond 2^53 (not exact: send it as a string)`
            : `subject claim "${subPath}" is not a string or number`,
        subPath,
      )
    }
    for (const path of cfg.requiredClaims) {
      if (readClaim(payload, path) === undefined) throw invalid(`required claim "${path}" missing`, path)
    }
    if (cfg.tokenType?.kind === 'claim') {
      const actual = readClaim(payload, cfg.tokenType.path)
      if (!hasSame(cfg.tokenType.values, actual)) {
        throw invalid(`token type claim "${cfg.tokenType.path}" is ${actual === undefined ? 'missing' : quote(actual, 40)}, expected ${quoteAll(cfg.tokenType.values)}`, cfg.tokenType.path)
      }
    }
    let claims: unknown = payload
    if (cfg.claims) {
      const parsed = cfg.claims.safeParse(payload)
      if (!parsed.success) {
        const first = parsed.error.issues[0]
        throw invalid(`claims schema: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`, first?.path.join('.'))
      }
      claims = parsed.data
    }

    const ctx: AuthContext<unknown> = {
      token,
      header,
      claims: claims === payload ? freezeJson(payload) : deepFreeze(claims),
      subject,
      issuer: typeof payload.iss === 'string' ? payload.iss : undefined,
      audience: Object.freeze(audience) as string[],
      scopes: Object.freeze(readList(payload, cfg.scopesClaim)) as string[],
      roles: Object.freeze(readList(payload, cfg.rolesClaim)) as string[],
      expiresAt: new FrozenDate(exp * 1000),
    }
    if (iat !== undefined) ctx.issuedAt = new FrozenDate((iat as number) * 1000)
    Object.freeze(ctx)
    const entry: CacheEntry = { token, key: ok === true ? PERMANENT : ok, until: 0, ctx, payload, rt, exp, iat: iat as number | undefined }
    // revocation needs the raw payload's jti even when a schema transformed the claims
    const pending = checkRevocation(rt, payload)
    return pending === undefined ? entry : thenValue(pending, entry)
  }

  /** Caches a verified token: at once, or under churn from its second verification on (see `seen`). */
  function admit(token: string, hash: number, entry: CacheEntry): void {
    const slot = hash & seenMask
    if (seen[slot] !== hash + 1) {
      seen[slot] = hash + 1
      if (churn) return
    }
    // an entry never outlives its token, nor the JWKS freshness window
    const now = Date.now()
    const ttl = Math.min((entry.exp + entry.rt.cfg.clockTolerance) * 1000 - now, entry.rt.cfg.jwks.cacheMaxAge * 1000)
    if (ttl > 0) {
      entry.until = now + ttl
      ;(cache as LRUCache<string, CacheEntry>).set(token, entry, { ttl })
      front[slot] = entry
    }
  }

  async function verifyAccessToken(token: string): Promise<AuthContext<ClaimsOf<S>>> {
    let hash = 0
    try {
      if (typeof token !== 'string') throw invalid(`token of type ${typeof token}`)
      if (token.length > maxLength) throw invalid(`token of ${token.length} bytes exceeds maxTokenLength ${maxLength}`)
      if (cache) {
        hash = tokenHash(token)
        const slot = hash & seenMask
        let hit = frontHit(token, slot)
        // under churn, a token whose hash is not in `seen` is taken as never seen (no LRU lookup);
        // otherwise the LRU is asked too, so two active tokens sharing a slot are both served
        if (hit === undefined && (!churn || seen[slot] === hash + 1)) {
          hit = cache.get(token)
          if (hit !== undefined) {
            // a refetch dropped the key that verified it: verify again (the key is gone, so it fails)
            if (hit.key.retired) {
              cache.delete(token)
              hit = undefined
            } else front[slot] = hit
          }
        }
        if (++lookups === 1024) {
          churn = (hits + (hit ? 1 : 0)) * 16 < lookups
          lookups = hits = 0
        } else if (hit) hits++
        if (hit) {
          // a hit re-checks the clock and asks the revocation store again
          checkTimes(hit.rt, hit.exp, hit.iat, nowSeconds())
          const pending = checkRevocation(hit.rt, hit.payload)
          if (pending !== undefined) await pending
          return hit.ctx as AuthContext<ClaimsOf<S>>
        }
      }
      const fresh = verifyFresh(token)
      const entry = fresh instanceof Promise ? await fresh : fresh
      if (cache) admit(token, hash, entry)
      return entry.ctx as AuthContext<ClaimsOf<S>>
    } catch (error) {
      if (error instanceof AuthError || isAuthError(error)) throw error
      throw new InvalidTokenError({ reason: `verification failed: ${(error as Error)?.message ?? String(error)}`, cause: error })
    }
  }

  const verifier: Verifier<ClaimsOf<S>> = {
    verifyAccessToken,
    authenticate(authorization) {
      // one header given as a list (Node's headersDistinct) reads as that header, as in extractBearer
      const value = typeof authorization === 'string' || !Array.isArray(authorization) || authorization.length !== 1 ? authorization : authorization[0]
      if (typeof value === 'string' && value.length <= MAX_BEARER_HEADER && value.startsWith('Bearer ')) {
        const token = value.slice(7)
        // a cached token is a compact JWS, so extractBearer would give this same string
        if ((cache && frontHit(token, tokenHash(token) & seenMask)) || BEARER_JWS.test(value)) {
          return verifyAccessToken(token)
        }
      }
      let token: string
      try {
        token = extractBearer(authorization)
      } catch (error) {
        return Promise.reject(error)
      }
      return verifyAccessToken(token)
    },
    async warmUp() {
      await Promise.all(runtimes.map((rt) => rt.warmUp()))
    },
    [VERIFIER_BRAND]: true,
  }
  if (normalized.resource !== undefined) Object.assign(verifier, { resource: normalized.resource })
  return Object.freeze(verifier)
}

/** True for a verifier made by `createVerifier` (also from another copy of the package). */
export function isVerifier(value: unknown): value is Verifier<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VERIFIER_BRAND] === true
}

const oneShot = new LRUCache<string, Verifier<unknown>>({ max: 64 })
const identities = new WeakMap<object, number>()
let nextIdentity = 0

/**
 * Options compared by identity whatever their shape: a store's, a schema's or a logger's content is
 * state (the memory store's `size`, the Redis store's `status`), not configuration.
 */
const BY_IDENTITY = new Set(['revocation', 'claims', 'logger'])

/**
 * A key equal for equal options: plain values by content, URLs by `href`, bytes by value;
 * functions, stores, schemas, loggers, key objects and any object with a getter by identity.
 */
function optionsKey(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, key, v: unknown) {
    if (typeof v === 'function') return identityOf(v)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
    if (v instanceof URL) return `url:${v.href}`
    if (v instanceof Uint8Array) return `bytes:${Array.from(v).join(',')}`
    return BY_IDENTITY.has(key) || !isPlainData(v) ? identityOf(v) : v
  })
}

function identityOf(v: object): string {
  let id = identities.get(v)
  if (id === undefined) identities.set(v, (id = ++nextIdentity))
  return `ref:${id}`
}

/** A plain object whose properties are all values (JSON.stringify would call a getter: state, not configuration). */
function isPlainData(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  for (const name of Object.getOwnPropertyNames(v)) {
    const d = Object.getOwnPropertyDescriptor(v, name)
    if (d && (d.get !== undefined || d.set !== undefined)) return false
  }
  return true
}

/**
 * Verifies one token with a verifier kept for these options: calls with equal options share one
 * verifier and so one JWKS cache. Prefer `createVerifier` in long-lived code.
 *
 * @example
 * ```ts
 * const auth = await verifyAccessToken(token, { issuer: 'https://auth.example.com', audience: 'api' })
 * ```
 */
export async function verifyAccessToken<S extends ZodType | undefined = undefined>(
  token: string,
  options: VerifierOptions<S>,
): Promise<AuthContext<ClaimsOf<S>>> {
  const key = optionsKey(options)
  let verifier = oneShot.get(key) as Verifier<ClaimsOf<S>> | undefined
  if (!verifier) {
    verifier = createVerifier(options)
    oneShot.set(key, verifier as Verifier<unknown>)
  }
  return verifier.verifyAccessToken(token)
}
