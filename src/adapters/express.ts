/**
 * Express 5 (and 4) middleware: subpath export `bearer-guard/express`.
 *
 * @module bearer-guard/express
 */
import type { Request, RequestHandler, Response } from 'express'
import { admitRequest, checkAuthOptions, guardFailureOptions, guardMiddleware, refuse, runGuard, addSuccessHeaders, toVerifier } from '../core/adapter.js'
import type { AdapterOptions, Framework, GuardOptions } from '../core/adapter.js'
import type { Guard } from '../core/guards.js'
import { nodeRequest, type AuthRequest } from '../core/request.js'
import { protectedResourceHandler, type ProtectedResourceOptions } from '../core/resource-metadata.js'
import type { AuthContext, Register, RegisteredClaims, Verifier, VerifierOptions } from '../core/types.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * Set by `requireAuth`; `undefined` before it ran, or with `optional` and no token. Typed
       * `AuthContext`, or `Register['expressAuth']` where declared (see `ExpressAuth`).
       */
      auth?: ExpressAuth
    }
  }
}

/**
 * The type of `req.auth`: `AuthContext`, unless the project declares `expressAuth` on `Register`.
 * The MCP SDK's `requireBearerAuth` types `req.auth` as its `AuthInfo`; a project using both
 * declares the union once (docs/mcp.md), so that both augmentations of Express's request agree.
 *
 * @example A project with bearer-guard/express and the MCP SDK's Express middleware.
 * ```ts
 * import type { AuthContext } from 'bearer-guard'
 * import type { AuthInfo } from 'bearer-guard/mcp'
 * declare module 'bearer-guard' { interface Register { expressAuth: AuthContext | AuthInfo } }
 * ```
 */
export type ExpressAuth = Register extends { expressAuth: infer A } ? A : AuthContext

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
  checkAuthOptions(options)
  return async function bearerGuardAuth(req, res, next) {
    let auth: AuthContext | undefined
    try {
      auth = await admitRequest(v, requestOf(req), options, req)
      // through `unknown`: `req.auth` may be typed otherwise in the project (see `ExpressAuth`)
      ;(req as unknown as { auth?: AuthContext }).auth = auth
    } catch (error) {
      return refuse(express, error, guardFailureOptions(req, options), req, res).catch(next)
    }
    addSuccessHeaders(auth, res, getHeader, setHeader)
    next()
  }
}

/**
 * The request as the core reads it: method, headers, the certificate of a TLS socket, and the
 * absolute URL from `req.protocol` and the host, which honour `X-Forwarded-Proto` and
 * `X-Forwarded-Host` only when `app.set('trust proxy', …)` trusts the peer (docs/adapters/proxies.md).
 *
 * @example What `requireAuth` hands the verifier, in a handler.
 * ```ts
 * import { requestOf } from 'bearer-guard/express'
 * app.get('/debug/url', (req, res) => res.json({ url: requestOf(req).url }))
 * ```
 */
export function requestOf(req: Request): AuthRequest {
  return nodeRequest(req, req, host)
}

/** Express 5's `req.host` (Express 4's is the hostname without the port), for both majors. */
function host(req: Request): string | undefined {
  const forwarded = req.get('x-forwarded-host')
  const trust = req.app?.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined
  if (forwarded && trust?.(req.socket.remoteAddress, 0)) return forwarded.split(',')[0]!.trim()
  return req.get('host')
}

function check(guard: Guard, options: ExpressGuardOptions): RequestHandler {
  return function bearerGuardCheck(req, res, next) {
    const refused = runGuard(express, guard, options, req, req.auth as AuthContext | undefined, req, res)
    if (refused) return void refused.catch(next)
    next()
  }
}

/** A refusal: the default answer unless `onError` answered (or sent something itself). */
const express: Framework<Ctx, void> = {
  answered: (result, _before, _req, res) => !!result || res.headersSent,
  refuse({ answered, response }, _req, res) {
    if (answered || res.headersSent) return
    res.status(response.status).set(response.headers).send(JSON.stringify(response.body))
  },
}

const guards = guardMiddleware<ExpressGuardOptions, RequestHandler, RegisteredClaims>(check)
const getHeader = (res: Response, name: string): unknown => res.get(name)
const setHeader = (res: Response, name: string, value: string): void => void res.set(name, value)

/**
 * Serves the protected-resource metadata (RFC 9728) of a resource at
 * `/.well-known/oauth-protected-resource` + its path (GET, HEAD, OPTIONS; 405 otherwise), and passes
 * every other request on. Options are validated now (a `TypeError` names the bad one).
 *
 * @example The metadata of an MCP server, and challenges that point to it.
 * ```ts
 * import { protectedResource, requireAuth } from 'bearer-guard/express'
 * app.use(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'], scopesSupported: ['tools:read'] }))
 * app.post('/mcp', requireAuth(verifier, { resourceMetadata: true }), mcpHandler)
 * ```
 * @param options The RFC 9728 members in camelCase (`resource`, `authorizationServers`, …), `verifier`, `cacheMaxAge`.
 */
export function protectedResource(options: ProtectedResourceOptions): RequestHandler {
  const metadata = protectedResourceHandler(options)
  return function bearerGuardProtectedResource(req, res, next) {
    // the path the client asked for, whatever router this is mounted on
    const answer = metadata.answer(req.method, req.originalUrl ?? req.url)
    if (answer === undefined) return next()
    res.status(answer.status).set(answer.headers)
    if (answer.body === undefined) res.end()
    else res.send(answer.body)
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
export const requireRole = guards.requireRole

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless `req.auth` has the scope(s).
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/express'
 * app.post('/orders', requireAuth(verifier), requireScopes('orders:write'), handler)
 * ```
 */
export const requireScopes = guards.requireScopes

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/express'
 * app.get('/t/acme', requireAuth(verifier), requireClaims({ tenant: 'acme' }), handler)
 * ```
 */
export const requireClaims = guards.requireClaims
