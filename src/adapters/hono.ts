/**
 * Hono 4 middleware, for Node and edge runtimes alike: subpath export `bearer-guard/hono`.
 *
 * @module bearer-guard/hono
 */
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  authenticateRequest,
  guardFailureOptions,
  recordAuthOptions,
  resolveWebFailure,
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

/** Context variables set by `requireAuth`: `c.get('auth')` / `c.var.auth`. */
export type AuthVariables<C = RegisteredClaims> = { auth: AuthContext<C> }
/** The variables of `requireAuth(…, { optional })`: `auth` may be `undefined`. */
export type OptionalAuthVariables<C = RegisteredClaims> = { auth: AuthContext<C> | undefined }

type Ctx = [c: Context]
type Answer = Response | undefined | void
/** Options of `requireAuth`. `onError` may return a `Response`, which replaces the default answer. */
export type HonoAuthOptions = AdapterOptions<Ctx, Answer | Promise<Answer>>
/** Options of `requireRole`/`requireScopes`/`requireClaims`: `any`, `realm`, `onError`, `onFailure`. */
export type HonoGuardOptions = GuardOptions<Ctx, Answer | Promise<Answer>>

/**
 * Verifies the bearer token and sets `c.var.auth`. A failure throws an `HTTPException` whose
 * `getResponse()` is the RFC 6750 answer (`cause`: the `AuthError`), unless `onError` returns a `Response`.
 *
 * @example Protect `/api/*`; chained calls keep `c.var.auth` typed.
 * ```ts
 * import { Hono } from 'hono'
 * import { requireAuth } from 'bearer-guard/hono'
 * const app = new Hono().use('/api/*', requireAuth({ issuer: 'https://auth.example.com/', audience: 'api' }))
 * app.get('/api/me', (c) => c.json({ sub: c.var.auth.subject }))
 * ```
 * @param verifier A `Verifier<C>` (types `c.var.auth.claims`), or verifier options.
 * @param options `optional`, `realm`, `onError(error, c)`, `onFailure(error, c)`.
 */
export function requireAuth<C = RegisteredClaims>(
  verifier: Verifier<C> | VerifierOptions,
  options?: HonoAuthOptions & { optional?: false },
): MiddlewareHandler<{ Variables: AuthVariables<C> }>
export function requireAuth<C = RegisteredClaims>(
  verifier: Verifier<C> | VerifierOptions,
  options: HonoAuthOptions,
): MiddlewareHandler<{ Variables: OptionalAuthVariables<C> }>
export function requireAuth<C>(
  verifier: Verifier<C> | VerifierOptions,
  options: HonoAuthOptions = {},
): MiddlewareHandler<any> {
  const v = toVerifier<C>(verifier)
  return createMiddleware<{ Variables: OptionalAuthVariables<C> }>(
    async function bearerGuardAuth(c, next) {
      recordAuthOptions(c, options)
      let auth: AuthContext<C> | undefined
      try {
        auth = await authenticateRequest(
          v,
          c.req.raw.headers.get('authorization'),
          options.optional,
        )
      } catch (error) {
        return fail(error, options, c)
      }
      c.set('auth', auth)
      await next()
    },
  )
}

/**
 * 401 without a prior `requireAuth`, 403 `insufficient_scope` unless the role(s) are present.
 *
 * @example Admins only.
 * ```ts
 * import { requireAuth, requireRole } from 'bearer-guard/hono'
 * app.get('/admin', requireAuth(verifier), requireRole('admin'), (c) => c.text('hi'))
 * ```
 */
export function requireRole(roles: string | readonly string[], options: HonoGuardOptions = {}) {
  return check(roleGuard(roles, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/hono'
 * app.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export function requireScopes(scopes: string | readonly string[], options: HonoGuardOptions = {}) {
  return check(scopeGuard(scopes, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/hono'
 * app.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export function requireClaims(
  requirement: ClaimRequirement,
  options: Omit<HonoGuardOptions, 'any'> = {},
) {
  return check(claimsGuard(requirement), options)
}

function check(guard: Guard, options: HonoGuardOptions) {
  // `auth?: unknown` merges with the `requireAuth` variables without widening them
  return createMiddleware<{ Variables: { auth?: unknown } }>(
    async function bearerGuardCheck(c, next) {
      try {
        guard(c.get('auth') as AuthContext<unknown> | undefined)
      } catch (error) {
        return fail(error, guardFailureOptions(c, options), c)
      }
      await next()
    },
  )
}

async function fail(error: unknown, options: HonoGuardOptions, c: Context): Promise<Response> {
  const { response, custom } = await resolveWebFailure(error, options, c)
  if (custom) return response
  throw new HTTPException(response.status as ContentfulStatusCode, { res: response, cause: error })
}
