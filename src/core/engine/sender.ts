/**
 * The request stage (API-wave2 §1–3): which scheme the `Authorization` value uses, the token's
 * binding (`cnf`), and the proof of possession a bound token needs — the `DPoP` proof (dpop/) or the
 * client certificate (mtls.ts). The token itself goes through the pipeline (and its cache) first;
 * the proof is checked on every request, cached token or not.
 *
 *   Bearer: token → pipeline → not DPoP-bound → certificate (when bound to one)
 *   DPoP:   token, one proof → pipeline → bound by cnf.jkt → proof → certificate (when bound to one)
 *
 * Refusals of a `DPoP` request, and of every request in `'required'` mode, challenge with `DPoP`
 * (RFC 9449 §7.1), followed by a `Bearer` challenge while bearer tokens are accepted.
 *
 * @module bearer-guard
 */
import { InvalidTokenError, withChallenge, type AuthError, type Challenge } from '../errors.js'
import { extractBearer } from '../extract.js'
import { NonceIssuer } from '../dpop/nonce.js'
import { oneProof, ProofChecker } from '../dpop/proof.js'
import type { NormalizedDpop, NormalizedMtls } from '../options.js'
import type { AuthRequest, HeaderValue } from '../request.js'
import { createMemoryReplayStore } from '../stores/memory-replay.js'
import type { AuthContext, JWTPayload } from '../types.js'
import { bearerToken, deferredBearer, malformedFirst } from './bearer.js'
import type { Verified } from './claims.js'
import { chain, isPromiseLike, type MaybePromise } from './maybe-promise.js'
import { checkCertificate } from './mtls.js'
import { asAuthError, invalid } from './reasons.js'
import { nowSeconds } from './times.js'

/** A token through the pipeline: the verified entry (fresh or from the cache). */
export type VerifyEntry = (token: string) => MaybePromise<Verified>

/** The request-level entry of one verifier. */
export interface SenderStage {
  /** A request: its scheme, token, binding and proof. */
  authenticate(request: AuthRequest): MaybePromise<AuthContext<unknown>>
  /** A token presented as a bearer token (`verifyAccessToken`): refused when bound to a key or certificate. */
  bearer(token: string): MaybePromise<AuthContext<unknown>>
}

/** A request's binding as `cnf` names it, or why `cnf` cannot be honoured. */
function confirmationOf(payload: JWTPayload): { jkt?: string; x5t?: string } | undefined {
  const cnf = payload.cnf
  if (cnf === undefined) return undefined
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw invalid('cnf is not an object', 'cnf')
  const c = cnf as Record<string, unknown>
  const jkt = c.jkt
  const x5t = c['x5t#S256']
  if (jkt !== undefined && (typeof jkt !== 'string' || jkt === '')) throw invalid('cnf.jkt is not a string', 'cnf')
  if (x5t !== undefined && (typeof x5t !== 'string' || x5t === '')) throw invalid('cnf.x5t#S256 is not a string', 'cnf')
  // a binding bearer-guard cannot check (cnf.jwk, cnf.jku, cnf.kid): the token is not a bearer token either
  if (jkt === undefined && x5t === undefined) throw invalid(`cnf with no supported confirmation method (${Object.keys(c).slice(0, 5).join(', ') || 'empty'})`, 'cnf')
  return { jkt: jkt as string | undefined, x5t: x5t as string | undefined }
}

/** `DPoP <token>`: the scheme (case-insensitive, RFC 9110 §11.1), one b64token (RFC 9449 §7.1). */
function isDpopScheme(authorization: HeaderValue): boolean {
  const value = typeof authorization === 'string' ? authorization : Array.isArray(authorization) && authorization.length === 1 ? authorization[0] : undefined
  if (typeof value !== 'string') return false
  const start = value.length - value.trimStart().length
  return /^dpop[ \t]/i.test(value.slice(start, start + 5))
}

/** The token of `DPoP <token>`, with the extraction rules of `Bearer` (one b64token, OWS only). */
function dpopToken(authorization: HeaderValue): string {
  const value = (typeof authorization === 'string' ? authorization : (authorization as readonly string[])[0]) as string
  const start = value.length - value.trimStart().length
  return extractBearer(`Bearer${value.slice(start + 4)}`)
}

/**
 * Builds the request stage of a verifier. `deferSyntax`: a `Bearer` token's syntax may be left to the
 * JWS reader (see `deferredBearer`); not with introspection, which would send an unchecked token out.
 * `threadpool`: DPoP proofs' signatures on libuv's threadpool, as the tokens' (the `threadpool` option).
 */
