/**
 * Stage 5, the claims of a payload whose signature is verified (or, later, that an introspection
 * endpoint vouched for): times, `iss`, `aud`, the subject, required claims, a token-type claim and
 * the zod schema. Its answer is the `Verified` token: the frozen `AuthContext` and what a cache hit
 * re-checks.
 *
 * @module bearer-guard
 */
import { readClaim, readList } from '../claim-path.js'
import type { KeyState } from '../keys/verify-key.js'
import type { NormalizedIssuer } from '../options.js'
import type { AuthContext, JWSHeaderParameters, JWTPayload } from '../types.js'
import { deepFreeze, FrozenDate } from './freeze.js'
import { invalid, quote, quoteAll } from './reasons.js'
import { checkTimeClaims, nowSeconds } from './times.js'

/** A verified token: what the verifier answers, and what its cache keeps. */
export interface Verified {
  readonly token: string
  readonly ctx: AuthContext<unknown>
  /** The raw payload: revocation reads its `jti` even when a schema transformed the claims. */
  readonly payload: JWTPayload
  readonly cfg: NormalizedIssuer
  readonly exp: number
  readonly iat: number | undefined
  /** What verified it: once retired (a JWKS refetch dropped the key), the cache does not serve it. */
  readonly key: KeyState
  /** Epoch ms after which the cache does not serve it (set when cached). */
  until: number
}

/** Checks the claims and builds the frozen context. Throws `InvalidTokenError` (or `TokenExpiredError`). */
export function checkClaims(token: string, header: JWSHeaderParameters, payload: JWTPayload, cfg: NormalizedIssuer, key: KeyState): Verified {
  checkTimeClaims(cfg, payload, nowSeconds())
  checkIssuer(cfg, payload)
  const audience = checkAudience(cfg, payload)
  const subject = readSubject(cfg, payload)
  for (const path of cfg.requiredClaims) {
    if (readClaim(payload, path) === undefined) throw invalid(`required claim "${path}" missing`, path)
  }
  if (cfg.tokenType?.kind === 'claim') {
    const actual = readClaim(payload, cfg.tokenType.path)
    if (!hasSame(cfg.tokenType.values, actual)) {
      throw invalid(`token type claim "${cfg.tokenType.path}" is ${actual === undefined ? 'missing' : quote(actual, 40)}, expected ${quoteAll(cfg.tokenType.values)}`, cfg.tokenType.path)
    }
  }
  const claims = cfg.claims ? parseClaims(cfg.claims, payload) : payload
  const exp = payload.exp as number
  const iat = payload.iat
  const ctx: AuthContext<unknown> = {
    token,
    header,
    claims: deepFreeze(claims),
    subject,
    issuer: typeof payload.iss === 'string' ? payload.iss : undefined,
    audience: Object.freeze(audience) as string[],
    scopes: Object.freeze(readList(payload, cfg.scopesClaim)) as string[],
    roles: Object.freeze(readList(payload, cfg.rolesClaim)) as string[],
    expiresAt: new FrozenDate(exp * 1000),
    scheme: 'Bearer',
  }
  const confirmation = confirmationOf(payload)
  if (confirmation !== undefined) ctx.confirmation = confirmation
  if (iat !== undefined) ctx.issuedAt = new FrozenDate(iat * 1000)
  return { token, ctx: Object.freeze(ctx), payload, cfg, exp, iat, key, until: 0 }
}

/**
 * The copy of a verified token that a cache keeps (the token cache, introspection's): the same
 * values, in objects allocated here rather than by `checkClaims`. V8 chooses per allocation site
 * whether new objects start in the young or the old generation ("pretenuring"), from the share of
 * them that survive. Were a cache to keep `checkClaims`' own objects, a server that caches its
 * users' tokens would teach V8 that the context's sites make long-lived objects, and from then on
 * every never-seen token's context would be allocated in the old generation to die there: each
 * young collection then scans them and keeps what they point to. Measured (issue 20; Fastify,
 * RS256, never-seen tokens after 1,000 cached ones): scavenges of 6–10 ms moving ~2.5 KB per
 * request to the old generation, against 1.2–2 ms and nothing with `cache: false`. With the copy,
 * the sites of `checkClaims` only ever see objects that die with their request; the copies' sites,
 * long-lived ones. A schema's output (`claims`) is kept as it is.
 */
