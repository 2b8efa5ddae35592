/**
 * Koa 3 (and 2) middleware: subpath export `bearer-guard/koa`.
 *
 * @module bearer-guard/koa
 */
import type { DefaultState, Middleware, ParameterizedContext } from 'koa'
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

declare module 'koa' {
  interface DefaultState {
    /** Set by `requireAuth`; `undefined` before it ran, or with `optional` and no token. */
    auth?: AuthContext
  }
}

/** The state `requireAuth` adds, typed by the verifier's claims. */
export interface AuthState<C = RegisteredClaims> {
  auth?: AuthContext<C>
}

type Ctx = [ctx: ParameterizedContext<any, any, any>]
/** `onError` replaces the default answer when it sets `ctx.body` or returns a truthy value. */
export type KoaAuthOptions = AdapterOptions<Ctx, unknown>
/** Options of `requireRole`/`requireScopes`/`requireClaims`: `any`, `realm`, `onError`, `onFailure`. */
export type KoaGuardOptions = GuardOptions<Ctx, unknown>

/**
 * Verifies the bearer token and sets `ctx.state.auth`; answers failures per RFC 6750.
 *
 * @example Protect everything below; handlers read `ctx.state.auth`.
 * ```ts
 * import Koa from 'koa'
 * import { requireAuth } from 'bearer-guard/koa'
 * const app = new Koa().use(requireAuth({ issuer: 'https://auth.example.com/', audience: 'api' }))
 * app.use((ctx) => { ctx.body = { sub: ctx.state.auth?.subject } })
 * ```
 * @param verifier A `Verifier<C>` (types `ctx.state.auth.claims`), or verifier options.
 * @param options `optional`, `realm`, `onError(error, ctx)`, `onFailure(error, ctx)`.
 */
export function requireAuth<C = RegisteredClaims>(
  verifier: Verifier<C> | VerifierOptions,
  options: KoaAuthOptions = {},
): Middleware<DefaultState & AuthState<C>> {
  const v = toVerifier<C>(verifier)
  return async function bearerGuardAuth(ctx, next) {
    recordAuthOptions(ctx, options)
    try {
      const auth = await authenticateRequest(v, nodeAuthorization(ctx.req), options.optional)
      ctx.state.auth = auth as AuthState['auth'] & typeof auth
    } catch (error) {
      return fail(error, options, ctx)
    }
    await next()
  }
}

/**
 * 401 without a prior `requireAuth`, 403 `insufficient_scope` unless the role(s) are present.
 *
 * @example Admins only.
 * ```ts
 * import { requireRole } from 'bearer-guard/koa'
 * router.get('/admin', requireAuth(verifier), requireRole('admin'), handler)
 * ```
 */
export function requireRole(roles: string | readonly string[], options: KoaGuardOptions = {}) {
  return check(roleGuard(roles, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/koa'
 * router.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export function requireScopes(scopes: string | readonly string[], options: KoaGuardOptions = {}) {
  return check(scopeGuard(scopes, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/koa'
 * router.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export function requireClaims(
  requirement: ClaimRequirement,
  options: Omit<KoaGuardOptions, 'any'> = {},
) {
  return check(claimsGuard(requirement), options)
}

function check(guard: Guard, options: KoaGuardOptions): Middleware {
  return async function bearerGuardCheck(ctx, next) {
    try {
      guard(ctx.state.auth)
    } catch (error) {
      return fail(error, guardFailureOptions(ctx, options), ctx)
    }
    await next()
  }
}

async function fail(error: unknown, options: KoaGuardOptions, ctx: Ctx[0]): Promise<void> {
  const before = ctx.body
  const answered = (r: unknown) => !!r || ctx.body !== before
  const out = await resolveFailure(error, { ...options, answered }, ctx)
  if (!('response' in out)) return
  ctx.status = out.response.status
  ctx.set(out.response.headers)
  ctx.body = JSON.stringify(out.response.body)
}
