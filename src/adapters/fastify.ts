/**
 * Fastify 5 plugin and hooks: subpath export `bearer-guard/fastify`.
 *
 * @module bearer-guard/fastify
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { admitRequest, checkAuthOptions, guardFailureOptions, guardMiddleware, refuse, runGuard, addSuccessHeaders, toVerifier } from '../core/adapter.js'
import type { AdapterOptions, Framework, GuardOptions } from '../core/adapter.js'
import type { Guard } from '../core/guards.js'
import { nodeRequest, type AuthRequest } from '../core/request.js'
import { protectedResourceHandler, type ProtectedResourceOptions } from '../core/resource-metadata.js'
import type { AuthContext, Verifier, VerifierOptions } from '../core/types.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAuth`; `null` before it ran, or with `optional` and no token. */
    auth: AuthContext | null
  }
  interface FastifyInstance {
    /** A `preHandler`/`onRequest` hook that verifies the bearer token, with the plugin's options as defaults. */
    requireAuth(options?: FastifyAuthOptions): AuthHook
  }
}

/** A `preHandler` / `onRequest` hook. */
export type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
type Ctx = [request: FastifyRequest, reply: FastifyReply]
/**
 * `onError` replaces the default answer when it sends through `reply` (return `reply`) or returns a
 * truthy value (meaning: it has answered, or will).
 */
export type FastifyAuthOptions = AdapterOptions<Ctx, unknown>
/** Options of `requireRole`/`requireScopes`/`requireClaims`: `any`, `realm`, `onError`, `onFailure`. */
export type FastifyGuardOptions = GuardOptions<Ctx, unknown>
/** Plugin options: verifier options or `{ verifier }`, plus the defaults of `app.requireAuth()`. */
export type BearerGuardOptions = (VerifierOptions | { verifier: Verifier<any> }) &
  FastifyAuthOptions

async function plugin(app: FastifyInstance, options: BearerGuardOptions): Promise<void> {
  const { optional, realm, onError, onFailure, resourceMetadata, ...rest } = options
  const verifier = toVerifier('verifier' in rest ? rest.verifier : rest)
  const defaults: FastifyAuthOptions = { optional, realm, onError, onFailure, resourceMetadata }
  checkAuthOptions(defaults)
  app.decorateRequest('auth', null)
  app.decorate('requireAuth', (opts: FastifyAuthOptions = {}) =>
    requireAuth(verifier, { ...defaults, ...opts }),
  )
}

/**
 * The plugin: validates the options at `register` (bad options reject it), declares `request.auth`
 * and adds `app.requireAuth()`.
 *
 * @example Register once, then protect routes with `app.requireAuth()` and the guards.
 * ```ts
 * import Fastify from 'fastify'
 * import bearerGuard, { requireRole } from 'bearer-guard/fastify'
 * const app = Fastify()
 * await app.register(bearerGuard, { issuer: 'https://auth.example.com/', audience: 'api' })
 * app.get('/admin', { preHandler: [app.requireAuth(), requireRole('admin')] }, (req) => req.auth?.claims)
 * ```
 */
export const bearerGuard = fp(plugin, { fastify: '5.x', name: 'bearer-guard' })
export default bearerGuard

/**
 * The hook behind `app.requireAuth()`, for a verifier other than the plugin's (register the plugin too).
 *
 * @example A second authorization server for some routes.
 * ```ts
 * import { requireAuth } from 'bearer-guard/fastify'
 * app.get('/partner', { onRequest: requireAuth(partnerVerifier) }, handler)
 * ```
 */
export function requireAuth(
  verifier: Verifier<any> | VerifierOptions,
  options: FastifyAuthOptions = {},
): AuthHook {
  const v = toVerifier(verifier)
  checkAuthOptions(options)
  return async function bearerGuardAuth(request, reply) {
    try {
      request.auth = (await admitRequest(v, requestOf(request), options, request)) ?? null
    } catch (error) {
      return refuse(fastify, error, guardFailureOptions(request, options), request, reply)
    }
    addSuccessHeaders(request.auth, reply, getHeader, setHeader)
  }
}

