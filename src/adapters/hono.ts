/**
 * Hono 4 middleware, for Node and edge runtimes alike: subpath export `bearer-guard/hono`.
 *
 * @module bearer-guard/hono
 */
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { admitRequest, checkAuthOptions, guardFailureOptions, guardMiddleware, refuse, runGuard, addSuccessHeaders, toVerifier } from '../core/adapter.js'
import type { AdapterOptions, Framework, GuardOptions } from '../core/adapter.js'
import type { Guard } from '../core/guards.js'
import { webResponse } from '../core/http.js'
import { webRequest, type AuthRequest, type WebRequestOptions } from '../core/request.js'
import { protectedResourceHandler, type ProtectedResourceOptions } from '../core/resource-metadata.js'
import type { AuthContext, RegisteredClaims, Verifier, VerifierOptions } from '../core/types.js'

/** Context variables set by `requireAuth`: `c.get('auth')` / `c.var.auth`. */
export type AuthVariables<C = RegisteredClaims> = { auth: AuthContext<C> }
/** The variables of `requireAuth(…, { optional })`: `auth` may be `undefined`. */
export type OptionalAuthVariables<C = RegisteredClaims> = { auth: AuthContext<C> | undefined }

type Ctx = [c: Context]
type Answer = Response | undefined | void
/**
 * Options of `requireAuth`. `onError` may return a `Response`, which replaces the default answer;
 * `trustProxy` takes the URL's scheme and host from `X-Forwarded-Proto`/`-Host` (docs/adapters/proxies.md).
 */
export type HonoAuthOptions = AdapterOptions<Ctx, Answer | Promise<Answer>> & WebRequestOptions
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
 * @param options `optional`, `realm`, `onError(error, c)`, `onFailure(error, c)`, `trustProxy`.
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
  checkAuthOptions(options)
  return createMiddleware<{ Variables: OptionalAuthVariables<C> }>(
    async function bearerGuardAuth(c, next) {
      let auth: AuthContext<C> | undefined
      try {
        auth = await admitRequest(v, requestOf(c, options), options, c)
      } catch (error) {
        return refuse(hono, error, guardFailureOptions(c, options), c)
      }
      c.set('auth', auth)
      await next()
      // after the handler: its response exists, whichever way it was made
      addSuccessHeaders(auth, c, getHeader, setHeader)
    },
  )
}

/**
 * The request as the core reads it: method, headers, and the URL as the runtime gives it (`c.req.url`;
 * with `trustProxy`, the scheme and host of `X-Forwarded-Proto`/`-Host`). On `@hono/node-server`,
 * the client certificate of a TLS socket (`c.env.incoming`); other runtimes do not expose one.
 *
 * @example What `requireAuth` hands the verifier, in a handler.
 * ```ts
 * import { requestOf } from 'bearer-guard/hono'
 * app.get('/debug/url', (c) => c.json({ url: requestOf(c).url }))
 * ```
 */
export function requestOf(c: Context, options?: WebRequestOptions): AuthRequest {
  // @hono/node-server's bindings: `c.env.incoming` is the Node request
  const incoming = (c.env as { incoming?: { socket?: object } } | undefined)?.incoming
  return webRequest(c.req.raw, options, incoming?.socket)
}

function check(guard: Guard, options: HonoGuardOptions) {
  // `auth?: unknown` merges with the `requireAuth` variables without widening them
  return createMiddleware<{ Variables: { auth?: unknown } }>(async function bearerGuardCheck(c, next) {
    return runGuard(hono, guard, options, c, c.get('auth') as AuthContext<unknown> | undefined, c) ?? next()
  })
}

/** A refusal: `onError`'s `Response`, or an `HTTPException` carrying the default answer (`cause`: the error). */
const hono: Framework<Ctx, Response> = {
  answered: (result) => result instanceof Response,
  refuse({ answered, result, response, error }) {
    if (answered) return result as Response
    throw new HTTPException(response.status as ContentfulStatusCode, { res: webResponse(response), cause: error })
  },
}

const guards = guardMiddleware<HonoGuardOptions, MiddlewareHandler<{ Variables: { auth?: unknown } }>>(check)
const getHeader = (c: Context, name: string): unknown => c.res.headers.get(name) ?? undefined
const setHeader = (c: Context, name: string, value: string): void => c.header(name, value)

/**
 * Serves the protected-resource metadata (RFC 9728) of a resource at
 * `/.well-known/oauth-protected-resource` + its path (GET, HEAD, OPTIONS; 405 otherwise), and passes
 * every other request on. Options are validated now (a `TypeError` names the bad one).
 *
 * @example The metadata of an MCP server, and challenges that point to it.
 * ```ts
 * import { protectedResource, requireAuth } from 'bearer-guard/hono'
 * app.use(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'] }))
 * app.post('/mcp', requireAuth(verifier, { resourceMetadata: true }), mcpHandler)
 * ```
 * @param options The RFC 9728 members in camelCase (`resource`, `authorizationServers`, …), `verifier`, `cacheMaxAge`.
 */
export function protectedResource(options: ProtectedResourceOptions): MiddlewareHandler {
  const metadata = protectedResourceHandler(options)
  return async function bearerGuardProtectedResource(c, next) {
    return metadata(c.req.raw) ?? next()
  }
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
export const requireRole = guards.requireRole

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/hono'
 * app.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export const requireScopes = guards.requireScopes

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/hono'
 * app.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export const requireClaims = guards.requireClaims
