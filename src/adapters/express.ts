/**
 * Express 5 (and 4) middleware: subpath export `bearer-guard/express`.
 *
 * @module bearer-guard/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import {
  authenticateRequest,
  guardFailureOptions,
  nodeAuthorization,
  recordAuthOptions,
  resolveFailure,
  toVerifier,
  type AdapterOptions,
  type GuardOptions,
} from '../core/adapter.js'
import {
  claimsGuard,
  roleGuard,
  scopeGuard,
  type ClaimRequirement,
  type Guard,
} from '../core/guards.js'
import type { AuthContext, RegisteredClaims, Verifier, VerifierOptions } from '../core/types.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `requireAuth`; `undefined` before it ran, or with `optional` and no token. */
      auth?: AuthContext
    }
  }
}

type Ctx = [req: Request, res: Response]
/**
 * `onError` replaces the default answer when it sends a response or returns a truthy value
 * (meaning: it has answered, or will); it may throw to hand the error to the error middleware.
 */
export type ExpressAuthOptions = AdapterOptions<Ctx, unknown>
/** Options of `requireRole`/`requireScopes`/`requireClaims`: `any`, `realm`, `onError`, `onFailure`. */
export type ExpressGuardOptions = GuardOptions<Ctx, unknown>

/**
 * Verifies the bearer token and sets `req.auth`; answers failures per RFC 6750.
 *
 * @example Protect every route below; share one verifier (one JWKS cache).
 * ```ts
 * import { requireAuth } from 'bearer-guard/express'
 * app.use(requireAuth({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }))
 * app.get('/me', (req, res) => res.json({ sub: req.auth?.subject }))
 * ```
 * @param verifier A `Verifier`, or verifier options (validated now).
 * @param options `optional`, `realm`, `onError(error, req, res)`, `onFailure(error, req, res)`.
 */
export function requireAuth(
  verifier: Verifier<any> | VerifierOptions,
  options: ExpressAuthOptions = {},
): RequestHandler {
  const v = toVerifier<RegisteredClaims>(verifier)
  return async function bearerGuardAuth(req, res, next) {
    recordAuthOptions(req, options)
    try {
      req.auth = await authenticateRequest(v, nodeAuthorization(req), options.optional)
    } catch (error) {
      return fail(error, options, req, res, next)
    }
    next()
  }
}

/**
 * 401 without a prior `requireAuth`, 403 `insufficient_scope` unless `req.auth` has the role(s).
 *
 * @example All of the roles by default; `{ any: true }` for one of them.
 * ```ts
 * import { requireAuth, requireRole } from 'bearer-guard/express'
 * app.get('/admin', requireAuth(verifier), requireRole(['admin', 'ops'], { any: true }), handler)
 * ```
 */
export function requireRole(roles: string | readonly string[], options: ExpressGuardOptions = {}) {
  return check(roleGuard(roles, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless `req.auth` has the scope(s).
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/express'
 * app.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export function requireScopes(
  scopes: string | readonly string[],
  options: ExpressGuardOptions = {},
) {
  return check(scopeGuard(scopes, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/express'
 * app.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export function requireClaims(
  requirement: ClaimRequirement<RegisteredClaims>,
  options: Omit<ExpressGuardOptions, 'any'> = {},
) {
  return check(claimsGuard(requirement), options)
}

function check(guard: Guard, options: ExpressGuardOptions): RequestHandler {
  return async function bearerGuardCheck(req, res, next) {
    try {
      guard(req.auth)
    } catch (error) {
      return fail(error, guardFailureOptions(req, options), req, res, next)
    }
    next()
  }
}

async function fail(
  error: unknown,
  options: ExpressGuardOptions,
  req: Request,
  res: Response,
  next: NextFunction,
) {
  const answered = (r: unknown) => !!r || res.headersSent
  try {
    const out = await resolveFailure(error, { ...options, answered }, req, res)
    if ('response' in out && !res.headersSent) {
      res
        .status(out.response.status)
        .set(out.response.headers)
        .send(JSON.stringify(out.response.body))
    }
  } catch (err) {
    next(err)
  }
}
