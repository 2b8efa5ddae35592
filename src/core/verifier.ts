/**
 * `createVerifier`: the verification pipeline. Each stage is a file of engine/ that takes plain data
 * and returns data or throws an `AuthError`; this file wires them, cheapest and most
 * hostile-input-safe first:
 *
 *   size → token cache → JWS (compact form, header rules) → issuer (routing by `iss`, `alg`/`typ`)
 *   → keys and signature → claims and context → revocation → token cache
 *   → sender (engine/sender.ts: the scheme, the token's binding, the DPoP proof or client certificate)
 *
 * With `introspection`, a token the issuer must vouch for (opaque, or every one with `use: 'always'`)
 * takes engine/introspected.ts instead, right after the size check.
 *
 * A cache hit re-checks the clock and the revocation store; the sender stage runs on every request,
 * cached token or not. See docs/architecture.md and docs/dpop.md.
 *
 * @module bearer-guard
 */
import type { ZodType, output } from 'zod'
import { checkClaims, retain, type Verified } from './engine/claims.js'
import { createIntrospection } from './engine/introspected.js'
import { createIssuerRuntime, createRouter, checkHeader, type IssuerRuntime } from './engine/issuer.js'
import { checkTokenSize, JwsReader } from './engine/jws.js'
import { chain, isPromiseLike, type MaybePromise } from './engine/maybe-promise.js'
import { asAuthError, invalid } from './engine/reasons.js'
import { checkRevocation } from './engine/revocation-check.js'
import { createSenderStage } from './engine/sender.js'
import { isRejected, signer, verifySignature, type Rejected } from './engine/signature.js'
import { checkLifetime, nowSeconds } from './engine/times.js'
import { RejectionCache, TokenCache, tokenHash, type Rejection } from './engine/token-cache.js'
import { createVerifyProbe, traceAuthenticate, traceRequest, traceVerify } from './diagnostics.js'
import type { NormalizedIssuer } from './options.js'
import type { AuthRequest } from './request.js'
import { normalizeOptions } from './options.js'
import { VERIFIER_BRAND, type Algorithm, type AuthContext, type JWSHeaderParameters, type JWTPayload, type RegisteredClaims, type Verifier, type VerifierOptions } from './types.js'
import type { KeySource } from './keys/select.js'
import type { VerifyKey } from './keys/verify-key.js'
import { createWarn } from './warnings.js'

/**
 * The claims type a verifier yields: the zod schema's output, else the registered claims — also for
 * options typed as the wide `VerifierOptions` (no particular schema: `S` is inferred as `ZodType`).
 */