export function retain(verified: Verified): Verified {
  const c = verified.ctx
  const ctx: AuthContext<unknown> = {
    token: c.token,
    header: c.header,
    claims: c.claims,
    subject: c.subject,
    issuer: c.issuer,
    audience: Object.freeze(c.audience.slice()) as string[],
    scopes: Object.freeze(c.scopes.slice()) as string[],
    roles: Object.freeze(c.roles.slice()) as string[],
    expiresAt: new FrozenDate(c.expiresAt.getTime()),
    scheme: c.scheme,
  }
  if (c.confirmation !== undefined) ctx.confirmation = Object.freeze({ ...c.confirmation })
  if (c.issuedAt !== undefined) ctx.issuedAt = new FrozenDate(c.issuedAt.getTime())
  return { token: verified.token, ctx: Object.freeze(ctx), payload: verified.payload, cfg: verified.cfg, exp: verified.exp, iat: verified.iat, key: verified.key, until: verified.until }
}

/** `cnf`'s `jkt` and `x5t#S256` (RFC 9449 §6, RFC 8705 §3) when it has them, frozen. */
function confirmationOf(payload: JWTPayload): AuthContext['confirmation'] {
  const cnf = payload.cnf as Record<string, unknown> | undefined
  if (typeof cnf !== 'object' || cnf === null) return undefined
  const out: { jkt?: string; 'x5t#S256'?: string } = {}
  if (typeof cnf.jkt === 'string') out.jkt = cnf.jkt
  if (typeof cnf['x5t#S256'] === 'string') out['x5t#S256'] = cnf['x5t#S256']
  return out.jkt === undefined && out['x5t#S256'] === undefined ? undefined : Object.freeze(out)
}

function checkIssuer(cfg: NormalizedIssuer, payload: JWTPayload): void {
  if (cfg.issuers === false) return
  if (typeof payload.iss !== 'string') throw invalid('iss missing', 'iss')
  if (typeof cfg.issuers === 'function') {
    if (cfg.issuers(payload.iss, payload) !== true) throw invalid(`iss "${payload.iss.slice(0, 200)}" rejected by the issuer function`, 'iss')
  } else if (!cfg.issuers.includes(payload.iss)) {
    throw invalid(`iss mismatch: got ${quote(payload.iss, 200)}, expected ${quoteAll(cfg.issuers)}`, 'iss')
  }
}

/** `aud` as an array (empty when absent), checked against the accepted audiences. */
function checkAudience(cfg: NormalizedIssuer, payload: JWTPayload): string[] {
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
    if (!intersects(audience, cfg.audience)) {
      throw invalid(`aud mismatch: got ${JSON.stringify(audience).slice(0, 200)}, expected ${quoteAll(cfg.audience)}`, 'aud')
    }
  }
  return audience
}

function readSubject(cfg: NormalizedIssuer, payload: JWTPayload): string | undefined {
  const path = cfg.subjectClaim === false ? 'sub' : cfg.subjectClaim
  const raw = readClaim(payload, path)
  if (typeof raw === 'string' && raw !== '') return raw
  // beyond 2^53, JSON.parse rounds: two users' numeric ids would give one subject
  if (typeof raw === 'number' && Math.abs(raw) <= Number.MAX_SAFE_INTEGER) return String(raw)
  if (cfg.subjectClaim === false) return undefined
  throw invalid(
    raw === undefined
      ? `subject claim "${path}" missing`
      : typeof raw === 'number'
        ? `subject claim "${path}" is a number beyond 2^53 (not exact: send it as a string)`
        : `subject claim "${path}" is not a string or number`,
    path,
  )
}

function parseClaims(schema: NonNullable<NormalizedIssuer['claims']>, payload: JWTPayload): unknown {
  const parsed = schema.safeParse(payload)
  if (parsed.success) return parsed.data
  const first = parsed.error.issues[0]
  throw invalid(`claims schema: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`, first?.path.join('.'))
}

function intersects(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (b.includes(a[i] as string)) return true
  return false
}

/** Whether `values` has one that is `Object.is` to `actual`. */
function hasSame(values: readonly unknown[], actual: unknown): boolean {
  for (let i = 0; i < values.length; i++) if (Object.is(values[i], actual)) return true
  return false
}
