import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import type { AuthContext } from 'bearer-guard'
import bearerGuard, { requireRole, type AuthHook } from 'bearer-guard/fastify'
import { adminToken, brokenVerifier, issuer, userToken, verifier } from './setup.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('bearer-guard/fastify', () => {
  it('registers from verifier options and serves request.auth over a real socket', async () => {
    app = Fastify()
    await app.register(bearerGuard, { ...issuer.verifierOptions('keys'), realm: 'orders' })
    app.get('/admin', { preHandler: [app.requireAuth(), requireRole('admin')] }, async (req) => ({
      sub: req.auth?.subject,
    }))
    const base = await app.listen({ port: 0, host: '127.0.0.1' })

    const ok = await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${adminToken}` } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ sub: 'admin-1' })
    const denied = await fetch(`${base}/admin`)
    expect(denied.status).toBe(401)
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="orders"')
  })

  it('rejects register() on bad options', async () => {
    app = Fastify()
    await expect(
      app.register(bearerGuard, { issuer: 'https://auth.test/' } as never),
    ).rejects.toThrow(TypeError)
  })

  it('declares request.auth as null until requireAuth runs', async () => {
    app = Fastify()
    await app.register(bearerGuard, { verifier })
    app.get('/open', async (req) => ({ auth: req.auth }))
    const res = await app.inject({
      url: '/open',
      headers: { authorization: `Bearer ${userToken}` },
    })
    expect(res.json()).toEqual({ auth: null })
  })

  it('lets the route options of app.requireAuth() override the plugin defaults', async () => {
    app = Fastify()
    await app.register(bearerGuard, { verifier, realm: 'plugin' })
    app.get('/a', { onRequest: app.requireAuth() }, async () => 'a')
    app.get('/b', { onRequest: app.requireAuth({ realm: 'route' }) }, async () => 'b')
    const a = await app.inject({ url: '/a' })
    const b = await app.inject({ url: '/b' })
    expect(a.headers['www-authenticate']).toBe('Bearer realm="plugin"')
    expect(b.headers['www-authenticate']).toBe('Bearer realm="route"')
  })

  it('leaves a non-AuthError to the Fastify error handler', async () => {
    app = Fastify()
    const handler = vi.fn(async () => 'never')
    app.setErrorHandler((error, _req, reply) =>
      reply.code(500).send({ host: (error as Error).message }),
    )
    await app.register(bearerGuard, { verifier: brokenVerifier() })
    app.get('/me', { preHandler: app.requireAuth() }, handler)
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } })
    expect(res.statusCode).toBe(500)
    expect(res.json()).toEqual({ host: 'database down' })
    expect(handler).not.toHaveBeenCalled()
  })

  it('sends the default answer when onError returns nothing and sends nothing', async () => {
    app = Fastify()
    await app.register(bearerGuard, { verifier, onError: () => undefined })
    app.get('/me', { preHandler: app.requireAuth() }, async () => 'never')
    const res = await app.inject({ url: '/me', headers: { authorization: 'Bearer' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'malformed authorization header',
    })
  })

  it('types request.auth and app.requireAuth by module augmentation', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthContext | null>()
    expectTypeOf<FastifyInstance['requireAuth']>().returns.toEqualTypeOf<AuthHook>()
    const misuse = async (f: FastifyInstance) => {
      // @ts-expect-error the plugin needs verifier options or { verifier }
      await f.register(bearerGuard, { realm: 'x' })
    }
    expect(misuse).toBeTypeOf('function')
  })
})
