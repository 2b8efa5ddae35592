/**
 * Stage 2, the issuer: each configured issuer's runtime (its options, allowed algorithms and where
 * its keys come from), the routing of a token to one of them by its `iss` (before any key is
 * fetched), and what that issuer accepts in a header (`alg`, `typ`).
 *
 * @module bearer-guard
 */
import { createHmacVerifier, type HmacVerifier } from '../keys/hmac.js'
import { importStaticKeys } from '../keys/import.js'
import { staticKeySource, type KeySource } from '../keys/select.js'
import { algorithmsOf } from '../keys/verify-key.js'
import { normalizeTyp } from '../limits.js'
import type { NormalizedIssuer } from '../options.js'
import { discoverJwksUri } from '../sources/discovery.js'
import { createJwksCache } from '../sources/jwks-cache.js'
import { warnJwks } from '../sources/jwks-warnings.js'
import type { JWSHeaderParameters, JWTPayload } from '../types.js'
import type { Warn } from '../warnings.js'
import { invalid, quote, quoteAll } from './reasons.js'

/** One issuer, ready to verify. Every runtime has the same shape (one hidden class on the hot path). */
export interface IssuerRuntime {
  readonly cfg: NormalizedIssuer
  /** The `alg` allowlist (for static keys without `algorithms`: what the keys can verify). */
  allowed: ReadonlySet<string>
  /** Where the keys come from; `undefined` for a shared secret. */
  keys: KeySource | undefined
  /** The shared secret's MAC check; `undefined` for public keys. */
  hmac: HmacVerifier | undefined
  /** Pending while static keys are still being imported (a PEM without node:crypto). */
  ready: Promise<void> | undefined
  /** Asymmetric signatures on libuv's threadpool (the `threadpool` option; node:crypto only). */
  readonly threadpool: boolean
  warmUp(): Promise<void>
}

/** The runtime of one issuer's options; a JWKS cache's events go to `warn`. */
export function createIssuerRuntime(cfg: NormalizedIssuer, warn: Warn, threadpool = false): IssuerRuntime {
  const { source } = cfg
  const rt: IssuerRuntime = { cfg, allowed: new Set(cfg.algorithms), keys: undefined, hmac: undefined, ready: undefined, threadpool, warmUp: () => Promise.resolve() }
  if (source.type === 'secret') {
    rt.hmac = createHmacVerifier(source.secret)
  } else if (source.type === 'keys') {
    const skipped = (who: string, why: string) => warn(`keys\u0000${who}\u0000${why}`, `bearer-guard: option "keys": ${who} skipped: ${why}`)
    const imported = importStaticKeys(source.input, skipped)
    if (Array.isArray(imported)) {
      rt.allowed = new Set(cfg.algorithms ?? algorithmsOf(imported))
      rt.keys = staticKeySource(imported)
    } else {
      // PEM without node:crypto: imported asynchronously, once; tokens wait for it (see `ready`)
      const ready = imported.then((keys) => {
        rt.allowed = new Set(cfg.algorithms ?? algorithmsOf(keys))
        rt.keys = staticKeySource(keys)
        rt.ready = undefined
      })
      ready.catch(() => {})
      rt.ready = ready
      rt.warmUp = () => ready
    }
  } else {
    const where = source.type === 'jwks' ? source.uri.href : source.issuer
    const cache = createJwksCache(source.type === 'jwks' ? source.uri : (fetchOptions) => discoverJwksUri(source.issuer, fetchOptions), {
      timeoutMs: cfg.jwks.timeoutMs,
      maxBytes: cfg.jwks.maxBytes,
      headers: cfg.jwks.headers,
      fetch: cfg.jwks.fetch,
      cacheMaxAge: cfg.jwks.cacheMaxAge,
      cooldown: cfg.jwks.cooldown,
      staleMaxAge: cfg.jwks.staleMaxAge,
      onEvent: (event) => warnJwks(event, where, warn),
    })
    rt.keys = cache
    rt.warmUp = cache.warmUp
  }
  return rt
}

/**
 * The runtime for a token's payload: the one issuer, or with `issuers` the entry listing its `iss`
 * (an unknown `iss` is refused before any key is fetched).
 */
export function createRouter(runtimes: readonly IssuerRuntime[], multi: boolean): (payload: JWTPayload) => IssuerRuntime {
  if (!multi) {
    const only = runtimes[0] as IssuerRuntime
    return () => only
  }
  const byIssuer = new Map<string, IssuerRuntime>()
  for (const rt of runtimes) for (const iss of rt.cfg.issuers as readonly string[]) byIssuer.set(iss, rt)
  return (payload) => {
    const iss = payload.iss
    const found = typeof iss === 'string' ? byIssuer.get(iss) : undefined
    if (!found) throw invalid(typeof iss === 'string' ? `iss "${iss.slice(0, 200)}" is not a configured issuer` : 'iss missing: cannot select an issuer', 'iss')
    return found
  }
}

/** Refuses a header this issuer does not accept: an `alg` off its allowlist, a `typ` other than its token type. */
export function checkHeader(rt: IssuerRuntime, header: JWSHeaderParameters): void {
  const alg = header.alg as string
  if (!rt.allowed.has(alg)) throw invalid(`alg "${alg.slice(0, 20)}" is not allowed (allowed: ${[...rt.allowed].join(', ')})`)
  const tokenType = rt.cfg.tokenType
  if (tokenType?.kind !== 'header') return
  const raw = header.typ
  // a typ written as configured (lowercase, no `application/`) is its own normal form: the common
  // case skips `toLowerCase` (~700 instructions per token, issue 20)
  if (typeof raw === 'string' && tokenType.values.includes(raw) && !raw.startsWith('application/')) return
  const typ = typeof raw === 'string' ? normalizeTyp(raw) : undefined
  if (typ === undefined || !tokenType.values.includes(typ)) {
    const expected = quoteAll(tokenType.values)
    throw invalid(header.typ === undefined ? `typ missing, expected ${expected}` : `typ ${quote(header.typ, 40)} is not ${expected}`, 'typ')
  }
}
