/**
 * Certificate-bound tokens (RFC 8705 §3) over real mutual TLS: a token with `cnf["x5t#S256"]` is
 * accepted from the client holding that certificate and refused from any other, in Express,
 * Fastify, Koa, Hono (on @hono/node-server) and NestJS on both of its platforms (the global guard of
 * `BearerGuardModule.forRoot`); behind a TLS-terminating proxy, `mtls.certificate` reads the
 * certificate the proxy passes on. Certificates are made when the test runs.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Controller, Get, Module, type NestApplicationOptions, type Type } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, type Verifier, type VerifierOptions } from 'bearer-guard'
import { requireAuth as expressAuth } from 'bearer-guard/express'
import { requireAuth as fastifyAuth } from 'bearer-guard/fastify'
import { requireAuth as honoAuth } from 'bearer-guard/hono'
import { requireAuth as koaAuth } from 'bearer-guard/koa'
import { Auth, BearerGuardModule, type AuthContext } from 'bearer-guard/nestjs'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { createCertificate, type TestCertificate } from './harnesses/tls.js'

interface Served {
  base: string
  close(): Promise<void>
}

type Start = (verifier: Verifier, tls: ServerOptions) => Promise<Served>

async function serveNode(listener: RequestListener, tls: ServerOptions): Promise<Served> {
  const server: Server = createHttpsServer(tls, listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { base: `https://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) }
}

/** A Nest app whose global guard (`forRoot`) protects `GET /me`, served over TLS by either platform. */
async function serveNest(verifier: Verifier, tls: ServerOptions, platform: 'express' | 'fastify'): Promise<Served> {
  @Controller()
  class MeController {
    @Get('me') me(@Auth() auth: AuthContext) {
      return { sub: auth.subject, x5t: auth.confirmation?.['x5t#S256'] }
    }
  }
  @Module({ imports: [BearerGuardModule.forRoot(verifier, { global: true })], controllers: [MeController] })
  class AppModule {}
  // Express: Nest makes the HTTPS server from `httpsOptions`; Fastify: the adapter makes its instance
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter({ https: tls })
  const app = await NestFactory.create(AppModule as Type, adapter, { logger: false, abortOnError: false, ...(platform === 'express' ? { httpsOptions: tls as NestApplicationOptions['httpsOptions'] } : {}) })
  await app.listen(0, '127.0.0.1')
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo
  return { base: `https://127.0.0.1:${port}`, close: () => app.close() }
}

const frameworks: [string, Start][] = [
  ['express', (verifier, tls) => {
    const app = express()
    app.get('/me', expressAuth(verifier), (req, res) => res.json({ sub: req.auth?.subject, x5t: req.auth?.confirmation?.['x5t#S256'] }))
    return serveNode(app, tls)
  }],
  ['fastify', async (verifier, tls) => {
    const app = Fastify({ https: tls })
    app.get('/me', { preHandler: fastifyAuth(verifier) }, async (request) => ({ sub: request.auth?.subject, x5t: request.auth?.confirmation?.['x5t#S256'] }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    return { base: `https://127.0.0.1:${port}`, close: () => app.close() }
  }],
  ['koa', (verifier, tls) => {
    const app = new Koa()
    app.use(koaAuth(verifier))
    app.use((ctx) => {
      ctx.body = { sub: ctx.state.auth?.subject, x5t: ctx.state.auth?.confirmation?.['x5t#S256'] }
    })
    return serveNode(app.callback(), tls)
  }],
  ['hono (@hono/node-server)', (verifier, tls) => {
    const app = new Hono().get('/me', honoAuth(verifier), (c) => c.json({ sub: c.get('auth')?.subject, x5t: c.get('auth')?.confirmation?.['x5t#S256'] }))
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: createHttpsServer, serverOptions: tls }, (info) =>
        resolve({ base: `https://127.0.0.1:${info.port}`, close: () => new Promise((r) => server.close(() => r())) }),
      )
    })
  }],
  ['nestjs (express platform)', (verifier, tls) => serveNest(verifier, tls, 'express')],
  ['nestjs (fastify platform)', (verifier, tls) => serveNest(verifier, tls, 'fastify')],
]

/** A GET over TLS, presenting `certificate` when given. */
function send(url: string, token: string, certificate?: TestCertificate): Promise<{ status: number; body: unknown; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { agent: false, rejectUnauthorized: false, key: certificate?.key, cert: certificate?.cert, headers: { authorization: `Bearer ${token}` } })
    req.on('error', reject)
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), challenge: res.headers['www-authenticate'] }))
    })
    req.end()
  })
}

/** RFC 8705 §3.1: base64url(SHA-256(DER)). */
const x5tOf = (cert: TestCertificate) => createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('base64url')

let issuer: TestIssuer
let server: TestCertificate
let client: TestCertificate
let stranger: TestCertificate
let tls: ServerOptions
let bound: string
let unbound: string

