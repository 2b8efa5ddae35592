import { NextRequest } from 'next/server'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createVerifier,
  FORWARDED_IDENTITY_HEADERS,
  type AuthContext,
  type AuthError,
  type IssuerOptions,
  type JWTPayload,
} from 'bearer-guard'
import { authProxy, withAuth } from 'bearer-guard/next'
import { adminToken, brokenVerifier, issuer, userToken, verifier } from './setup.js'

const request = (path: string, headers: Record<string, string> = {}) =>
  new NextRequest(`http://localhost:3000${path}`, { headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** What a `NextResponse.next({ request: { headers } })` tells Next to pass to the route. */
function forwarded(res: Response): Record<string, string> | undefined {
  if (res.headers.get('x-middleware-next') !== '1') return undefined
  const names = res.headers.get('x-middleware-override-headers')?.split(',') ?? []
  return Object.fromEntries(
    names.map((n) => [n, res.headers.get(`x-middleware-request-${n}`) ?? '']),
  )
}

describe('withAuth (bearer-guard/next)', () => {
  it('runs the handler with auth and keeps Next 16 route context (params: Promise)', async () => {
    const GET = withAuth(
      async (req, { auth, params }: { auth: AuthContext; params: Promise<{ id: string }> }) =>
        Response.json({ id: (await params).id, sub: auth.subject, url: req.nextUrl.pathname }),
      { verifier },
    )
    const res = await GET(request('/orders/42', bearer(userToken)), {
      params: Promise.resolve({ id: '42' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id: '42', sub: 'user-1', url: '/orders/42' })
  })

  it('rejects the route promise with a non-AuthError, for Next error handling', async () => {
    const failure = new Error('database down')
    const GET = withAuth(async () => new Response('never'), { verifier: brokenVerifier(failure) })
    await expect(
      GET(request('/x', bearer(userToken)), { params: Promise.resolve({}) }),
    ).rejects.toBe(failure)
  })

  it('types auth (zod claims, optional) and stays assignable to a Next route export', () => {
    const typed = createVerifier({
      ...(issuer.verifierOptions('keys') as IssuerOptions<undefined>),
      claims: z.looseObject({ tenant: z.string() }),
    })
    const GET = withAuth(
      async (_req, { auth }) => {
        expectTypeOf(auth.claims.tenant).toEqualTypeOf<string>()
        return new Response()
      },
      { verifier: typed, roles: 'admin' },
    )
    withAuth(
      async (_req, { auth }) => {
        expectTypeOf(auth).toEqualTypeOf<AuthContext<JWTPayload> | undefined>()
        return new Response()
      },
      { verifier, optional: true },
    )
    const flag = Math.random() > 2
    withAuth(
      async (_req, { auth }) => {
        expectTypeOf(auth).toEqualTypeOf<AuthContext<JWTPayload> | undefined>()
        return new Response()
      },
      { verifier, optional: flag },
    )
    expectTypeOf(GET).toExtend<
      (req: NextRequest, ctx: { params: Promise<{ id: string }> }) => Promise<Response>
    >()
    expect(GET).toBeTypeOf('function')
  })
})

describe('authProxy (bearer-guard/next)', () => {
  const proxy = authProxy({
    verifier,
    rules: [
      { path: '/admin/*', roles: 'admin' },
      { path: '/api/:path*' },
      { path: '/public/*', optional: true },
    ],
    forwardIdentity: true,
  })

  it('rejects a protected path without a token before any route runs', async () => {
    const res = await proxy(request('/api/orders'))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    expect(forwarded(res)).toBeUndefined()
  })

  it('answers 403 for a missing role', async () => {
    const res = await proxy(request('/admin/users', bearer(userToken)))
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'insufficient role',
    })
  })

  it('protects percent-encoded spellings of a protected path', async () => {
    expect((await proxy(request('/%61dmin/users', bearer(userToken)))).status).toBe(403)
    expect((await proxy(request('/admin%2Fusers'))).status).toBe(401)
  })

  it('matches rules against the path Next routes: basePath and locale prefixes removed, as config.matcher does', async () => {
    const routed = new NextRequest('http://localhost:3000/base/admin/users', {
      headers: bearer(userToken),
      nextConfig: { basePath: '/base' },
    })
    const localized = new NextRequest('http://localhost:3000/fr/admin/users', {
      headers: bearer(userToken),
      nextConfig: { i18n: { locales: ['en', 'fr'], defaultLocale: 'en' } },
    })
    expect(routed.nextUrl.pathname).toBe('/admin/users')
    expect((await proxy(routed)).status).toBe(403)
    expect((await proxy(localized)).status).toBe(403)
  })

  it('strips spoofed identity headers on every path, protected or not', async () => {
    const spoofed = Object.fromEntries(FORWARDED_IDENTITY_HEADERS.map((h) => [h, 'admin']))
    const res = await proxy(request('/about', { ...spoofed, 'x-kept': '1' }))
    const headers = forwarded(res)
    expect(headers).toMatchObject({ 'x-kept': '1' })
    for (const name of FORWARDED_IDENTITY_HEADERS) expect(headers).not.toHaveProperty(name)
  })

  it('forwards the verified identity, replacing what the client sent', async () => {
    const res = await proxy(
      request('/admin/users', {
        ...bearer(adminToken),
        'x-auth-subject': 'mallory',
        'x-auth-roles': 'root',
      }),
    )
    expect(forwarded(res)).toMatchObject({
      'x-auth-subject': 'admin-1',
      'x-auth-roles': 'admin',
      'x-auth-scopes': '',
    })
  })

  it('lets optional rules through without a token, and without identity headers', async () => {
    const res = await proxy(request('/public/page', { 'x-auth-subject': 'mallory' }))
    expect(forwarded(res)).not.toHaveProperty('x-auth-subject')
    expect((await proxy(request('/public/page', { authorization: 'Bearer' }))).status).toBe(400)
  })

  it('protects every path config.matcher sends it when no rules are given', async () => {
    const strict = authProxy({ verifier })
    expect((await strict(request('/anything'))).status).toBe(401)
    expect(forwarded(await strict(request('/anything', bearer(userToken))))).not.toHaveProperty(
      'x-auth-subject',
    )
  })
})

describe('authProxy rules match as Next.js config.matcher does (path-to-regexp 6)', () => {
  /** A request as Next hands it to the proxy, with the app's next.config. */
  const routed = (path: string, nextConfig: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    new NextRequest(`http://localhost:3000${path}`, { headers, nextConfig })
  const passes = (res: Response) => res.headers.get('x-middleware-next') === '1'

  it.each([
    ['trailingSlash: true', { trailingSlash: true }],
    ['skipTrailingSlashRedirect: true', { skipTrailingSlashRedirect: true }],
    ['the default config', {}],
  ])('covers the trailing slash of an exact rule (%s)', async (_what, nextConfig) => {
    const proxy = authProxy({ verifier, rules: [{ path: '/api/admin', roles: 'admin' }] })
    const slashed = routed('/api/admin/', nextConfig)
    expect(slashed.nextUrl.pathname).toBe('/api/admin/')
    expect((await proxy(slashed)).status).toBe(401)
    expect((await proxy(routed('/api/admin/', nextConfig, bearer(userToken)))).status).toBe(403)
    expect(passes(await proxy(routed('/api/admin/', nextConfig, bearer(adminToken))))).toBe(true)
    expect((await proxy(routed('/api/admin', nextConfig))).status).toBe(401)
    // an exact rule stays exact: other paths pass
    expect(passes(await proxy(routed('/api/admin/users', nextConfig)))).toBe(true)
    expect(passes(await proxy(routed('/api/administrator', nextConfig)))).toBe(true)
  })

  it('covers the trailing slash of RegExp and function rules too', async () => {
    const proxy = authProxy({
      verifier,
      rules: [{ path: /^\/api\/admin$/ }, { path: (p) => p === '/api/ops' }],
    })
    expect((await proxy(routed('/api/admin/', { trailingSlash: true }))).status).toBe(401)
    expect((await proxy(routed('/api/ops/', { trailingSlash: true }))).status).toBe(401)
    expect((await proxy(routed('/api/ops//', { skipTrailingSlashRedirect: true }))).status).toBe(401)
  })

  it.each([
    ['/api/:path+', ['/api/x', '/api/x/y/z', '/api/x/'], ['/api', '/apis/x', '/']],
    ['/api/(.*)', ['/api/', '/api/x', '/api/x/y'], ['/api', '/apix', '/other/api/x']],
    ['/users/:id/admin', ['/users/7/admin', '/users/7/admin/', '/users/abc/admin'], ['/users/7', '/users/7/admin/x', '/users//admin', '/users/7/8/admin']],
    ['/api/:path*', ['/api', '/api/', '/api/x/y'], ['/apix', '/x/api']],
    ['/api/*', ['/api', '/api/', '/api/x/y'], ['/apix', '/x/api']],
    ['/api/:version(v1|v2)/orders', ['/api/v1/orders', '/api/v2/orders/'], ['/api/v3/orders']],
    ['/docs/:slug?', ['/docs', '/docs/', '/docs/intro'], ['/docs/a/b']],
    ['/((?!public/).*)', ['/x', '/api/x', '/'], ['/public/x']],
  ])('reads %s as Next does: protects %j, passes %j', async (path, protectedPaths, openPaths) => {
    const proxy = authProxy({ verifier, rules: [{ path }] })
    for (const p of protectedPaths) expect((await proxy(routed(p))).status, p).toBe(401)
    for (const p of openPaths) expect(passes(await proxy(routed(p))), p).toBe(true)
  })

  it('matches without regard to letter case, as Next matchers do', async () => {
    const proxy = authProxy({ verifier, rules: [{ path: '/api/admin/:path*' }] })
    expect((await proxy(routed('/API/Admin/x'))).status).toBe(401)
  })

  it('tests the percent-decoded path too, as Next does', async () => {
    const proxy = authProxy({ verifier, rules: [{ path: '/users/:id/admin' }] })
    expect((await proxy(routed('/users/7/%61dmin'))).status).toBe(401)
    expect((await proxy(routed('/users/7%2Fadmin'))).status).toBe(401)
  })

  it('tests a RegExp rule with the g or y flag the same way every time', async () => {
    const proxy = authProxy({ verifier, rules: [{ path: /^\/api\//g }, { path: /^\/ops\//y }] })
    for (let i = 0; i < 4; i++) {
      expect((await proxy(routed('/api/x'))).status).toBe(401)
      expect((await proxy(routed('/ops/x'))).status).toBe(401)
    }
  })

  it.each([
    ['a path without a leading slash', [{ path: 'api/admin' }], /must start with "\/"/],
    ['a path path-to-regexp cannot read', [{ path: '/api/**' }], /not a Next\.js matcher/],
    ['a star in the middle', [{ path: '/api/*/admin' }], /not a Next\.js matcher/],
    ['an unbalanced group', [{ path: '/api/(foo' }], /not a Next\.js matcher/],
    ['a repeated unprefixed parameter', [{ path: '/api:path*' }], /not a Next\.js matcher/],
    ['a matcher object (source, has)', [{ source: '/api/:path*', has: [{ type: 'header', key: 'x' }] }], /"source", "has"/],
    ['missing', [{ path: '/x', missing: [{ type: 'cookie', key: 'session' }] }], /"missing".*does not implement/],
    ['a path of another type', [{ path: 42 }], /must be a string, a RegExp or a function/],
    ['an empty list of rules', [], /non-empty array/],
  ])('throws a TypeError at authProxy() for %s', (_what, rules, message) => {
    expect(() => authProxy({ verifier, rules: rules as never })).toThrow(TypeError)
    expect(() => authProxy({ verifier, rules: rules as never })).toThrow(message)
  })
})

describe('options of withAuth and authProxy apply to their requirements', () => {
  it('withAuth answers a failed requirement with its realm, onError and onFailure', async () => {
    const onFailure = vi.fn()
    const withRealm = withAuth(async () => new Response('never'), { verifier, realm: 'orders', roles: 'admin', onFailure })
    const res = await withRealm(request('/x', bearer(userToken)), { params: Promise.resolve({}) })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="orders", error="insufficient_scope", error_description="insufficient role"',
    )
    expect(onFailure).toHaveBeenCalledWith(expect.objectContaining({ code: 'insufficient_scope' }), expect.any(NextRequest))
    const hooked = withAuth(async () => new Response('never'), {
      verifier,
      scopes: 'orders:write',
      onError: (error: AuthError) => Response.json({ mine: error.code }, { status: 418 }),
    })
    const custom = await hooked(request('/x', bearer(userToken)), { params: Promise.resolve({}) })
    expect(custom.status).toBe(418)
    expect(await custom.json()).toEqual({ mine: 'insufficient_scope' })
  })

  it("authProxy answers a rule's failed requirement with the proxy's realm, onError and onFailure", async () => {
    const onFailure = vi.fn()
    const proxy = authProxy({
      verifier,
      realm: 'orders',
      onFailure,
      onError: (error: AuthError) => (error.status === 403 ? Response.json({ mine: error.code }, { status: 418 }) : undefined),
      rules: [{ path: '/admin/*', roles: 'admin' }],
    })
    const custom = await proxy(request('/admin/x', bearer(userToken)))
    expect(custom.status).toBe(418)
    const missing = await proxy(request('/admin/x'))
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="orders"')
    expect(onFailure.mock.calls.map(([e]) => e.code)).toEqual(['insufficient_scope', 'missing_token'])
  })

  it('refuses two Authorization lines (joined by Headers) with 400 in the proxy, also on optional rules', async () => {
    const proxy = authProxy({ verifier, rules: [{ path: '/public/*', optional: true }, { path: '/:path*' }] })
    for (const path of ['/public/x', '/api/x']) {
      const headers = new Headers()
      headers.append('authorization', 'Basic dXNlcjpwYXNz')
      headers.append('authorization', `Bearer ${userToken}`)
      const res = await proxy(new NextRequest(`http://localhost:3000${path}`, { headers }))
      expect(res.status, path).toBe(400)
    }
  })
})