/**
 * The request as the core reads it: method, headers, the certificate of a TLS socket, and the
 * absolute URL from `request.protocol` and `request.host`, which honour `X-Forwarded-Proto` and
 * `X-Forwarded-Host` only when Fastify's `trustProxy` trusts the peer (docs/adapters/proxies.md).
 *
 * @example What `requireAuth` hands the verifier, in a handler.
 * ```ts
 * import { requestOf } from 'bearer-guard/fastify'
 * app.get('/debug/url', (request) => ({ url: requestOf(request).url }))
 * ```
 */
export function requestOf(request: FastifyRequest): AuthRequest {
  return nodeRequest(request, request.raw)
}

function check(guard: Guard, options: FastifyGuardOptions): AuthHook {
  return async function bearerGuardCheck(request, reply) {
    return runGuard(fastify, guard, options, request, request.auth, request, reply)
  }
}

/** A refusal: the default answer unless `onError` answered (returned `reply`, or sent through it). */
const fastify: Framework<Ctx, FastifyReply> = {
  answered: (result, _before, _request, reply) => !!result || reply.sent,
  refuse({ answered, response }, _request, reply) {
    if (!answered && !reply.sent) reply.code(response.status).headers(response.headers).send(JSON.stringify(response.body))
    return reply
  },
}

const guards = guardMiddleware<FastifyGuardOptions, AuthHook>(check)
const getHeader = (reply: FastifyReply, name: string): unknown => reply.getHeader(name)
const setHeader = (reply: FastifyReply, name: string, value: string): void => void reply.header(name, value)

/**
 * A plugin serving the protected-resource metadata (RFC 9728) of a resource: one route at
 * `/.well-known/oauth-protected-resource` + its path (GET, HEAD, OPTIONS; 405 otherwise). Register it
 * without a `prefix` (the path is the resource's). Options are validated now (a `TypeError`).
 *
 * @example The metadata of an MCP server, and challenges that point to it.
 * ```ts
 * import bearerGuard, { protectedResource } from 'bearer-guard/fastify'
 * await app.register(bearerGuard, { verifier, resourceMetadata: true })
 * await app.register(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'] }))
 * app.post('/mcp', { preHandler: app.requireAuth() }, mcpHandler)
 * ```
 * @param options The RFC 9728 members in camelCase (`resource`, `authorizationServers`, …), `verifier`, `cacheMaxAge`.
 */
export function protectedResource(options: ProtectedResourceOptions): FastifyPluginAsync {
  const metadata = protectedResourceHandler(options)
  return async function bearerGuardProtectedResource(app) {
    app.route({
      // HEAD listed here, so Fastify adds no HEAD route of its own
      method: ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: metadata.path,
      handler(request, reply) {
        const answer = metadata.answer(request.method, request.url)
        if (answer === undefined) return reply.callNotFound()
        reply.code(answer.status).headers(answer.headers)
        // Fastify sends no body for HEAD
        return answer.body === undefined ? reply.send() : reply.send(answer.body)
      },
    })
  }
}

/**
 * 401 without a prior `requireAuth`, 403 `insufficient_scope` unless the role(s) are present.
 *
 * @example One of two roles suffices with `{ any: true }`.
 * ```ts
 * import { requireRole } from 'bearer-guard/fastify'
 * app.get('/ops', { preHandler: [app.requireAuth(), requireRole(['admin', 'ops'], { any: true })] }, h)
 * ```
 */
export const requireRole = guards.requireRole

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/fastify'
 * app.post('/orders', { preHandler: [app.requireAuth(), requireScopes('orders:write')] }, handler)
 * ```
 */
export const requireScopes = guards.requireScopes

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/fastify'
 * app.get('/t/acme', { preHandler: [app.requireAuth(), requireClaims({ tenant: 'acme' })] }, handler)
 * ```
 */
export const requireClaims = guards.requireClaims