export type ClaimsOf<S> = [S] extends [ZodType] ? (ZodType extends S ? RegisteredClaims : output<S>) : RegisteredClaims

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
  const runtimes = normalized.entries.map((cfg) => createIssuerRuntime(cfg, warn, normalized.threadpool))
  const route = createRouter(runtimes, normalized.multi)
  const jws = new JwsReader()
  const cache = normalized.cache ? new TokenCache<Verified>(normalized.cache.max, retain) : undefined
  // bad signatures, remembered while the same keys would fail them again (`cache: false` turns it off too)
  const rejections = normalized.cache ? new RejectionCache<KeySource>() : undefined
  const maxLength = normalized.maxTokenLength
  const introspection = createIntrospection(runtimes, normalized.multi, normalized.cache && normalized.cache.max, warn)
  // diagnostics.ts reads whether the cache answered, right after the synchronous lookup
  const probe = createVerifyProbe(normalized.entries)

  /** A token the cache does not hold: synchronous when keys are warm and crypto is node:crypto. */
  function verifyFresh(token: string): MaybePromise<Verified> {
    const parts = jws.read(token) // refilled by the next token: read now
    const header = parts.header
    const payload = parts.payload
    const signature = parts.signature
    const signedLength = parts.signedLength
    const rt = route(payload)
    // static keys still importing: the allowlist derived from them is not known yet
    if (rt.ready) return chain(rt.ready, verifyWhenReady, token)
    checkHeader(rt, header)
    return chain(verifySignature(rt, header, token, signedLength, signature), signed, token, rt, header, payload)
  }

  /** `afterSignature`, remembering a bad signature that is the token's own (see `RejectionCache`). */
  function signed(result: VerifyKey | boolean | Rejected, token: string, rt: IssuerRuntime, header: JWSHeaderParameters, payload: JWTPayload): MaybePromise<Verified> {
    if (rejections !== undefined && isRejected(result) && rt.keys !== undefined) {
      const kid = header.kid
      // a kid no key carries fell back to the keys without kid: a refetch may bring its key, not remembered
      if (kid === undefined || result.rejected.every((key) => key.kid === kid)) {
        rejections.remember(token, rt.keys, kid, header.alg as string, result.rejected)
      }
    }
    return afterSignature(result, token, rt, header, payload)
  }

  /** A remembered bad signature: refused again while its key source selects the same keys, else verified afresh. */
  function rejectedAgain(keys: readonly VerifyKey[], token: string, rejection: Rejection<KeySource>): MaybePromise<Verified> {
    const was = rejection.keys
    if (keys.length === was.length && keys.every((key, i) => key === was[i])) throw invalid('signature verification failed')
    ;(rejections as RejectionCache<KeySource>).forget(token)
    return chain(verifyFresh(token), admit)
  }

  function verifyWhenReady(_ready: void, token: string): MaybePromise<Verified> {
    return verifyFresh(token)
  }

  /**
   * A token's verified entry: the cached one (the clock and revocation checked again), or a fresh
   * verification. The cache holds the token's answer only: a proof of possession (DPoP, the client
   * certificate) is checked per request by the sender stage, after this.
   */
  function verifyEntry(token: string): MaybePromise<Verified> {
    checkTokenSize(token, maxLength)
    const introspected = introspection?.route(token)
    if (introspected !== undefined) return (introspection as NonNullable<typeof introspection>).verify(token, introspected)
    if (cache === undefined) {
      probe.hit = false
      return verifyFresh(token)
    }
    // hashed once for the three tables a never-seen token meets (cache, rejections, admission)
    const hash = tokenHash(token)
    const hit = cache.get(token, hash)
    probe.hit = hit !== undefined
    if (hit !== undefined) {
      checkLifetime(hit.cfg, hit.exp, hit.iat, nowSeconds())
      return chain(checkRevocation(hit.cfg.revocation, hit.payload), passOn, hit)
    }
    const rejection = (rejections as RejectionCache<KeySource>).get(token, hash)
    // the key source is asked as for a fresh token: a stale key set is refetched, an outage answers 503
    if (rejection !== undefined) return chain(rejection.source.select(rejection.kid, rejection.alg as Algorithm), rejectedAgain, token, rejection)
    return chain(verifyFresh(token), admit, hash)
  }

  /** Offers a fresh verification to the cache (there is one); `hash` is `tokenHash` of its token. */
  function admit(verified: Verified, hash: number | undefined): Verified {
    // an entry never outlives its token, nor the key source's freshness window; once cached, the
    // cache's copy is the answer (the first request and the hits share one context)
    return (cache as TokenCache<Verified>).admit(verified.token, verified, (verified.exp + verified.cfg.clockTolerance) * 1000, verified.cfg.jwks.cacheMaxAge * 1000, hash)
  }

  const sender = createSenderStage(normalized.dpop, normalized.mtls, verifyEntry, cache, introspection === undefined, normalized.threadpool)

  /** Runs a stage; answers with a promise that rejects only with an `AuthError`. */
  function settle(run: () => MaybePromise<AuthContext<unknown>>): Promise<AuthContext<ClaimsOf<S>>> {
    let answer: MaybePromise<AuthContext<unknown>>
    try {
      answer = run()
    } catch (error) {
      return Promise.reject(asAuthError(error))
    }
    return (isPromiseLike(answer) ? answer.then(undefined, rethrowAsAuthError) : Promise.resolve(answer)) as Promise<AuthContext<ClaimsOf<S>>>
  }

  const verifier: Verifier<ClaimsOf<S>> = {
    // published on the bearer-guard:verify channel when someone subscribes (straight through otherwise)
    verifyAccessToken: traceVerify((token: string) => settle(() => sender.bearer(token)), probe),
    authenticate: traceAuthenticate((authorization) => settle(() => sender.authenticate({ method: 'GET', url: '', headers: { authorization, dpop: undefined } })), probe),
    authenticateRequest: traceRequest((request: AuthRequest) => settle(() => sender.authenticate(request)), probe),
    async warmUp() {
      await Promise.all(runtimes.map((rt) => rt.warmUp()))
    },
    [VERIFIER_BRAND]: true,
  }
  if (normalized.resource !== undefined) Object.assign(verifier, { resource: normalized.resource })
  return Object.freeze(verifier)
}

/** After the signature: the claims and the context, then the revocation store. */
function afterSignature(signed: VerifyKey | boolean | Rejected, token: string, rt: IssuerRuntime, header: JWSHeaderParameters, payload: JWTPayload): MaybePromise<Verified> {
  const cfg: NormalizedIssuer = rt.cfg
  const verified = checkClaims(token, header, payload, cfg, signer(signed))
  // revocation reads the raw payload's jti even when a schema transformed the claims
  return chain(checkRevocation(cfg.revocation, payload), passOn, verified)
}

function rethrowAsAuthError(error: unknown): never {
  throw asAuthError(error)
}

function passOn<T>(_done: void, value: T): T {
  return value
}

/** True for a verifier made by `createVerifier` (also from another copy of the package). */
export function isVerifier(value: unknown): value is Verifier<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VERIFIER_BRAND] === true
}
