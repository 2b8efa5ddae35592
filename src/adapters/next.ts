/**
 * Next.js 16 App Router: route-handler wrapper and `proxy.ts` helper. Subpath export `bearer-guard/next`.
 *
 * @module bearer-guard/next
 */
import { NextResponse, type NextRequest } from 'next/server.js'
import { pathToRegexp } from 'path-to-regexp'
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

/**
 * A path rule of `authProxy`. `path` is a Next.js matcher string, read as `config.matcher` reads it
 * (path-to-regexp 6, the library Next compiles in; case-insensitive, one trailing slash allowed):
 * `'/a'` for `/a` and `/a/`, `'/a/:path*'` (or `'/a/*'`) for `/a` and below, `'/a/:path+'` for
 * below only, `'/users/:id/admin'`, `'/api/(.*)'`. Or a `RegExp`, or a test of the pathname.
 * A string path-to-regexp cannot read is a `TypeError` when `authProxy()` runs.
 */
export interface ProxyRule<C = RegisteredClaims> extends Requirements<C> {
  path: string | RegExp | ((pathname: string) => boolean)
  optional?: boolean
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
  if (options.rules !== undefined && (!Array.isArray(options.rules) || options.rules.length === 0)) {
    throw new TypeError(
      'bearer-guard: authProxy "rules" must be a non-empty array (leave it out to protect every path config.matcher sends)',
    )
  }
  const rules = (options.rules ?? [{ path: () => true }]).map((rule, i) => ({
    ...rule,
    test: toTest(checkRule(rule, i), i),
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

const RULE_KEYS = new Set(['path', 'roles', 'scopes', 'claims', 'any', 'optional'])

/** A rule with an option `authProxy` does not implement (a matcher's `has`, `missing`, `source`, …) is refused. */
function checkRule(rule: ProxyRule<any>, i: number): ProxyRule['path'] {
  if (typeof rule !== 'object' || rule === null) {
    throw new TypeError(`bearer-guard: authProxy rules[${i}] must be an object with a "path"`)
  }
  const unknown = Object.keys(rule).filter((key) => !RULE_KEYS.has(key))
  if (unknown.length > 0) {
    throw new TypeError(
      `bearer-guard: authProxy rules[${i}] has ${unknown.map((k) => `"${k}"`).join(', ')}, which authProxy does not implement (a rule takes path, roles, scopes, claims, any, optional)`,
    )
  }
  return rule.path
}

function toTest(path: ProxyRule['path'], i: number): (pathname: string) => boolean {
  if (typeof path === 'function') return path
  if (path instanceof RegExp) {
    // without g/y: a stateful lastIndex would make every other test of the same path miss
    const regexp = new RegExp(path.source, path.flags.replace(/[gy]/g, ''))
    return (p) => regexp.test(p)
  }
  if (typeof path !== 'string') {
    throw new TypeError(`bearer-guard: authProxy rules[${i}].path must be a string, a RegExp or a function`)
  }
  const regexp = matcherRegExp(path, i)
  return (p) => regexp.test(p)
}

/**
 * A matcher string as Next compiles `config.matcher` (`tokensToRegexp(parse(source))` of
 * path-to-regexp 6 with its defaults: case-insensitive, an optional trailing `/`, anchored).
 * `'/a/*'`, bearer-guard's earlier spelling, is `'/a/:path*'`.
 */
function matcherRegExp(path: string, i: number): RegExp {
  if (!path.startsWith('/')) {
    throw new TypeError(`bearer-guard: authProxy rules[${i}].path "${path}" must start with "/", as a Next.js matcher does`)
  }
  const source = path.endsWith('/*') ? `${path.slice(0, -2)}/:path*` : path
  try {
    return pathToRegexp(source)
  } catch (error) {
    throw new TypeError(
      `bearer-guard: authProxy rules[${i}].path "${path}" is not a Next.js matcher path-to-regexp can read: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/**
 * The spellings of a pathname a rule is tested against: as sent and percent-decoded (Next tests its
 * matchers against both), each also without trailing slashes — with `trailingSlash: true` or
 * `skipTrailingSlashRedirect`, `/a/` reaches the route `/a`, so a RegExp or test written for `/a`
 * must cover it too.
 */
function candidates(pathname: string): string[] {
  const out = [pathname]
  try {
    const decoded = decodeURIComponent(pathname)
    if (decoded !== pathname) out.push(decoded)
  } catch {
    // not decodable: Next cannot match the decoded form either
  }
  for (const p of [...out]) {
    let end = p.length
    while (end > 1 && p.charCodeAt(end - 1) === 0x2f) end--
    if (end !== p.length) out.push(p.slice(0, end))
  }
  return out
}
