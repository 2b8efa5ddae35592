import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler, type Request } from 'express'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import type { AuthContext, AuthError, JWTPayload } from 'bearer-guard'
import { requireAuth, requireRole } from 'bearer-guard/express'
import { listen } from './harnesses/listen.js'
import { adminToken, brokenVerifier, userToken, verifier } from './setup.js'

/** Sends raw header lines (repeated names stay separate lines on the wire). */
async function rawGet(url: string, headers: [string, string][]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET' })
    for (const [name, value] of headers) req.appendHeader(name, value)
    req
      .on('response', (res) => resolve(res.statusCode ?? 0))
      .on('error', reject)
      .end()
  })
}

describe('bearer-guard/express', () => {
  it('sets req.auth and calls the next handler over a real socket', async () => {
    const app = express().get('/me', requireAuth(verifier), (req, res) => {
      res.json({ sub: req.auth?.subject, roles: req.auth?.roles })
    })
    const server = await listen(app)
    try {
      const res = await server.fetch('/me', `Bearer ${adminToken}`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ sub: 'admin-1', roles: ['admin'] })
    } finally {
      await server.close()
    }
  })

  it('rejects two Authorization header lines with 400, though Node keeps only the first in req.headers', async () => {
    const handler = vi.fn((_req, res) => res.end())
    const app = express().get('/me', requireAuth(verifier), handler)
    const server = createRaw(app)
    const base = await server.ready
    try {
      const status = await rawGet(`${base}/me`, [
        ['authorization', `Bearer ${userToken}`],
        ['authorization', `Bearer ${adminToken}`],
      ])
      expect(status).toBe(400)
      expect(handler).not.toHaveBeenCalled()
    } finally {
      await server.close()
    }
  })

  it('passes a non-AuthError to the Express error handler (async, no express-async-errors)', async () => {
    const seen: unknown[] = []
    const onError: ErrorRequestHandler = (err, _req, res, _next) => {
      seen.push(err)
      res.status(500).json({ host: true })
    }
    const app = express()
      .get('/me', requireAuth(brokenVerifier()), (_req, res) => res.end())
      .use(onError)
    const server = await listen(app)
    try {
      const res = await server.fetch('/me', `Bearer ${userToken}`)
      expect(res.status).toBe(500)
      expect(await res.json()).toEqual({ host: true })
      expect(seen).toEqual([new Error('database down')])
    } finally {
      await server.close()
    }
  })

  it('sends the default answer when onError neither sends nor returns a truthy value', async () => {
    const onError = vi.fn(() => undefined)
    const app = express().get('/me', requireAuth(verifier, { onError }), (_req, res) => res.end())
    const server = await listen(app)
    try {
      const res = await server.fetch('/me')
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
      expect(onError).toHaveBeenCalledOnce()
    } finally {
      await server.close()
    }
  })

  it('tells onFailure the detailed reason and keeps it out of the answer', async () => {
    const reasons: string[] = []
    const app = express().get(
      '/admin',
      requireAuth(verifier),
      requireRole('admin', { onFailure: (error: AuthError) => reasons.push(error.reason) }),
      (_req, res) => res.end(),
    )
    const server = await listen(app)
    try {
      const res = await server.fetch('/admin', `Bearer ${userToken}`)
      const text = await res.text()
      expect(res.status).toBe(403)
      expect(reasons).toHaveLength(1)
      expect(reasons[0]).toContain('role check failed')
      expect(text).not.toContain('role check failed')
    } finally {
      await server.close()
    }
  })

  it('validates verifier options when the middleware is built, not at the first request', () => {
    expect(() => requireAuth({ issuer: 'https://auth.test/' } as never)).toThrow(TypeError)
  })

  it('types req.auth through declaration merging', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf<NonNullable<Request['auth']>['claims']>().toEqualTypeOf<JWTPayload>()
    const misuse = () => {
      // @ts-expect-error requireRole takes role names, not a number
      requireRole(1)
      // @ts-expect-error onError receives (error, req, res), and req has no `state`
      requireAuth(verifier, { onError: (_e, req) => req.state })
    }
    expect(misuse).toBeTypeOf('function')
  })
})

/** A plain http.Server around the app, for raw requests. */
function createRaw(app: express.Express) {
  const server = app.listen(0, '127.0.0.1')
  const ready = new Promise<string>((resolve) =>
    server.once('listening', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
  return { ready, close: () => new Promise<void>((r) => server.close(() => r())) }
}
