/**
 * Koa 3 (and 2) middleware: subpath export `bearer-guard/koa`.
 *
 * @module bearer-guard/koa
 */
import type { DefaultState, Middleware, ParameterizedContext } from 'koa'
import { admitRequest, checkAuthOptions, guardFailureOptions, guardMiddleware, refuse, runGuard, addSuccessHeaders, toVerifier } from '../core/adapter.js'
import type { AdapterOptions, Framework, GuardOptions } from '../core/adapter.js'
import type { Guard } from '../core/guards.js'
import { nodeRequest, type AuthRequest } from '../core/request.js'
import { protectedResourceHandler, type ProtectedResourceOptions } from '../core/resource-metadata.js'
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
  checkAuthOptions(options)
  return async function bearerGuardAuth(ctx, next) {
    try {
      ctx.state.auth = (await admitRequest(v, requestOf(ctx), options, ctx)) as AuthContext & AuthContext<C>
    } catch (error) {
      return refuse(koa, error, guardFailureOptions(ctx, options), ctx)
    }
    addSuccessHeaders(ctx.state.auth, ctx, getHeader, setHeader)
    await next()
  }
}

/**
 * The request as the core reads it: method, headers, the certificate of a TLS socket, and the
 * absolute URL from `ctx.protocol` and `ctx.host`, which honour `X-Forwarded-Proto` and
 * `X-Forwarded-Host` only with `app.proxy = true` (docs/adapters/proxies.md).
 *
 * @example What `requireAuth` hands the verifier, in a handler.
 * ```ts
 * import { requestOf } from 'bearer-guard/koa'
 * app.use((ctx) => { ctx.body = { url: requestOf(ctx).url } })
 * ```
 */
export function requestOf(ctx: Ctx[0]): AuthRequest {
  return nodeRequest(ctx, ctx.req)
}

function check(guard: Guard, options: KoaGuardOptions): Middleware {
  return async function bearerGuardCheck(ctx, next) {
    return runGuard(koa, guard, options, ctx, ctx.state.auth, ctx) ?? next()
  }
}

/** A refusal: the default answer unless `onError` answered (returned a truthy value, or set a body). */
const koa: Framework<Ctx, void> = {
  before: (ctx) => ctx.body,
  answered: (result, before, ctx) => !!result || ctx.body !== before,
  refuse({ answered, response }, ctx) {
    if (answered) return
    ctx.status = response.status
    ctx.set(response.headers)
    ctx.body = JSON.stringify(response.body)
  },
}

const guards = guardMiddleware<KoaGuardOptions, Middleware>(check)
const getHeader = (ctx: Ctx[0], name: string): unknown => ctx.response.get(name)
const setHeader = (ctx: Ctx[0], name: string, value: string): void => ctx.set(name, value)

/**
 * Serves the protected-resource metadata (RFC 9728) of a resource at
 * `/.well-known/oauth-protected-resource` + its path (GET, HEAD, OPTIONS; 405 otherwise), and passes
 * every other request on. Options are validated now (a `TypeError` names the bad one).
 *
 * @example The metadata of an MCP server, and challenges that point to it.
 * ```ts
 * import { protectedResource, requireAuth } from 'bearer-guard/koa'
 * app.use(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'] }))
 * router.post('/mcp', requireAuth(verifier, { resourceMetadata: true }), mcpHandler)
 * ```
 * @param options The RFC 9728 members in camelCase (`resource`, `authorizationServers`, …), `verifier`, `cacheMaxAge`.
 */
export function protectedResource(options: ProtectedResourceOptions): Middleware {
  const metadata = protectedResourceHandler(options)
  return async function bearerGuardProtectedResource(ctx, next) {
    const answer = metadata.answer(ctx.method, ctx.originalUrl)
    if (answer === undefined) return next()
    ctx.status = answer.status
    ctx.set(answer.headers)
    // Koa sends no body for HEAD, and none for the 204
    if (answer.body !== undefined) ctx.body = answer.body
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
export const requireRole = guards.requireRole

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/koa'
 * router.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export const requireScopes = guards.requireScopes

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/koa'
 * router.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export const requireClaims = guards.requireClaims
