import { NextRequest } from 'next/server'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  createVerifier,
  FORWARDED_IDENTITY_HEADERS,
  type AuthContext,
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
