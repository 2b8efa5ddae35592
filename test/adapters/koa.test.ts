import Koa, { type DefaultState } from 'koa'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { z } from 'zod'
import { createVerifier, type AuthContext, type IssuerOptions } from 'bearer-guard'
import { requireAuth, requireScopes } from 'bearer-guard/koa'
import { listen } from './harnesses/listen.js'
import { brokenVerifier, issuer, userToken, verifier } from './setup.js'

describe('bearer-guard/koa', () => {
  it('sets ctx.state.auth over a real socket', async () => {
    const app = new Koa().use(requireAuth(verifier)).use((ctx) => {
      ctx.body = { sub: ctx.state.auth?.subject }
    })
    const server = await listen(app.callback())
    try {
      const res = await server.fetch('/', `Bearer ${userToken}`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ sub: 'user-1' })
    } finally {
      await server.close()
    }
  })

  it('answers with status, headers and JSON body set directly (no ctx.throw)', async () => {
    const errors = vi.fn()
    const app = new Koa().use(requireAuth(verifier)).use(requireScopes('orders:write'))
    app.on('error', errors)
    const server = await listen(app.callback())
    try {
      const res = await server.fetch('/', `Bearer ${userToken}`)
      expect(res.status).toBe(403)
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="orders:write"',
      )
      expect(await res.json()).toEqual({
        error: 'insufficient_scope',
        error_description: 'insufficient scope',
      })
      expect(errors).not.toHaveBeenCalled()
    } finally {
      await server.close()
    }
  })

  it('lets a non-AuthError reach Koa error handling', async () => {
    const errors: unknown[] = []
    const failure = new Error('database down')
    const app = new Koa().use(requireAuth(brokenVerifier(failure))).use((ctx) => {
      ctx.body = 'never'
    })
    app.silent = true
    app.on('error', (error) => errors.push(error))
    const server = await listen(app.callback())
    try {
      const res = await server.fetch('/', `Bearer ${userToken}`)
      expect(res.status).toBe(500)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBe(failure)
    } finally {
      await server.close()
    }
  })

  it('types ctx.state.auth, with the claims of a zod-typed verifier', () => {
    expectTypeOf<DefaultState['auth']>().toEqualTypeOf<AuthContext | undefined>()
    const typed = createVerifier({
      ...(issuer.verifierOptions('keys') as IssuerOptions<undefined>),
      claims: z.looseObject({ tenant: z.string() }),
    })
    const app = new Koa().use(requireAuth(typed)).use((ctx) => {
      expectTypeOf(ctx.state.auth!.claims.tenant).toEqualTypeOf<string>()
    })
    expect(app.middleware).toHaveLength(2)
  })
})
