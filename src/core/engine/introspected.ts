/**
 * Opaque tokens: the stage that sends a token to its issuer's introspection endpoint (RFC 7662)
 * instead of verifying it locally, and checks the answer like a JWT's claims.
 *
 * Routing. With `use: 'opaque'` a token of the compact JWS form verifies locally and any other token
 * is introspected; with `use: 'always'` every token of that issuer is introspected (a JWS is routed
 * by its unverified `iss` when there are several issuers: only the answer is trusted).
 *
 * The answer. `active` must be `true` (`false` is a 401 `invalid_token`; anything else is a broken
 * answer, 503). Then the same checks as a JWT's claims (engine/claims.ts: `exp`, `nbf`, `iat`,
 * `iss`, `aud`, the subject, required claims, a token-type claim, the zod schema; roles and scopes
 * through their paths), a `token_type` other than Bearer or DPoP refused, the revocation store, and
 * `cnf` kept as the context's `confirmation` for the DPoP and mTLS binding checks. An RFC 9701
 * answer (a JWT) is verified with the issuer's keys first.
 *
 * Failures of the endpoint (down, timeout, 5xx, not JSON, too large, a signed answer that does not
 * verify) are 503 with `Retry-After`: the token is not blamed, and an unknown token is never
 * accepted (no stale answers).
 *
 * Cost. One request in flight per token (concurrent requests with one new token share it); answers
 * kept in an LRU keyed by the SHA-256 of the token (never the token), until the token's `exp`,
 * `cacheMaxAge` or the answer's `max-age`, whichever is first, and not at all under
 * `Cache-Control: no-store`; "not active" answers for `negativeCacheMaxAge`. A cache hit checks the
 * clock and the revocation store again, as for a cached JWT.
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import { InvalidTokenError, isAuthError, KeySourceUnavailableError, type AuthError } from '../errors.js'
import { introspectEnd, introspectStart, type IntrospectMessage } from '../diagnostics.js'
import { nodeCrypto } from '../keys/backend.js'
import type { KeyState } from '../keys/verify-key.js'
import { normalizeTyp } from '../limits.js'
import type { NormalizedIssuer, NormalizedIntrospection } from '../options.js'
import { FetchJsonError } from '../sources/fetch-json.js'
import { createIntrospectionClient, type Introspect, type IntrospectionAnswer } from '../sources/introspection.js'
import type { AuthContext, JWSHeaderParameters, JWTPayload } from '../types.js'
import type { Warn } from '../warnings.js'
import { checkClaims, retain, type Verified } from './claims.js'
import type { IssuerRuntime } from './issuer.js'
import { JwsReader } from './jws.js'
import { chain, type MaybePromise } from './maybe-promise.js'
import { invalid } from './reasons.js'
import { checkRevocation } from './revocation-check.js'
import { signer, verifySignature } from './signature.js'
import { checkLifetime, nowSeconds } from './times.js'

/** An opaque token has no header: its context's `header` is this empty, frozen object. */
const NO_HEADER: JWSHeaderParameters = Object.freeze({})
/** The endpoint vouched for the token: no key to retire. */
const VOUCHED: KeyState = Object.freeze({ retired: false })
/** Seconds a client is told to wait after an introspection failure. */
const RETRY_AFTER = 5

/** One issuer's introspection: its runtime, its client, its cache and the requests in flight. */
export interface IntrospectionTarget {
  readonly rt: IssuerRuntime
  readonly cfg: NormalizedIntrospection
  readonly introspect: Introspect
  /** Answers by the SHA-256 of their token. */
  readonly cache: LRUCache<string, Entry> | undefined
  /**
   * The front of the cache: per slot of a cheap hash of the token, the answer last cached there.
   * A hit compares the whole token with the one its context holds (never a hash alone), and skips
   * the SHA-256 (~2 µs) the LRU lookup needs. Positive answers only.
   */
  readonly front: (Entry | undefined)[]
  /**
   * Introspections in flight, by token: held only while the request is pending (the cache, which
   * outlives requests, never holds a token), so concurrent requests join before any hashing.
   */
  readonly pending: Map<string, Promise<Verified>>
  readonly where: string
  /** The configured issuer the endpoint belongs to (for the `bearer-guard:introspect` channel). */
  readonly issuer: string | undefined
}

