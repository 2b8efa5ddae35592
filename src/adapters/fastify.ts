/**
 * Fastify 5 plugin and hooks: subpath export `bearer-guard/fastify`.
 *
 * @module bearer-guard/fastify
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
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
  const { optional, realm, onError, onFailure, ...rest } = options
  const verifier = toVerifier('verifier' in rest ? rest.verifier : rest)
  const defaults: FastifyAuthOptions = { optional, realm, onError, onFailure }
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
  return async function bearerGuardAuth(request, reply) {
    recordAuthOptions(request, options)
    try {
      const header = nodeAuthorization(request.raw)
      request.auth = (await authenticateRequest(v, header, options.optional)) ?? null
    } catch (error) {
      return fail(error, options, request, reply)
    }
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
export function requireRole(roles: string | readonly string[], options: FastifyGuardOptions = {}) {
  return check(roleGuard(roles, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 with `scope="…"` unless the scope(s) are present.
 *
 * @example Creating an order needs the `orders:write` scope.
 * ```ts
 * import { requireScopes } from 'bearer-guard/fastify'
 * app.post('/orders', { preHandler: [app.requireAuth(), requireScopes('orders:write')] }, handler)
 * ```
 */
export function requireScopes(
  scopes: string | readonly string[],
  options: FastifyGuardOptions = {},
) {
  return check(scopeGuard(scopes, options), options)
}

/**
 * 401 without a prior `requireAuth`, 403 unless the claims match (`{ claim: value }` or a predicate).
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { requireClaims } from 'bearer-guard/fastify'
 * app.get('/t/acme', { preHandler: [app.requireAuth(), requireClaims({ tenant: 'acme' })] }, handler)
 * ```
 */
export function requireClaims(
  requirement: ClaimRequirement,
  options: Omit<FastifyGuardOptions, 'any'> = {},
) {
  return check(claimsGuard(requirement), options)
}

function check(guard: Guard, options: FastifyGuardOptions): AuthHook {
  return async function bearerGuardCheck(request, reply) {
    try {
      guard(request.auth)
    } catch (error) {
      return fail(error, guardFailureOptions(request, options), request, reply)
    }
  }
}

async function fail(
  error: unknown,
  options: FastifyGuardOptions,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const answered = (r: unknown) => !!r || reply.sent
  const out = await resolveFailure(error, { ...options, answered }, request, reply)
  if ('response' in out && !reply.sent) {
    reply
      .code(out.response.status)
      .headers(out.response.headers)
      .send(JSON.stringify(out.response.body))
  }
  return reply
}
