import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  createVerifier,
  isAuthError,
  type AuthContext,
  type IssuerOptions,
  type JWTPayload,
} from 'bearer-guard'
import { requireAuth, requireRole, type AuthVariables } from 'bearer-guard/hono'
import { adminToken, brokenVerifier, issuer, userToken, verifier } from './setup.js'

describe('bearer-guard/hono', () => {
  it('sets c.var.auth, served by @hono/node-server on a real socket', async () => {
    const app = new Hono().get('/me', requireAuth(verifier), (c) =>
      c.json({ sub: c.var.auth.subject }),
    )
    const { base, close } = await new Promise<{ base: string; close: () => Promise<void> }>(
      (resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          resolve({
            base: `http://127.0.0.1:${info.port}`,
            close: () => new Promise((r) => server.close(() => r())),
          }),
        )
      },
    )
    try {
      const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${userToken}` } })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ sub: 'user-1' })
    } finally {
      await close()
    }
  })

  it('throws an HTTPException carrying the answer and the AuthError, so app.onError sees it', async () => {
    const seen: unknown[] = []
    const app = new Hono()
      .get('/admin', requireAuth(verifier), requireRole('admin'), (c) => c.text('ok'))
      .onError((error, c) => {
        seen.push(error)
        return error instanceof HTTPException ? error.getResponse() : c.text('host', 500)
      })
    const res = await app.request('/admin', { headers: { authorization: `Bearer ${userToken}` } })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'insufficient role',
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBeInstanceOf(HTTPException)
    expect(isAuthError((seen[0] as HTTPException).cause)).toBe(true)
  })

  it('leaves a non-AuthError to app.onError', async () => {
    const failure = new Error('database down')
    const app = new Hono()
      .get('/me', requireAuth(brokenVerifier(failure)), (c) => c.text('never'))
      .onError((error, c) => c.json({ host: error === failure }, 500))
    const res = await app.request('/me', { headers: { authorization: `Bearer ${userToken}` } })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ host: true })
  })

  it('accepts the admin through the same chain in process (app.request)', async () => {
    const app = new Hono().get('/admin', requireAuth(verifier), requireRole('admin'), (c) =>
      c.text(c.var.auth.subject ?? ''),
    )
    const res = await app.request('/admin', { headers: { authorization: `Bearer ${adminToken}` } })
    expect(await res.text()).toBe('admin-1')
  })

  it('types c.var.auth: AuthContext, claims from a zod schema, undefined only when optional', () => {
    const typed = createVerifier({
      ...(issuer.verifierOptions('keys') as IssuerOptions<undefined>),
      claims: z.looseObject({ tenant: z.string() }),
    })
    new Hono()
      .get('/plain', requireAuth(verifier), requireRole('admin'), (c) => {
        expectTypeOf(c.var.auth).toEqualTypeOf<AuthContext<JWTPayload>>()
        return c.text('')
      })
      .get('/typed', requireAuth(typed), requireRole('admin'), (c) => {
        expectTypeOf(c.get('auth').claims.tenant).toEqualTypeOf<string>()
        return c.text('')
      })
      .get('/optional', requireAuth(verifier, { optional: true }), (c) => {
        expectTypeOf(c.var.auth).toEqualTypeOf<AuthContext<JWTPayload> | undefined>()
        return c.text('')
      })
      .get('/maybe', requireAuth(verifier, { optional: Math.random() > 2 }), (c) => {
        expectTypeOf(c.var.auth).toEqualTypeOf<AuthContext<JWTPayload> | undefined>()
        return c.text('')
      })
    const app = new Hono<{ Variables: AuthVariables<{ tenant: string }> }>()
    app.use(requireAuth(typed))
    expectTypeOf<AuthVariables['auth']>().toEqualTypeOf<AuthContext>()
    expect(app.routes).toHaveLength(1)
  })
})