/** A cached answer: the verified token, or the refusal of an inactive (or unacceptable) one. */
interface Entry {
  verified: Verified | undefined
  refused: InvalidTokenError | undefined
  /** Epoch ms. */
  until: number
}

/** The introspection stage of a verifier. */
export interface Introspection {
  /** The issuer whose endpoint answers for this token, or `undefined`: it verifies locally. */
  route(token: string): IntrospectionTarget | undefined
  /**
   * The token's verified entry from its (cached) introspection answer — the same shape as a JWT's
   * (`payload` is the answer, so later stages read its `cnf` and `jti` as they read a JWT's).
   * Throws or rejects with an `AuthError`.
   */
  verify(token: string, target: IntrospectionTarget): MaybePromise<Verified>
}

/**
 * The introspection stage of these issuers, or `undefined` when none introspects. `cacheMax`:
 * the verifier's cache size (`false`: no cache).
 */
export function createIntrospection(runtimes: readonly IssuerRuntime[], multi: boolean, cacheMax: number | false, warn: Warn): Introspection | undefined {
  const targets = runtimes.filter((rt) => rt.cfg.introspection !== undefined).map((rt) => createTarget(rt, cacheMax))
  if (targets.length === 0) return undefined
  // an opaque token names no issuer: the one entry with 'opaque' (options allow one), else the only one
  const opaque = targets.find((t) => t.cfg.use === 'opaque') ?? (targets.length === 1 ? targets[0] : undefined)
  const always = targets.filter((t) => t.cfg.use === 'always')
  const reader = new JwsReader()
  const byIssuer = new Map<string, IntrospectionTarget>()
  for (const t of always) if (Array.isArray(t.rt.cfg.issuers)) for (const iss of t.rt.cfg.issuers) byIssuer.set(iss, t)

  return {
    route(token) {
      if (!isCompactJws(token)) return opaque
      if (always.length === 0) return undefined
      if (!multi) return always[0]
      // routing only: the answer's `iss` is what is checked
      const iss = reader.read(token).payload.iss
      return typeof iss === 'string' ? byIssuer.get(iss) : undefined
    },
    verify(token, target) {
      // a request already in flight for this token is joined first
      const slot = frontSlot(token)
      const front = target.front[slot]
      if (front !== undefined && front.verified?.token === token && front.until > Date.now()) return served(front, target)
      const joined = target.pending.get(token)
      if (joined !== undefined) return joined
      const key = tokenKey(token)
      // node:crypto hashes at once: a cache hit answers without a promise of its own
      if (typeof key === 'string') {
        const hit = cached(key, target)
        if (hit !== undefined) return served(hit, target)
        return fly(token, target, key)
      }
      // Web Crypto hashes asynchronously: the flight is registered now, so concurrent requests join it
      return fly(token, target, key)
    },
  }

  /** The live cache entry of `key`, if any. */
  function cached(key: string, t: IntrospectionTarget): Entry | undefined {
    const hit = t.cache?.get(key)
    if (hit === undefined || hit.until > Date.now()) {
      if (hit?.verified) t.front[frontSlot(hit.verified.token)] = hit
      return hit
    }
    t.cache?.delete(key)
    return undefined
  }

  /** Starts the one request of `token` (a cache hit, once the hash is known, ends it at once). */
  function fly(token: string, t: IntrospectionTarget, key: string | Promise<string>): Promise<Verified> {
    const flight = typeof key === 'string' ? introspectFresh(token, key, t) : key.then((k) => {
      const hit = cached(k, t)
      return hit !== undefined ? served(hit, t) : introspectFresh(token, k, t)
    })
    t.pending.set(token, flight)
    const done = () => t.pending.delete(token)
    flight.then(done, done)
    return flight
  }

  /** One call to the endpoint, published on `bearer-guard:introspect` when someone listens. */
  function introspectFresh(token: string, key: string, t: IntrospectionTarget): Promise<Verified> {
    const trace = introspectStart(t.where, t.issuer)
    if (trace === undefined) return askServer(token, key, t, undefined)
    const seen: Seen = { active: undefined, retried: false }
    return askServer(token, key, t, seen).then(
      (verified) => {
        introspectEnd(trace, { outcome: 'active', cached: false, retried: seen.retried })
        return verified
      },
      (error: unknown) => {
        endRefused(trace, seen, error)
        throw error
      },
    )
  }

  async function askServer(token: string, key: string, t: IntrospectionTarget, seen: Seen | undefined): Promise<Verified> {
    let answer: IntrospectionAnswer
    try {
      answer = await t.introspect(token)
    } catch (error) {
      if (seen && error instanceof FetchJsonError) seen.retried = error.retried
      throw unavailable(t, error)
    }
    if (seen) seen.retried = answer.retried
    const claims = answer.jwt !== undefined ? await verifySigned(answer.jwt, t) : answer.json
    if (claims === undefined || (t.cfg.signedResponse && answer.jwt === undefined)) {
      throw unavailable(t, new FetchJsonError('the answer is plain JSON, not an RFC 9701 JWT (signedResponse is set)', { kind: 'body' }))
    }
    const active = claims.active
    if (seen && (active === true || active === false)) seen.active = active
    if (active !== true && active !== false) {
      throw unavailable(t, new FetchJsonError(`the answer's "active" is ${active === undefined ? 'missing' : 'not a boolean'}`, { kind: 'body' }))
    }
    let verified: Verified
    try {
      if (active === false) throw new InvalidTokenError({ reason: 'introspection: the token is not active (unknown, expired or revoked)' })
      verified = checkIntrospected(token, claims as JWTPayload, t.rt.cfg)
    } catch (error) {
      if (isAuthError(error) && error.status === 401 && error.name !== 'TokenExpiredError') remember(t, key, answer, undefined, error as InvalidTokenError)
      throw error
    }
    // revocation reads the answer's jti (never cached: the store decides each time)
    await checkRevocation(t.rt.cfg.revocation, verified.payload)
    // once cached, the cache's copy is the answer (see `retain`)
    return remember(t, key, answer, verified, undefined) ?? verified
  }

  /**
   * Keeps an answer: never past the token's `exp`, `cacheMaxAge`, the answer's `max-age`; not at all
   * under `no-store`. Answers the kept copy of `verified` (`retain`), if it was kept.
   */
  function remember(t: IntrospectionTarget, key: string, answer: IntrospectionAnswer, verified: Verified | undefined, refused: InvalidTokenError | undefined): Verified | undefined {
    if (t.cache === undefined || answer.noStore) return undefined
    const now = Date.now()
    let ttl = (verified ? t.cfg.cacheMaxAge : t.cfg.negativeCacheMaxAge) * 1000
    if (answer.maxAge !== undefined) ttl = Math.min(ttl, answer.maxAge * 1000)
    if (verified) ttl = Math.min(ttl, verified.exp * 1000 - now)
    if (ttl <= 0) return undefined
    const kept = verified && retain(verified)
    const entry: Entry = { verified: kept, refused, until: now + ttl }
    t.cache.set(key, entry)
    if (kept) t.front[frontSlot(kept.token)] = entry
    return kept
  }

  /** A cached answer: the clock and the revocation store checked again; a refusal repeated. */
  function served(hit: Entry, t: IntrospectionTarget): MaybePromise<Verified> {
    const trace = introspectStart(t.where, t.issuer)
    if (trace !== undefined) introspectEnd(trace, { outcome: hit.verified ? 'active' : 'inactive', cached: true })
    const verified = hit.verified
    if (verified === undefined) {
      const refused = hit.refused as InvalidTokenError
      throw new InvalidTokenError({ reason: `${refused.reason} (cached answer)`, description: refused.description, claim: refused.claim })
    }
    checkLifetime(t.rt.cfg, verified.exp, verified.iat, nowSeconds())
    return chain(checkRevocation(verified.cfg.revocation, verified.payload), passOn, verified)
  }

  /** Verifies an RFC 9701 answer with the issuer's keys; its `token_introspection` claim is the answer. */
  async function verifySigned(jwt: string, t: IntrospectionTarget): Promise<Record<string, unknown>> {
    const rt = t.rt
    const cfg = rt.cfg
    const clientId = t.cfg.auth.clientId
    try {
      if (rt.ready) await rt.ready
      if (!rt.keys && !rt.hmac) throw new Error('the issuer has no keys to verify it with')
      const parts = reader.read(jwt)
      const { header, payload, signature, signedLength } = parts
      const alg = header.alg as string
      if (!rt.allowed.has(alg)) throw new Error(`alg "${alg.slice(0, 20)}" is not allowed`)
      if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'token-introspection+jwt') {
        throw new Error(`typ ${JSON.stringify(header.typ)} is not "token-introspection+jwt"`)
      }
      signer(await verifySignature(rt, header, jwt, signedLength, signature))
      if (typeof payload.iss !== 'string' || !issuerMatches(cfg, payload.iss)) throw new Error(`iss ${JSON.stringify(payload.iss)} is not the issuer`)
      const aud = payload.aud
      if (!(aud === clientId || (Array.isArray(aud) && aud.includes(clientId)))) throw new Error(`aud ${JSON.stringify(aud)} is not the client id "${clientId}"`)
      const inner = payload.token_introspection
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw new Error('no "token_introspection" object')
      return inner as Record<string, unknown>
    } catch (error) {
      if (isAuthError(error) && error.status === 503) throw error
      const reason = isAuthError(error) ? error.reason : (error as Error).message
      throw unavailable(t, new FetchJsonError(`signed answer (RFC 9701) refused: ${reason}`, { kind: 'body', cause: error }))
    }
  }

  function unavailable(t: IntrospectionTarget, error: unknown): AuthError {
    if (isAuthError(error)) return error
    const message = (error as Error)?.message ?? String(error)
    const cause = error instanceof FetchJsonError ? error.causeKey : message
    warn(`introspection\u0000${t.where}\u0000${cause}`, `bearer-guard: token introspection for ${t.where} failed: ${message}; requests with opaque tokens answer 503`)
    return new KeySourceUnavailableError({
      description: 'token introspection unavailable, retry later',
      reason: `introspection failed: ${message}`,
      retryAfter: RETRY_AFTER,
      cause: error,
    })
  }
}

