/**
 * Next.js 16 App Router: route-handler wrapper and `proxy.ts` helper. Subpath export `bearer-guard/next`.
 *
 * @module bearer-guard/next
 */
import { NextResponse, type NextRequest } from 'next/server.js'
import {
  authenticateRequest,
  checkAuthOptions,
  FORWARDED_IDENTITY_HEADERS,
  resolveWebFailure,
  withSuccessHeaders,
  resourceMetadataOf,
  toVerifier,
  type AdapterOptions,
} from '../core/adapter.js'
import { claimsGuard, roleGuard, scopeGuard, type Guard } from '../core/guards.js'
import { webRequest, type AuthRequest, type WebRequestOptions } from '../core/request.js'
import { protectedResourceHandler, type ProtectedResourceOptions } from '../core/resource-metadata.js'
import type { AuthContext, RegisteredClaims, Verifier, VerifierOptions } from '../core/types.js'
import { candidates, pathTest, type ProxyRule, type Requirements } from './next/path-rules.js'

export type { ProxyRule, Requirements } from './next/path-rules.js'

type Answer = Response | undefined | void
/**
 * `onError(error, request)` may return a `Response`, which replaces the default answer.
 * `trustProxy` takes the URL's scheme and host from `X-Forwarded-Proto`/`-Host` (docs/adapters/proxies.md).
 */
export interface WithAuthOptions<C = RegisteredClaims>
  extends Requirements<C>, AdapterOptions<[request: NextRequest], Answer | Promise<Answer>>, WebRequestOptions {
  /** A `Verifier<C>` (types `auth.claims`; share one per process), or verifier options. */
  verifier: Verifier<C> | VerifierOptions
}
/** Next's route context: `{ params: Promise<…> }` (Next 16 also generates `RouteContext<'/path'>`). */
export type NextRouteContext<P = Record<string, string | string[] | undefined>> = {
  params: Promise<P>
}
type Handler<C, X, A> = (
  request: NextRequest,
  context: X & { auth: A },
) => Response | Promise<Response>

/**
 * Wraps an App Router route handler: the handler runs only with a valid token (and the required
 * roles, scopes, claims) and receives `{ auth, params }`. Failures answer per RFC 6750.
 *
 * @example `app/api/orders/[id]/route.ts`
 * ```ts
 * import { withAuth } from 'bearer-guard/next'
 * import { verifier } from '@/lib/auth'
 * export const GET = withAuth(async (req, { auth, params }) => {
 *   const { id } = await params
 *   return Response.json({ id, sub: auth.subject })
 * }, { verifier, scopes: 'orders:read' })
 * ```
 */
export function withAuth<C = RegisteredClaims, X extends object = NextRouteContext>(
  handler: Handler<C, X, AuthContext<C>>,
  options: WithAuthOptions<C> & { optional?: false },
): (request: NextRequest, context: Omit<X, 'auth'>) => Promise<Response>
export function withAuth<C = RegisteredClaims, X extends object = NextRouteContext>(
  handler: Handler<C, X, AuthContext<C> | undefined>,
  options: WithAuthOptions<C>,
): (request: NextRequest, context: Omit<X, 'auth'>) => Promise<Response>
export function withAuth<C, X extends object>(
  handler: Handler<C, X, any>,
  options: WithAuthOptions<C>,
) {
  const verifier = toVerifier<C>(options.verifier)
  checkAuthOptions(options)
  const guards = toGuards(options)
  return async function bearerGuardRoute(request: NextRequest, context: X): Promise<Response> {
    const result = await authorize(request, verifier, guards, options)
    if (result instanceof Response) return result
    return withSuccessHeaders(await handler(request, { ...context, auth: result.auth }), result.auth)
  }
}

export interface AuthProxyOptions<C = RegisteredClaims> extends Omit<
  WithAuthOptions<C>,
  keyof Requirements | 'optional'
> {
  /**
   * First match wins; unmatched paths pass. Default: every path `config.matcher` sends here needs a
   * token. An empty list is a `TypeError` (it would protect nothing).
   */
  rules?: readonly ProxyRule<C>[]
  /** Set `x-auth-subject`, `x-auth-roles`, `x-auth-scopes` (percent-encoded, space-separated). Default: `false`. */
  forwardIdentity?: boolean
}

/**
 * A `proxy.ts` (formerly `middleware.ts`) function: rejects requests to protected paths before any
 * route runs, and always strips inbound identity headers (`FORWARDED_IDENTITY_HEADERS`) so a client
 * cannot spoof them. Keep `withAuth` in the routes too; the proxy is a first line, not the only one.
 *
 * @example `proxy.ts`
 * ```ts
 * import { authProxy } from 'bearer-guard/next'
 * export const proxy = authProxy({ verifier, rules: [{ path: '/api/admin/*', roles: 'admin' }, { path: '/api/*' }] })
 * export const config = { matcher: '/api/:path*' }
 * ```
 */