export function createSenderStage(
  dpop: NormalizedDpop,
  mtls: NormalizedMtls,
  verify: VerifyEntry,
  cache: { peek(token: string): unknown } | undefined,
  deferSyntax: boolean,
  threadpool = false,
): SenderStage {
  const nonces = dpop && dpop.nonce ? new NonceIssuer(dpop.nonce.secrets, dpop.nonce.lifetime) : undefined
  const algs = dpop ? dpop.algorithms : undefined
  /** The challenge of a DPoP request's refusals (and of every refusal in `'required'` mode). */
  const dpopChallenge: Challenge | undefined = dpop ? Object.freeze({ primary: 'DPoP', algs, bearer: dpop.mode === 'allowed' }) : undefined
  const proofs = dpop ? new ProofChecker(dpop, dpop.replay ?? createMemoryReplayStore(), nonces, dpopChallenge as Challenge, threadpool) : undefined
  /** A bound token presented as a bearer token: the Bearer error, then where to go (`DPoP algs`). */
  const boundChallenge: Challenge = Object.freeze({ primary: 'Bearer', algs, bearer: false })
  const required = dpop !== false && dpop.mode === 'required'

  /** What a refusal of this request says in `WWW-Authenticate`. */
  function challenged(error: unknown, dpopRequest: boolean): AuthError {
    const e = asAuthError(error)
    if (e.challenge !== undefined || e.status === 503 || e.status === 403) return e
    return (dpopRequest || required) && dpopChallenge ? withChallenge(e, dpopChallenge) : e
  }

  /** Certificate-bound tokens, and `mtls.mode: 'required'`. */
  function checkMtls(x5t: string | undefined, request: AuthRequest | undefined): MaybePromise<void> {
    if (x5t === undefined) {
      if (mtls !== false && mtls.mode === 'required') throw invalid('token not bound to a client certificate (mtls mode "required")', 'cnf')
      return undefined
    }
    if (mtls === false) throw invalid('certificate-bound token (cnf.x5t#S256) while mtls is off', 'cnf')
    const cert = request === undefined ? undefined : mtls.certificate ? mtls.certificate(request) : request.certificate
    return checkCertificate(x5t, cert)
  }

  function afterBearer(verified: Verified, request: AuthRequest | undefined): MaybePromise<AuthContext<unknown>> {
    const cnf = verified.payload.cnf === undefined ? undefined : confirmationOf(verified.payload)
    if (cnf?.jkt !== undefined) {
      const error = new InvalidTokenError({ description: 'DPoP proof required', reason: 'DPoP-bound token (cnf.jkt) presented as a bearer token', claim: 'cnf' })
      throw algs ? withChallenge(error, boundChallenge) : error
    }
    const checked = checkMtls(cnf?.x5t, request)
    return checked === undefined ? verified.ctx : chain(checked, contextOf, verified)
  }

  function bearerRequest(request: AuthRequest | undefined, token: string): MaybePromise<AuthContext<unknown>> {
    if (required) throw invalid('bearer token while DPoP is required')
    return chain(verify(token), afterBearer, request)
  }

  function dpopRequest(request: AuthRequest): MaybePromise<AuthContext<unknown>> {
    const token = dpopToken(request.headers.authorization)
    const proof = oneProof(request.headers.dpop)
    return chain(verify(token), afterDpopToken, request, proof)
  }

  function afterDpopToken(verified: Verified, request: AuthRequest, proof: string): MaybePromise<AuthContext<unknown>> {
    const cnf = verified.payload.cnf === undefined ? undefined : confirmationOf(verified.payload)
    if (cnf?.jkt === undefined) throw invalid('DPoP scheme with a token not bound to a key (no cnf.jkt)', 'cnf')
    const target = { method: request.method, url: request.url, token: verified.token, jkt: cnf.jkt, tolerance: verified.cfg.clockTolerance }
    return chain(chain((proofs as ProofChecker).check(proof, target), afterProof, cnf.x5t, request), dpopContext, verified)
  }

  function afterProof(_checked: void, x5t: string | undefined, request: AuthRequest): MaybePromise<string | undefined> {
    return chain(checkMtls(x5t, request), freshNonce)
  }

  function freshNonce(_checked: void): MaybePromise<string | undefined> {
    return nonces?.current(nowSeconds())
  }

  function dpopContext(nonce: string | undefined, verified: Verified): AuthContext<unknown> {
    const ctx: AuthContext<unknown> = { ...verified.ctx, scheme: 'DPoP' }
    if (nonce !== undefined) {
      ctx.responseHeaders = Object.freeze({ 'DPoP-Nonce': nonce, 'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce' })
    }
    return Object.freeze(ctx)
  }

  function withChallenges<T>(run: () => MaybePromise<T>, dpopRequest: boolean): MaybePromise<T> {
    let answer: MaybePromise<T>
    try {
      answer = run()
    } catch (error) {
      throw challenged(error, dpopRequest)
    }
    if (!isPromiseLike(answer)) return answer
    return answer.then(undefined, (error: unknown) => {
      throw challenged(error, dpopRequest)
    })
  }

  /** A bearer request whose token's syntax is checked by the JWS reader: a refusal is `extractBearer`'s first. */
  function deferredRequest(request: AuthRequest, token: string): MaybePromise<AuthContext<unknown>> {
    let answer: MaybePromise<AuthContext<unknown>>
    try {
      answer = chain(verify(token), afterBearer, request)
    } catch (error) {
      throw malformedFirst(error, request.headers.authorization)
    }
    if (!isPromiseLike(answer)) return answer
    return answer.then(undefined, (error: unknown) => {
      throw malformedFirst(error, request.headers.authorization)
    })
  }

  return {
    authenticate(request) {
      const authorization = request.headers.authorization
      if (proofs !== undefined && isDpopScheme(authorization)) return withChallenges(() => dpopRequest(request), true)
      // a bearer request's refusals challenge as before (a bound token's sets its own), unless DPoP is required
      if (!required) {
        const token = deferSyntax ? deferredBearer(authorization) : undefined
        if (token !== undefined) return deferredRequest(request, token)
        return chain(verify(bearerToken(authorization, cache)), afterBearer, request)
      }
      return withChallenges(() => bearerRequest(request, bearerToken(authorization, cache)), false)
    },
    bearer(token) {
      if (!required) return chain(verify(token), afterBearer, undefined)
      return withChallenges(() => bearerRequest(undefined, token), false)
    },
  }
}

function contextOf(_checked: void, verified: Verified): AuthContext<unknown> {
  return verified.ctx
}