/**
 * Checks an active answer like a JWT's claims and builds the context: its `header` is empty, its
 * `confirmation` the answer's `cnf`.
 */
export function checkIntrospected(token: string, claims: JWTPayload, cfg: NormalizedIssuer): Verified {
  const tokenType = claims.token_type
  // RFC 7662 §2.2: the OAuth token type; a refresh token (or anything else) is no access token
  if (tokenType !== undefined && (typeof tokenType !== 'string' || !/^(bearer|dpop|n_a)$/i.test(tokenType))) {
    throw invalid(`introspection: token_type ${JSON.stringify(tokenType).slice(0, 40)} is not an access token type (Bearer, DPoP)`, 'token_type')
  }
  const verified = checkClaims(token, NO_HEADER, claims, cfg, VOUCHED)
  const confirmation = confirmationOf(claims.cnf)
  if (confirmation === undefined) return verified
  return { ...verified, ctx: Object.freeze({ ...verified.ctx, confirmation }) }
}

/** `cnf.jkt` and `cnf["x5t#S256"]` (RFC 7800, RFC 9449, RFC 8705), frozen; `undefined` when neither. */
export function confirmationOf(cnf: unknown): AuthContext['confirmation'] {
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return undefined
  const c = cnf as Record<string, unknown>
  const out: { jkt?: string; 'x5t#S256'?: string } = {}
  if (typeof c.jkt === 'string') out.jkt = c.jkt
  if (typeof c['x5t#S256'] === 'string') out['x5t#S256'] = c['x5t#S256']
  return out.jkt === undefined && out['x5t#S256'] === undefined ? undefined : Object.freeze(out)
}

