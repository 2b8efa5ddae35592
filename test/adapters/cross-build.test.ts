/**
 * Two builds of bearer-guard in one app: each adapter from a CommonJS bundle (its own copy of the
 * core and of the `AuthError` classes) with a verifier of this (ESM) copy. The conformance table
 * runs the other direction (ESM adapters, a verifier of a CJS bundle).
 */
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { NextRequest } from 'next/server'
import { afterAll, describe, expect, it } from 'vitest'
import { MissingTokenError } from 'bearer-guard'
import { listen } from './harnesses/listen.js'
import { buildSecondCopy } from './second-copy.js'
import { adminToken, userToken, verifier } from './setup.js'

type Adapter = Record<string, any>
const copy = await buildSecondCopy({
  core: 'src/index.ts',
  express: 'src/adapters/express.ts',
  fastify: 'src/adapters/fastify.ts',
  koa: 'src/adapters/koa.ts',
  hono: 'src/adapters/hono.ts',
  next: 'src/adapters/next.ts',
})
afterAll(() => copy.dispose())

describe('the second copy', () => {
  it('has its own error classes, recognized by the brand only', () => {
    const other = copy.load('core')
    expect(other.MissingTokenError).not.toBe(MissingTokenError)
    const error = new other.MissingTokenError()
    expect(error).not.toBeInstanceOf(MissingTokenError)
    expect(other.isAuthError(new MissingTokenError())).toBe(true)
  })
})

/** What every adapter answers: no token → anonymous, a valid one → its subject, a guard → 403. */
async function expectOptionalAcrossBuilds(
  fetch: (path: string, authorization?: string) => Promise<Response>,
): Promise<void> {
  const anonymous = await fetch('/optional')
  expect(anonymous.status).toBe(200)
  expect(await anonymous.json()).toEqual({ sub: null })
  const user = await fetch('/optional', `Bearer ${userToken}`)
  expect(await user.json()).toEqual({ sub: 'user-1' })
  const refused = await fetch('/admin', `Bearer ${userToken}`)
  expect(refused.status).toBe(403)
  expect(refused.headers.get('www-authenticate')).toBe(
    'Bearer realm="orders", error="insufficient_scope", error_description="insufficient role"',
  )
  expect((await fetch('/admin', `Bearer ${adminToken}`)).status).toBe(200)
  const missing = await fetch('/admin')
  expect(missing.status).toBe(401)
  expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="orders"')
}

describe('an adapter of the CJS build with a verifier of the ESM build', () => {
  it('Express: optional auth lets a request without a token through', async () => {
    const { requireAuth, requireRole } = copy.load<Adapter>('express')
    const app = express()
    const handler = (req: express.Request, res: express.Response) => res.json({ sub: req.auth?.subject ?? null })
    app.get('/optional', requireAuth(verifier, { optional: true }), handler)
    app.get('/admin', requireAuth(verifier, { realm: 'orders' }), requireRole('admin'), handler)
    const server = await listen(app)
    try {
      await expectOptionalAcrossBuilds(server.fetch)
    } finally {
      await server.close()
    }
  })

  it('Koa: optional auth lets a request without a token through', async () => {
    const { requireAuth, requireRole } = copy.load<Adapter>('koa')
    const optional = requireAuth(verifier, { optional: true })
    const admin = [requireAuth(verifier, { realm: 'orders' }), requireRole('admin')]
    const app = new Koa().use(async (ctx, next) => {
      const chain = ctx.path === '/optional' ? [optional] : [...admin]
      const run = async (i: number): Promise<void> => {
        if (i < chain.length) return chain[i](ctx, () => run(i + 1))
        ctx.body = { sub: ctx.state.auth?.subject ?? null }
      }
      await run(0)
      await next()
    })
    const server = await listen(app.callback())
    try {
      await expectOptionalAcrossBuilds(server.fetch)
    } finally {
      await server.close()
    }
  })

  it('Fastify: optional auth lets a request without a token through', async () => {
    const { default: bearerGuard, requireRole } = copy.load<Adapter>('fastify')
    const app = Fastify()
    await app.register(bearerGuard, { verifier })
    const handler = async (req: { auth: { subject?: string } | null }) => ({ sub: req.auth?.subject ?? null })
    app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, handler)
    app.get('/admin', { preHandler: [app.requireAuth({ realm: 'orders' }), requireRole('admin')] }, handler)
    const inject = async (path: string, authorization?: string) => {
      const res = await app.inject({ url: path, headers: authorization ? { authorization } : {} })
      return new Response(res.body, { status: res.statusCode, headers: res.headers as Record<string, string> })
    }
    try {
      await expectOptionalAcrossBuilds(inject)
    } finally {
      await app.close()
    }
  })

  it('Hono: optional auth lets a request without a token through', async () => {
    const { requireAuth, requireRole } = copy.load<Adapter>('hono')
    const app = new Hono<{ Variables: { auth?: { subject?: string } } }>()
    const handler = (c: any) => c.json({ sub: c.get('auth')?.subject ?? null })
    app.get('/optional', requireAuth(verifier, { optional: true }), handler)
    app.get('/admin', requireAuth(verifier, { realm: 'orders' }), requireRole('admin'), handler)
    await expectOptionalAcrossBuilds(async (path, authorization) =>
      app.request(path, { headers: authorization ? { authorization } : {} }),
    )
  })

  it('Next.js: optional auth lets a request without a token through', async () => {
    const { withAuth } = copy.load<Adapter>('next')
    const handler = async (_req: unknown, { auth }: { auth?: { subject?: string } }) =>
      Response.json({ sub: auth?.subject ?? null })
    const routes: Record<string, (req: NextRequest, ctx: object) => Promise<Response>> = {
      '/optional': withAuth(handler, { verifier, optional: true }),
      '/admin': withAuth(handler, { verifier, realm: 'orders', roles: 'admin' }),
    }
    await expectOptionalAcrossBuilds(async (path, authorization) =>
      (routes[path] as (typeof routes)[string])(
        new NextRequest(`http://localhost${path}`, { headers: authorization ? { authorization } : {} }),
        { params: Promise.resolve({}) },
      ),
    )
  })
})
