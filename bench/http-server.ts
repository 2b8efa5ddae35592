/**
 * One HTTP server for the HTTP benchmark, run in its own process so that autocannon (in the
 * parent) and the server do not share an event loop.
 *
 * `node --import tsx bench/http-server.ts <express|fastify> <none|noop|floor|min|bg|nocache|peer|fjwt>`; reads
 * JWKS_URI, listens on 127.0.0.1 (free port) and prints `{"port":…,"note":…}` on one line when ready.
 *
 * `floor`: a middleware doing only `crypto.verify` of each request's token, split at its last dot
 * (no JSON, no claim, no key lookup): the RSA work a never-seen token costs inside the server.
 * `nocache`: bearer-guard with `cache: false`.
 * `fjwt` (Fastify only): @fastify/jwt, the plugin Fastify's documentation points to (fast-jwt underneath).
 * `min` (Fastify only): the floor plus the least any JWT check does (parse header and payload; alg,
 * kid, iss, aud, exp, nbf): a lower bound for any verifier, never one to use.
 */
import express from 'express'
import { auth as auth0 } from 'express-oauth2-jwt-bearer'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { AddressInfo } from 'node:net'
import type { Framework, Mode } from './http.js'
import { AUDIENCE, ISSUER } from './lib/fixtures.js'
import { floorKey, floorVerify, minimalCheck } from './lib/floor.js'
import { loadBearerGuard, loadExpressAdapter, loadFastifyAdapter } from './lib/target.js'

const [framework, mode] = process.argv.slice(2) as [Framework, Mode]
const jwksUri = process.env.JWKS_URI as string
const options = { issuer: ISSUER, audience: AUDIENCE, jwksUri, algorithms: ['RS256' as const] }

async function verifier() {
  const { createVerifier } = await loadBearerGuard()
  const v = createVerifier(mode === 'nocache' ? { ...options, cache: false } : options)
  await v.warmUp()
  return v
}

async function startExpress(): Promise<{ port: number; note: string }> {
  if (mode === 'fjwt' || mode === 'min') throw new Error(`${mode} is a Fastify-only mode`)
  const app = express()
  app.disable('x-powered-by')
  let note = ''
  const handler = (req: express.Request, res: express.Response) => {
    const r = req as { auth?: { subject?: string; payload?: { sub?: string } } }
    res.json({ ok: true, sub: r.auth?.subject ?? r.auth?.payload?.sub })
  }
  if (mode === 'bg' || mode === 'nocache') {
    const { requireAuth } = await loadExpressAdapter()
    app.get('/orders', requireAuth(await verifier()), handler)
    note = `bearer-guard/express requireAuth${mode === 'nocache' ? ', cache: false' : ''}`
  } else if (mode === 'floor') {
    const key = await floorKey(jwksUri)
    app.get(
      '/orders',
      (req, res, next) => (floorVerify(key, req.headers.authorization, 7) ? next() : void res.status(401).end()),
      handler,
    )
    note = 'a middleware doing only crypto.verify of the pre-split token'
  } else if (mode === 'peer') {
    app.get('/orders', auth0({ issuer: ISSUER, audience: AUDIENCE, jwksUri, tokenSigningAlg: 'RS256' }), handler)
    note = 'express-oauth2-jwt-bearer auth()'
  } else if (mode === 'noop') {
    // what any middleware costs: an async one that only calls next()
    app.get('/orders', async (_req, _res, next) => next(), handler)
    note = 'an async middleware that only calls next()'
  } else {
    app.get('/orders', handler)
  }
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { port: (server.address() as AddressInfo).port, note }
}

async function startFastify(): Promise<{ port: number; note: string }> {
  const app = Fastify({ logger: false })
  let note = ''
  const handler = async (request: FastifyRequest) => {
    const r = request as unknown as { auth?: { subject?: string } | null; user?: { sub?: string } }
    return { ok: true, sub: r.auth?.subject ?? r.user?.sub }
  }
  if (mode === 'bg' || mode === 'nocache') {
    const { bearerGuard } = await loadFastifyAdapter()
    await app.register(bearerGuard, { verifier: await verifier() })
    const guarded = app as unknown as { requireAuth(): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }
    app.get('/orders', { preHandler: guarded.requireAuth() }, handler)
    note = `bearer-guard/fastify plugin, app.requireAuth()${mode === 'nocache' ? ', cache: false' : ''}`
  } else if (mode === 'floor') {
    const key = await floorKey(jwksUri)
    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!floorVerify(key, request.headers.authorization, 7)) return reply.code(401).send()
    }
    app.get('/orders', { preHandler }, handler)
    note = 'an async preHandler doing only crypto.verify of the pre-split token'
  } else if (mode === 'peer') {
    // what a Fastify user writes by hand with jose (the issue's row; @fastify/jwt is `fjwt`)
    const jwks = createRemoteJWKSet(new URL(jwksUri))
    await jwks.reload()
    app.decorateRequest('user', null as never) // @fastify/jwt's types (the fjwt mode) declare `user`
    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization
      if (!header?.startsWith('Bearer ')) return reply.code(401).send({ error: 'missing_token' })
      try {
        const { payload } = await jwtVerify(header.slice(7), jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] })
        ;(request as unknown as { user: unknown }).user = payload
      } catch {
        return reply.code(401).send({ error: 'invalid_token' })
      }
    }
    app.get('/orders', { preHandler }, handler)
    note = 'hand-written jose preHandler (createRemoteJWKSet + jwtVerify)'
  } else if (mode === 'fjwt') {
    // what Fastify's own plugin does (fast-jwt underneath): the JWKS' RSA key as PEM, fetched once
    // (no JWKS fetcher), fast-jwt's cache left off as by default
    const { default: fastifyJwt } = await import('@fastify/jwt')
    const pem = (await floorKey(jwksUri)).export({ type: 'spki', format: 'pem' }) as string
    await app.register(fastifyJwt, { secret: { public: pem, private: 'unused: this server only verifies' }, verify: { algorithms: ['RS256'], allowedIss: ISSUER, allowedAud: AUDIENCE } })
    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await request.jwtVerify()
      } catch {
        return reply.code(401).send({ error: 'invalid_token' })
      }
    }
    app.get('/orders', { preHandler }, handler)
    note = '@fastify/jwt (fast-jwt) with the key as PEM, request.jwtVerify() in a preHandler'
  } else if (mode === 'min') {
    const check = await minimalCheck(jwksUri, ISSUER, AUDIENCE)
    app.decorateRequest('user', null as never)
    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const payload = check(request.headers.authorization)
      if (!payload) return reply.code(401).send()
      ;(request as unknown as { user: unknown }).user = payload
    }
    app.get('/orders', { preHandler }, handler)
    note = 'the least a JWT check is: the floor + parse header and payload, alg, kid, iss, aud, exp, nbf'
  } else if (mode === 'noop') {
    app.get('/orders', { preHandler: async () => {} }, handler)
    note = 'an async preHandler that does nothing'
  } else {
    app.get('/orders', handler)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, note }
}

const ready = framework === 'express' ? await startExpress() : await startFastify()
process.stdout.write(`${JSON.stringify(ready)}\n`)
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
