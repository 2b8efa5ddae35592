/**
 * RFC 9728 in the adapters beyond the conformance table: options checked when the middleware is
 * built, the Fastify plugin's default, `resourceMetadata: true` behind a trusted proxy, the metadata
 * under a mounted router, and the Nest module option with forRootAsync.
 */
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { NextRequest } from 'next/server'
import { describe, expect, it } from 'vitest'
import { createVerifier, type IssuerOptions } from 'bearer-guard'
import * as expressAdapter from 'bearer-guard/express'
import fastifyPlugin, * as fastifyAdapter from 'bearer-guard/fastify'
import * as honoAdapter from 'bearer-guard/hono'
import * as koaAdapter from 'bearer-guard/koa'
import { BearerGuardModule, AuthOptions } from 'bearer-guard/nestjs'
import * as nextAdapter from 'bearer-guard/next'
import { listen } from './harnesses/listen.js'
import { issuer, userToken, verifier } from './setup.js'

const RESOURCE = 'https://mcp.example.test/mcp'
const METADATA = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp'

describe('resourceMetadata is checked when the middleware is built', () => {
  const builders: [string, (resourceMetadata: unknown) => unknown][] = [
    ['express', (resourceMetadata) => expressAdapter.requireAuth(verifier, { resourceMetadata } as never)],
    ['fastify', (resourceMetadata) => fastifyAdapter.requireAuth(verifier, { resourceMetadata } as never)],
    ['koa', (resourceMetadata) => koaAdapter.requireAuth(verifier, { resourceMetadata } as never)],
    ['hono', (resourceMetadata) => honoAdapter.requireAuth(verifier, { resourceMetadata } as never)],
    ['next withAuth', (resourceMetadata) => nextAdapter.withAuth(() => new Response(), { verifier, resourceMetadata } as never)],
    ['next authProxy', (resourceMetadata) => nextAdapter.authProxy({ verifier, resourceMetadata } as never)],
    ['nestjs forRoot', (resourceMetadata) => BearerGuardModule.forRoot(verifier, { resourceMetadata } as never)],
    ['nestjs @AuthOptions', (resourceMetadata) => AuthOptions({ resourceMetadata } as never)],
  ]
  it.each(builders)('%s: a relative URL, a fragment or false is a TypeError', (_name, build) => {
    for (const bad of ['/.well-known/oauth-protected-resource', `${METADATA}#x`, false, 'ftp://x.test/']) {
      expect(() => build(bad)).toThrow(/^bearer-guard: invalid option "resourceMetadata": expected true or an absolute http\(s\) URL/)
    }
    expect(() => build(METADATA)).not.toThrow()
    expect(() => build(new URL(METADATA))).not.toThrow()
    expect(() => build(true)).not.toThrow()
  })
})