export function authProxy<C = RegisteredClaims>(options: AuthProxyOptions<C>) {
  const verifier = toVerifier<C>(options.verifier)
  checkAuthOptions(options)
  if (options.rules !== undefined && (!Array.isArray(options.rules) || options.rules.length === 0)) {
    throw new TypeError(
      'bearer-guard: authProxy "rules" must be a non-empty array (leave it out to protect every path config.matcher sends)',
    )
  }
  const rules = (options.rules ?? [{ path: () => true }]).map((rule, i) => ({
    ...rule,
    test: pathTest(rule, i),
    guards: toGuards(rule),
  }))
  return async function bearerGuardProxy(request: NextRequest): Promise<Response> {
    const headers = new Headers(request.headers)
    for (const name of FORWARDED_IDENTITY_HEADERS) headers.delete(name)
    // the path Next routes (and config.matcher sees): basePath and locale prefix removed
    const paths = candidates(request.nextUrl?.pathname ?? new URL(request.url).pathname)
    const rule = rules.find((r) => paths.some((p) => r.test(p)))
    if (rule) {
      const result = await authorize(request, verifier, rule.guards, {
        ...options,
        optional: rule.optional,
      })
      if (result instanceof Response) return result
      if (result.auth && options.forwardIdentity) {
        headers.set('x-auth-subject', encodeURIComponent(result.auth.subject ?? ''))
        headers.set('x-auth-roles', result.auth.roles.map(encodeURIComponent).join(' '))
        headers.set('x-auth-scopes', result.auth.scopes.map(encodeURIComponent).join(' '))
      }
      return withSuccessHeaders(NextResponse.next({ request: { headers } }), result.auth)
    }
    return NextResponse.next({ request: { headers } })
  }
}

/** The route handlers of `protectedResource()`, one per method. */
export interface ProtectedResourceRoutes {
  GET(request: Request): Response
  HEAD(request: Request): Response
  OPTIONS(request: Request): Response
  POST(request: Request): Response
  PUT(request: Request): Response
  PATCH(request: Request): Response
  DELETE(request: Request): Response
}

/**
 * Route handlers serving the protected-resource metadata (RFC 9728) of a resource, for
 * `app/.well-known/oauth-protected-resource/[[...path]]/route.ts`: the document at
 * `/.well-known/oauth-protected-resource` + the resource's path (the URL's path, basePath included),
 * 404 at any other path under it; `OPTIONS` answers CORS preflights. Options are validated now.
 *
 * @example `app/.well-known/oauth-protected-resource/[[...path]]/route.ts`
 * ```ts
 * import { protectedResource } from 'bearer-guard/next'
 * import { verifier } from '@/lib/auth'
 * export const { GET, HEAD, OPTIONS } = protectedResource({ verifier, authorizationServers: ['https://auth.example.com'] })
 * ```
 * @param options The RFC 9728 members in camelCase (`resource`, `authorizationServers`, …), `verifier`, `cacheMaxAge`.
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResourceRoutes {
  const metadata = protectedResourceHandler(options)
  const route = (request: Request): Response => metadata(request) ?? new Response(null, { status: 404 })
  return { GET: route, HEAD: route, OPTIONS: route, POST: route, PUT: route, PATCH: route, DELETE: route }
}

/**
 * The request as the core reads it: method, headers, and `request.url` as Next gives it (basePath
 * and locale included; with `trustProxy`, the scheme and host of `X-Forwarded-Proto`/`-Host`).
 * Route handlers have no socket: no client certificate.
 *
 * @example What `withAuth` hands the verifier.
 * ```ts
 * import { requestOf } from 'bearer-guard/next'
 * export const GET = (request: NextRequest) => Response.json({ url: requestOf(request).url })
 * ```
 */
export function requestOf(request: NextRequest, options?: WebRequestOptions): AuthRequest {
  return webRequest(request, options)
}

function toGuards<C>({ roles, scopes, claims, any }: Requirements<C>): Guard[] {
  return [
    roles && roleGuard(roles, { any }),
    scopes && scopeGuard(scopes, { any }),
    claims && claimsGuard(claims),
  ].filter((g) => !!g)
}

async function authorize<C>(request: NextRequest, verifier: Verifier<C>, guards: Guard[], options: WithAuthOptions<C>) {
  const authRequest = requestOf(request, options)
  try {
    const auth = await authenticateRequest(verifier, authRequest, options.optional)
    for (const guard of guards) guard(auth)
    return { auth }
  } catch (error) {
    const resourceMetadata = resourceMetadataOf(options.resourceMetadata, verifier, authRequest)
    return (await resolveWebFailure(error, { ...options, resourceMetadata }, request)).response
  }
}