beforeAll(async () => {
  ;[issuer, server, client, stranger] = await Promise.all([
    createTestIssuer({ algorithm: 'ES256' }),
    createCertificate('127.0.0.1', true),
    createCertificate('client'),
    createCertificate('stranger'),
  ])
  // any client certificate: a bound token is bound to the certificate itself (RFC 8705 §2.2), not to a CA
  tls = { key: server.key, cert: server.cert, requestCert: true, rejectUnauthorized: false }
  bound = await issuer.sign({ sub: 'svc-1', cnf: { 'x5t#S256': x5tOf(client) } })
  unbound = await issuer.sign({ sub: 'svc-2' })
})

const optionsWith = (extra: Partial<VerifierOptions> = {}) => ({ ...(issuer.verifierOptions('keys') as VerifierOptions), ...extra }) as VerifierOptions

describe.each(frameworks)('%s over mutual TLS', (_name, start) => {
  let app: Served
  let strict: Served
  beforeAll(async () => {
    app = await start(createVerifier(optionsWith()), tls)
    strict = await start(createVerifier(optionsWith({ mtls: { mode: 'required' } })), tls)
  })
  afterAll(() => Promise.all([app?.close(), strict?.close()]))

  it('accepts a certificate-bound token from the client holding the certificate', async () => {
    const res = await send(`${app.base}/me`, bound, client)
    expect(res).toMatchObject({ status: 200, body: { sub: 'svc-1', x5t: x5tOf(client) } })
  })

  it('refuses it from a client with another certificate, and from one without a certificate', async () => {
    for (const certificate of [stranger, undefined]) {
      const res = await send(`${app.base}/me`, bound, certificate)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'invalid token' })
      expect(res.challenge).toBe('Bearer realm="api", error="invalid_token", error_description="invalid token"')
    }
  })

  it("accepts unbound tokens in 'allowed' mode, refuses them in 'required' mode", async () => {
    expect((await send(`${app.base}/me`, unbound, client)).status).toBe(200)
    expect((await send(`${strict.base}/me`, unbound, client)).status).toBe(401)
    expect((await send(`${strict.base}/me`, bound, client)).status).toBe(200)
  })
})

describe('behind a TLS-terminating proxy: mtls.certificate', () => {
  let base: string
  let close: () => Promise<void>
  const reasons: string[] = []
  beforeAll(async () => {
    // the proxy passes the client certificate URL-encoded in a header (nginx: $ssl_client_escaped_cert)
    const verifier = createVerifier(
      optionsWith({ mtls: { certificate: (request) => decodeURIComponent(request.header?.('x-client-cert') ?? '') || undefined } }),
    )
    const app = express()
    app.get('/me', expressAuth(verifier, { onFailure: (e) => reasons.push(e.reason) }), (req, res) => res.json({ sub: req.auth?.subject }))
    const plain = createHttpServer(app)
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`
    close = () => new Promise((r) => plain.close(() => r()))
  })
  afterAll(() => close?.())

  async function viaProxy(token: string, cert?: TestCertificate) {
    const { request } = await import('node:http')
    return new Promise<number>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` }
      if (cert) headers['x-client-cert'] = encodeURIComponent(cert.cert)
      const req = request(`${base}/me`, { agent: false, headers })
      req.on('error', reject)
      req.on('response', (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.end()
    })
  }

  it('accepts the bound token with the certificate the proxy passes, refuses another or none', async () => {
    expect(await viaProxy(bound, client)).toBe(200)
    expect(await viaProxy(bound, stranger)).toBe(401)
    expect(reasons.at(-1)).toMatch(/thumbprint .* is not the token's cnf.x5t#S256/)
    expect(await viaProxy(bound)).toBe(401)
    expect(reasons.at(-1)).toMatch(/without a client certificate/)
  })
})

describe('the certificate as the core takes it', () => {
  it('a PEM, the DER bytes and an X509Certificate give the same answer; mtls false refuses bound tokens', async () => {
    const verifier = createVerifier(optionsWith())
    const der = new X509Certificate(client.cert).raw
    for (const certificate of [client.cert, new Uint8Array(der), new X509Certificate(client.cert)]) {
      const auth = await verifier.authenticateRequest({ method: 'GET', url: 'https://api.test/', headers: { authorization: `Bearer ${bound}`, dpop: undefined }, certificate })
      expect(auth.subject).toBe('svc-1')
    }
    const off = createVerifier(optionsWith({ mtls: false }))
    const error = await off.authenticateRequest({ method: 'GET', url: 'https://api.test/', headers: { authorization: `Bearer ${bound}`, dpop: undefined }, certificate: client.cert }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid_token', reason: expect.stringMatching(/mtls is off/) })
    // verifyAccessToken has no request, hence no certificate: a bound token is refused
    await expect(verifier.verifyAccessToken(bound)).rejects.toMatchObject({ code: 'invalid_token' })
  })
})