describe('resourceMetadata in the adapters', () => {
  it('fastify: a default of the plugin, for every app.requireAuth()', async () => {
    const app = Fastify()
    await app.register(fastifyPlugin, { verifier, resourceMetadata: METADATA })
    app.get('/mcp', { preHandler: app.requireAuth() }, async () => ({ ok: true }))
    const res = await app.inject({ url: '/mcp' })
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="api", resource_metadata="${METADATA}"`)
    await app.close()
  })

  it('express: true without a resource follows the proxy the app trusts', async () => {
    const app = express().set('trust proxy', 'loopback')
    app.post('/mcp', expressAdapter.requireAuth(verifier, { resourceMetadata: true }), (_req, res) => res.end())
    const server = await listen(app)
    try {
      const res = await server.fetch('/mcp?session=1', undefined, undefined, {
        method: 'POST',
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.test' },
      })
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", resource_metadata="${METADATA}"`)
    } finally {
      await server.close()
    }
  })

  it('a guard with no requireAuth before it adds no parameter (it knows no resource)', async () => {
    const app = new Hono().get('/x', honoAdapter.requireScopes('tools:read'), (c) => c.text('ok'))
    const res = await app.request('/x')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
  })

  it('next authProxy: the challenge of a refused path carries it', async () => {
    const proxy = nextAdapter.authProxy({ verifier, resourceMetadata: METADATA })
    const res = await proxy(new NextRequest('https://mcp.example.test/mcp'))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", resource_metadata="${METADATA}"`)
  })

  it('koa: a 403 of a guard after requireAuth(…, { resourceMetadata: true }) names the verifier resource', async () => {
    const { audience: _a, ...keyed } = issuer.verifierOptions('keys') as IssuerOptions<undefined>
    const mcp = createVerifier({ ...keyed, resource: RESOURCE })
    const token = await issuer.sign({ sub: 'u', scope: 'tools:read' }, { audience: RESOURCE })
    const app = new Koa()
    app.use(koaAdapter.requireAuth(mcp, { resourceMetadata: true }))
    app.use(koaAdapter.requireScopes('tools:call'))
    app.use((ctx) => {
      ctx.body = 'ran'
    })
    const server = await listen(app.callback())
    try {
      const res = await server.fetch('/anything', `Bearer ${token}`)
      expect(res.status).toBe(403)
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="tools:call", resource_metadata="${METADATA}"`,
      )
      // the token is fine for the resource: 200 with the scope it has
      const ok = await server.fetch('/anything', `Bearer ${await issuer.sign({ sub: 'u', scope: 'tools:call' }, { audience: RESOURCE })}`)
      expect(await ok.text()).toBe('ran')
      // and a token of the same issuer for another audience is refused
      expect((await server.fetch('/anything', `Bearer ${userToken}`)).status).toBe(401)
    } finally {
      await server.close()
    }
  })
})

describe('protectedResource in the adapters', () => {
  it('is checked when built, in every adapter', () => {
    const bad = { resource: 'http://mcp.example.test/mcp' }
    for (const build of [
      expressAdapter.protectedResource,
      fastifyAdapter.protectedResource,
      koaAdapter.protectedResource,
      honoAdapter.protectedResource,
      nextAdapter.protectedResource,
    ]) {
      expect(() => build(bad)).toThrow(/invalid option "resource": must use https/)
    }
    expect(() => BearerGuardModule.forRoot(verifier, { protectedResource: bad })).toThrow(/must use https/)
  })

  it('express: serves the absolute path when mounted under a router, and nothing under the mount path', async () => {
    const router = express.Router().use(expressAdapter.protectedResource({ resource: RESOURCE }))
    const app = express().use('/api', router).use((_req, res) => res.status(404).end())
    const server = await listen(app)
    try {
      expect((await server.fetch('/api/.well-known/oauth-protected-resource/mcp')).status).toBe(404)
      const top = express().use(router)
      const other = await listen(top)
      try {
        expect(await (await other.fetch('/.well-known/oauth-protected-resource/mcp')).json()).toMatchObject({ resource: RESOURCE })
      } finally {
        await other.close()
      }
    } finally {
      await server.close()
    }
  })

  it('nestjs: forRootAsync needs the resource in the option (the route is declared before the verifier exists)', () => {
    const useFactory = () => verifier
    expect(() => BearerGuardModule.forRootAsync({ useFactory, protectedResource: { authorizationServers: ['https://a.test'] } })).toThrow(
      /"protectedResource\.resource": is required with forRootAsync/,
    )
    const module = BearerGuardModule.forRootAsync({ useFactory, protectedResource: { resource: RESOURCE } })
    expect(module.controllers).toHaveLength(1)
    // forRoot takes the resource from the module's verifier
    const { audience: _a, ...keyed } = issuer.verifierOptions('keys') as IssuerOptions<undefined>
    expect(BearerGuardModule.forRoot(createVerifier({ ...keyed, resource: RESOURCE }), { protectedResource: {} }).controllers).toHaveLength(1)
    expect(() => BearerGuardModule.forRoot(verifier, { protectedResource: {} })).toThrow(/"resource": is required/)
  })
})
