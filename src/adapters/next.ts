/**
 * Next.js 16 App Router: route-handler wrapper and `proxy.ts` helper. Subpath export `bearer-guard/next`.
 *
 * @module bearer-guard/next
 */
import { NextResponse, type NextRequest } from 'next/server.js'
import {
  authenticateRequest,
  FORWARDED_IDENTITY_HEADERS,
  resolveWebFailure,
  toVerifier,
  type AdapterOptions,
} from '../core/adapter.js'
import {
  claimsGuard,
  roleGuard,
  scopeGuard,
  type ClaimRequirement,
  type Guard,
} from '../core/guards.js'
import type { AuthContext, RegisteredClaims, Verifier, VerifierOptions } from '../core/types.js'

type Answer = Response | undefined | void
/** What a route or path requires beyond a valid token. `any`: one role / one scope suffices. */
export interface Requirements<C = RegisteredClaims> {
  roles?: string | readonly string[]
  scopes?: string | readonly string[]
  claims?: ClaimRequirement<C>
  any?: boolean
}
/** `onError(error, request)` may return a `Response`, which replaces the default answer. */
export interface WithAuthOptions<C = RegisteredClaims>
  extends Requirements<C>, AdapterOptions<[request: NextRequest], Answer | Promise<Answer>> {
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
  const guards = toGuards(options)
  return async function bearerGuardRoute(request: NextRequest, context: X): Promise<Response> {
    const result = await authorize(request, verifier, guards, options)
    return result instanceof Response ? result : handler(request, { ...context, auth: result.auth })
  }
}

/** A path rule of `authProxy`: `'/a'` exact, `'/a/*'` or `'/a/:path*'` for `/a` and below, a RegExp or a test. */
export interface ProxyRule<C = RegisteredClaims> extends Requirements<C> {
  path: string | RegExp | ((pathname: string) => boolean)
  optional?: boolean
}
export interface AuthProxyOptions<C = RegisteredClaims> extends Omit<
  WithAuthOptions<C>,
  keyof Requirements | 'optional'
> {
  /** First match wins; unmatched paths pass. Default: every path `config.matcher` sends here needs a token. */
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
  const rules = (options.rules ?? [{ path: () => true }]).map((rule) => ({
    ...rule,
    test: toTest(rule.path),
    guards: toGuards(rule),
  }))
  return async function bearerGuardProxy(request: NextRequest): Promise<Response> {
    const headers = new Headers(request.headers)
    for (const name of FORWARDED_IDENTITY_HEADERS) headers.delete(name)
    // the path Next routes (and config.matcher sees): basePath and locale prefix removed
    const raw = request.nextUrl?.pathname ?? new URL(request.url).pathname
    const rule = rules.find((r) => r.test(raw) || r.test(decode(raw)))
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
    }
    return NextResponse.next({ request: { headers } })
  }
}

function toGuards<C>({ roles, scopes, claims, any }: Requirements<C>): Guard[] {
  return [
    roles && roleGuard(roles, { any }),
    scopes && scopeGuard(scopes, { any }),
    claims && claimsGuard(claims),
  ].filter((g) => !!g)
}

async function authorize<C>(
  request: NextRequest,
  verifier: Verifier<C>,
  guards: Guard[],
  options: WithAuthOptions<C>,
) {
  try {
    const auth = await authenticateRequest(
      verifier,
      request.headers.get('authorization'),
      options.optional,
    )
    for (const guard of guards) guard(auth)
    return { auth }
  } catch (error) {
    return (await resolveWebFailure(error, options, request)).response
  }
}

function toTest(path: ProxyRule['path']): (pathname: string) => boolean {
  if (typeof path === 'function') return path
  if (path instanceof RegExp) return (p) => path.test(p)
  const base = path.replace(/\/(\*|:path\*)$/, '')
  return base === path
    ? (p) => p === path
    : (p) => p === base || p.startsWith(`${base}/`) || base === ''
}

function decode(pathname: string): string {
  try {
    return decodeURIComponent(pathname)
  } catch {
    return pathname
  }
}