/** What a traced call learnt (only built when someone listens). */
interface Seen {
  active: boolean | undefined
  retried: boolean
}

/** Ends a traced call that did not verify: `failed` (503: no usable answer), else what the server said. */
function endRefused(trace: IntrospectMessage, seen: Seen, error: unknown): void {
  if (isAuthError(error) && error.status === 503) {
    const cause = error.cause instanceof FetchJsonError ? error.cause.causeKey : 'unavailable'
    introspectEnd(trace, { outcome: 'failed', cause, reason: error.reason, retried: seen.retried, error })
  } else {
    // the server answered: inactive, or active but refused by the claim checks (the verify channel has why)
    introspectEnd(trace, { outcome: seen.active === true ? 'active' : 'inactive', cached: false, retried: seen.retried })
  }
}

/** Slots of the front table: a power of two. */
const FRONT_SIZE = 4096

function createTarget(rt: IssuerRuntime, cacheMax: number | false): IntrospectionTarget {
  const cfg = rt.cfg.introspection as NormalizedIntrospection
  const issuer = Array.isArray(rt.cfg.issuers) && typeof rt.cfg.issuers[0] === 'string' ? rt.cfg.issuers[0] : undefined
  const front = new Array<Entry | undefined>(FRONT_SIZE)
  const dispose = (entry: Entry) => {
    // an entry the LRU lets go of leaves the front too
    if (entry.verified && front[frontSlot(entry.verified.token)] === entry) front[frontSlot(entry.verified.token)] = undefined
  }
  return {
    rt,
    cfg,
    introspect: createIntrospectionClient(cfg, issuer),
    cache: cacheMax === false || cfg.cacheMaxAge === 0 ? undefined : new LRUCache<string, Entry>({ max: cacheMax, dispose }),
    front,
    pending: new Map(),
    issuer,
    where: cfg.endpoint?.href ?? `${issuer ?? 'the issuer'} (discovered endpoint)`,
  }
}

