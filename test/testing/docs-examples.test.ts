/**
 * The users' tests shown in docs/testing.md, run as written (package imports resolve to src/).
 */
import express from 'express'
import Fastify from 'fastify'
import { createServer, type Server } from 'node:http'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, type IssuerOptions } from 'bearer-guard'
import { requireAuth, requireRole } from 'bearer-guard/express'
import bearerGuard, { requireScopes } from 'bearer-guard/fastify'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'

// --- docs/testing.md: Express ------------------------------------------------------------------

function buildExpressApp(verifierOptions: Parameters<typeof requireAuth>[0]) {
  const app = express()
  app.use('/api', requireAuth(verifierOptions))
  app.get('/api/me', (req, res) => res.json({ sub: req.auth?.subject }))
  app.get('/api/admin', requireRole('admin'), (_req, res) => res.json({ ok: true }))
  return app
}

describe('Express route (docs/testing.md)', () => {
  let issuer: TestIssuer
  let server: Server
  let base: string

  beforeAll(async () => {
    issuer = await createTestIssuer()
    server = createServer(buildExpressApp(issuer.verifierOptions()))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    base = `http://127.0.0.1:${port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const get = (path: string, token?: string) =>
    fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} })

  it('answers 200 with a valid token', async () => {
    const res = await get('/api/me', await issuer.sign({}, { subject: 'alice' }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ sub: 'alice' })
  })

  it('answers 401 without a token', async () => {
    const res = await get('/api/me')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/)
  })

  it('answers 401 invalid_token for an expired token', async () => {
    const res = await get('/api/me', await issuer.expired())
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'invalid_token' })
  })

  it('answers 403 without the role, 200 with it', async () => {
    expect((await get('/api/admin', await issuer.sign({ roles: ['user'] }))).status).toBe(403)
    expect((await get('/api/admin', await issuer.sign({ roles: ['admin'] }))).status).toBe(200)
  })
})

// --- docs/testing.md: Fastify with msw ---------------------------------------------------------

describe('Fastify route with discovery served by msw (docs/testing.md)', () => {
  const mswServer = setupServer()
  let issuer: TestIssuer

  beforeAll(async () => {
    issuer = await createTestIssuer({ issuer: 'https://login.example.test', algorithm: 'ES256' })
    mswServer.listen({ onUnhandledRequest: 'error' })
  })
  afterEach(() => mswServer.resetHandlers())
  afterAll(() => mswServer.close())

  async function buildApp(overrides: Partial<IssuerOptions> = {}) {
    const app = Fastify()
    // no key source: the verifier discovers the JWKS from the issuer, over (mocked) HTTP
    await app.register(bearerGuard, issuer.verifierOptions('discovery', overrides))
    app.get('/orders', { preHandler: [app.requireAuth(), requireScopes('orders:read')] }, (req) => ({
      user: req.auth?.subject,
    }))
    return app
  }

  it('accepts a token with the scope', async () => {
    mswServer.use(...(await issuer.mswHandlers()))
    const app = await buildApp()
    const token = await issuer.sign({ scope: 'orders:read' })
    const res = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ user: 'user-123' })
  })

  it('answers 403 insufficient_scope without it', async () => {
    mswServer.use(...(await issuer.mswHandlers()))
    const app = await buildApp()
    const token = await issuer.sign({ scope: 'profile' })
    const res = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } })
    expect(res.statusCode).toBe(403)
    expect(res.headers['www-authenticate']).toContain('scope="orders:read"')
  })

  it('answers 503 when the issuer is down, and warns why', async () => {
    issuer.simulate('all', 500)
    mswServer.use(...(await issuer.mswHandlers()))
    const warn = vi.fn() // the outage is on purpose: assert the warning instead of printing it
    const app = await buildApp({ logger: { warn } })
    const res = await app.inject({
      url: '/orders',
      headers: { authorization: `Bearer ${await issuer.sign({ scope: 'orders:read' })}` },
    })
    issuer.simulate('all', null)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toMatch(/^\d+$/)
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('openid-configuration answered 500'))
  })
})

// --- docs/testing.md: a verifier alone ---------------------------------------------------------

it('verifies a token against a real loopback issuer (docs/testing.md)', async () => {
  const issuer = await createTestIssuer({ listen: true })
  try {
    const verifier = createVerifier(issuer.verifierOptions('discovery'))
    const auth = await verifier.verifyAccessToken(await issuer.sign({ roles: ['admin'] }))
    expect(auth.roles).toEqual(['admin'])
  } finally {
    await issuer.close()
  }
})

// --- docs/testing.md: verifierOptions(mode), warnings ------------------------------------------

it('asserts the warning of an outage made on purpose, or mutes it (docs/testing.md)', async () => {
  const issuer = await createTestIssuer()
  issuer.simulate('jwks', 500)
  const warn = vi.fn()
  const verifier = createVerifier(issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch }, logger: { warn } }))
  await expect(verifier.verifyAccessToken(await issuer.sign())).rejects.toMatchObject({ status: 503 })
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('answered 500'))

  const muted = createVerifier(issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch }, logger: false }))
  const printed = vi.spyOn(console, 'warn').mockImplementation(() => {})
  try {
    await expect(muted.verifyAccessToken(await issuer.sign())).rejects.toMatchObject({ status: 503 })
    expect(printed).not.toHaveBeenCalled()
  } finally {
    printed.mockRestore()
  }
})