function issuerMatches(cfg: NormalizedIssuer, iss: string): boolean {
  const issuers = cfg.issuers
  if (issuers === false) return true
  if (typeof issuers === 'function') return issuers(iss, {}) === true
  return issuers.includes(iss)
}

/** The front slot of a token: a 32-bit FNV-1a of its last characters (never a cache key on its own). */
function frontSlot(token: string): number {
  let h = 0x811c9dc5
  for (let i = Math.max(0, token.length - 24); i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193)
  return (h >>> 0) & (FRONT_SIZE - 1)
}

/** Exactly three dot-separated parts: the compact JWS form, verified locally under `use: 'opaque'`. */
function isCompactJws(token: string): boolean {
  const d1 = token.indexOf('.')
  if (d1 === -1) return false
  const d2 = token.indexOf('.', d1 + 1)
  return d2 !== -1 && token.indexOf('.', d2 + 1) === -1
}

/** The cache key of a token: its SHA-256, base64url (synchronous where node:crypto is). */
export function tokenKey(token: string): MaybePromise<string> {
  const nc = nodeCrypto()
  if (nc) return nc.createHash('sha256').update(token).digest('base64url')
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)).then(toBase64url)
}

function toBase64url(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer)
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The context of a verified entry (for `chain`). */
function passOn(_done: void, verified: Verified): Verified {
  return verified
}
