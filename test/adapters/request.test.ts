/**
 * The request every adapter hands the core (API-wave2 §1), seen from outside over real sockets:
 * each framework serves `GET /shape` answering what its `requestOf(native)` — the function its
 * `requireAuth` calls — built. The absolute URL follows each framework's own proxy switch
 * (Express `trust proxy`, Fastify `trustProxy`, Koa `app.proxy`, Nest on either platform, Hono's
 * and Next's `trustProxy` option): forwarded headers are honoured from a trusted (loopback) proxy
 * and ignored otherwise. Over mutual TLS, the client's certificate reaches the request.
 */
import 'reflect-metadata'
import { X509Certificate } from 'node:crypto'
import { createServer as createHttpServer, request as httpRequest, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Controller, Get, Module, Req, type NestApplicationOptions } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import express from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { NextRequest } from 'next/server'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AuthRequest } from 'bearer-guard'
import { requestOf as expressRequestOf } from 'bearer-guard/express'
import { requestOf as fastifyRequestOf } from 'bearer-guard/fastify'
import { requestOf as honoRequestOf } from 'bearer-guard/hono'
import { requestOf as koaRequestOf } from 'bearer-guard/koa'
import { requestOf as nestRequestOf, type PlatformRequest } from 'bearer-guard/nestjs'
import { requestOf as nextRequestOf } from 'bearer-guard/next'
import { createCertificate, type TestCertificate } from './harnesses/tls.js'

/** What a `/shape` route answers: the built request, the certificate as its SHA-256 fingerprint. */
function shape(request: AuthRequest) {
  const { certificate } = request
  return {
    method: request.method,
    url: request.url,
    authorization: request.headers.authorization ?? null,
    dpop: request.headers.dpop ?? null,
    certificate: certificate instanceof Uint8Array ? new X509Certificate(certificate).fingerprint256 : (certificate ?? null),
  }
}

/** `'loopback'`: the framework trusts a proxy at 127.0.0.1 (the test client); `'other'`: only 10.0.0.1. */
type Trust = 'none' | 'loopback' | 'other'
interface Served {
  base: string
  close(): Promise<void>
}
interface Framework {
  name: string
  /** Node frameworks keep repeated header lines apart; Web ones get them joined by ", ". */
  lines: 'node' | 'web'
  /** The framework can trust one address and not another (Koa's `app.proxy`, Hono's and Next's option are yes/no). */
  byAddress: boolean
  start(trust: Trust, tls?: ServerOptions): Promise<Served>
}

async function serveNode(listener: RequestListener, tls?: ServerOptions): Promise<Served> {
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) }
}

const expressOf = (name: string, create: () => express.Express): Framework => ({
  name,
  lines: 'node',
  byAddress: true,
  start(trust, tls) {
    const app = create()
    if (trust !== 'none') app.set('trust proxy', trust === 'loopback' ? 'loopback' : '10.0.0.1')
    app.get('/shape', (req, res) => res.json(shape(expressRequestOf(req))))
    return serveNode(app, tls)
  },
})

const trustedAddress = (trust: Trust) => (trust === 'none' ? false : trust === 'loopback' ? '127.0.0.1' : '10.0.0.1')

function nestOf(platform: 'express' | 'fastify'): Framework {
  return {
    name: `nestjs ${platform}`,
    lines: 'node',
    byAddress: true,
    async start(trust, tls) {
      @Controller()
      class ShapeController {
        @Get('shape') shape(@Req() req: PlatformRequest) {
          return shape(nestRequestOf(req))
        }
      }
      @Module({ controllers: [ShapeController] })
      class AppModule {}
      const adapter =
        platform === 'express'
          ? new ExpressAdapter()
          : new FastifyAdapter({ trustProxy: trustedAddress(trust), ...(tls && { https: tls }) } as ConstructorParameters<typeof FastifyAdapter>[0])
      const nest = await NestFactory.create(AppModule, adapter, {
        logger: false,
        abortOnError: false,
        ...(platform === 'express' && tls && { httpsOptions: tls as NestApplicationOptions['httpsOptions'] }),
      })
      if (platform === 'express' && trust !== 'none') {
        nest.getHttpAdapter().getInstance().set('trust proxy', trust === 'loopback' ? 'loopback' : '10.0.0.1')
      }
      await nest.listen(0, '127.0.0.1')
      const { port } = (nest.getHttpServer() as Server).address() as AddressInfo
      return { base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => nest.close() }
    },
  }
}

const frameworks: Framework[] = [
  expressOf('express', () => express()),
  expressOf('express 4', () => express4() as unknown as express.Express),
  {
    name: 'fastify',
    lines: 'node',
    byAddress: true,
    async start(trust, tls) {
      const app = Fastify({ trustProxy: trustedAddress(trust), https: tls ?? null })
      app.get('/shape', async (request) => shape(fastifyRequestOf(request)))
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      return { base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => app.close() }
    },
  },
  {
    name: 'koa',
    lines: 'node',
    byAddress: false,
    start(trust, tls) {
      const app = new Koa()
      app.proxy = trust === 'loopback'
      app.use((ctx) => {
        ctx.body = shape(koaRequestOf(ctx))
      })
      return serveNode(app.callback(), tls)
    },
  },
  {
    name: 'hono (@hono/node-server)',
    lines: 'web',
    byAddress: false,
    start(trust, tls) {
      const app = new Hono().get('/shape', (c) => c.json(shape(honoRequestOf(c, { trustProxy: trust === 'loopback' }))))
      return new Promise((resolve) => {
        const server = serve(
          {
            fetch: app.fetch,
            port: 0,
            hostname: '127.0.0.1',
            ...(tls && { createServer: createHttpsServer, serverOptions: tls }),
          },
          (info) =>
            resolve({
              base: `${tls ? 'https' : 'http'}://127.0.0.1:${info.port}`,
              close: () => new Promise((r) => server.close(() => r())),
            }),
        )
      })
    },
  },
  nestOf('express'),
  nestOf('fastify'),
]

interface Sent {
  headers?: [string, string][]
  /** Present this client certificate (an HTTPS server only). */
  certificate?: TestCertificate
}

/** A GET with raw header lines (a repeated name stays two lines), answering the route's JSON. */
function send(url: string, { headers = [], certificate }: Sent = {}): Promise<ReturnType<typeof shape>> {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('https:')
    const options = { agent: false, ...(tls && { rejectUnauthorized: false, key: certificate?.key, cert: certificate?.cert }) }
    const req = (tls ? httpsRequest : httpRequest)(url, options)
    for (const [name, value] of headers) req.appendHeader(name, value)
    req
      .on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          const text = Buffer.concat(chunks).toString()
          try {
            resolve(JSON.parse(text))
          } catch {
            reject(new Error(`${res.statusCode}: ${text}`))
          }
        })
      })
      .on('error', reject)
      .end()
  })
}

const FORWARDED: [string, string][] = [
  ['x-forwarded-proto', 'https'],
  ['x-forwarded-host', 'api.example.com'],
]

async function shapeOf(framework: Framework, trust: Trust, sent: Sent, tls?: ServerOptions) {
  const served = await framework.start(trust, tls)
  try {
    return { base: served.base, seen: await send(`${served.base}/shape?x=1`, sent) }
  } finally {
    await served.close()
  }
}

describe.each(frameworks)('$name builds the request', (framework) => {
  it('with every Authorization and DPoP line, the method, and the URL the client used', async () => {
    const { base, seen } = await shapeOf(framework, 'none', {
      headers: [
        ['authorization', 'Bearer a'],
        ['authorization', 'Bearer b'],
        ['dpop', 'proof-1'],
        ['dpop', 'proof-2'],
      ],
    })
    const both = (a: string, b: string) => (framework.lines === 'node' ? [a, b] : `${a}, ${b}`)
    expect(seen).toEqual({
      method: 'GET',
      url: `${base}/shape?x=1`,
      authorization: both('Bearer a', 'Bearer b'),
      dpop: both('proof-1', 'proof-2'),
      certificate: null,
    })
  })

  it('with the forwarded scheme and host when the framework trusts the proxy (loopback)', async () => {
    const { seen } = await shapeOf(framework, 'loopback', { headers: FORWARDED })
    expect(seen.url).toBe('https://api.example.com/shape?x=1')
  })

  it('ignoring forwarded headers a client sends when no proxy is trusted', async () => {
    const { base, seen } = await shapeOf(framework, 'none', { headers: FORWARDED })
    expect(seen.url).toBe(`${base}/shape?x=1`)
  })

})

describe.each(frameworks.filter((f) => f.byAddress))('$name, trusting another address', (framework) => {
  it('ignores forwarded headers from a peer that is not the trusted proxy', async () => {
    const { base, seen } = await shapeOf(framework, 'other', { headers: FORWARDED })
    expect(seen.url).toBe(`${base}/shape?x=1`)
  })
})

describe('express builds the URL before a router strips its mount path', () => {
  it.each([
    ['express', express],
    ['express 4', express4 as unknown as typeof express],
  ])('%s: /api/shape, not /shape', async (_name, create) => {
    const app = create()
    app.use('/api', create.Router().get('/shape', (req, res) => res.json(shape(expressRequestOf(req)))))
    const served = await serveNode(app)
    try {
      expect((await send(`${served.base}/api/shape?x=1`)).url).toBe(`${served.base}/api/shape?x=1`)
    } finally {
      await served.close()
    }
  })
})

describe('mutual TLS', () => {
  let server: TestCertificate
  let client: TestCertificate
  let tls: ServerOptions
  beforeAll(async () => {
    ;[server, client] = await Promise.all([createCertificate('127.0.0.1', true), createCertificate('client')])
    // any client certificate (a certificate-bound token is bound to the certificate itself, RFC 8705 §2.2)
    tls = { key: server.key, cert: server.cert, requestCert: true, rejectUnauthorized: false }
  })

  describe.each(frameworks)('$name', (framework) => {
    it("hands the core the client's certificate", async () => {
      const { base, seen } = await shapeOf(framework, 'none', { certificate: client }, tls)
      expect(base).toMatch(/^https:/)
      expect(seen.url).toBe(`${base}/shape?x=1`)
      expect(seen.certificate).toBe(client.fingerprint256)
      expect(seen.certificate).not.toBe(server.fingerprint256)
    })

    it('has no certificate when the client sends none', async () => {
      const { seen } = await shapeOf(framework, 'none', {}, tls)
      expect(seen.certificate).toBeNull()
    })
  })
})

describe('next builds the request of a NextRequest', () => {
  const headers = (extra: [string, string][] = []) =>
    new Headers([['authorization', 'Bearer a'], ['dpop', 'proof'], ...extra])

  it('from request.url: method, headers, no certificate (a route handler has no socket)', () => {
    const request = new NextRequest('http://localhost:3000/shape?x=1', { method: 'POST', headers: headers() })
    expect(shape(nextRequestOf(request))).toEqual({
      method: 'POST',
      url: 'http://localhost:3000/shape?x=1',
      authorization: 'Bearer a',
      dpop: 'proof',
      certificate: null,
    })
  })

  it('keeps the basePath, which nextUrl.pathname leaves out', () => {
    const request = new NextRequest('http://localhost:3000/base/shape?x=1', { nextConfig: { basePath: '/base' } })
    expect(request.nextUrl.pathname).toBe('/shape')
    expect(nextRequestOf(request).url).toBe('http://localhost:3000/base/shape?x=1')
  })

  it('with trustProxy, takes the scheme and host a proxy forwarded (its last entry)', () => {
    const request = new NextRequest('http://localhost:3000/shape?x=1', {
      headers: headers([
        ['x-forwarded-proto', 'http, https'],
        ['x-forwarded-host', 'spoofed.example, api.example.com'],
      ]),
    })
    expect(nextRequestOf(request, { trustProxy: true }).url).toBe('https://api.example.com/shape?x=1')
  })

  it('without trustProxy, ignores forwarded headers a client sends', () => {
    const request = new NextRequest('http://localhost:3000/shape?x=1', { headers: headers(FORWARDED) })
    expect(nextRequestOf(request).url).toBe('http://localhost:3000/shape?x=1')
  })

  it('with trustProxy, keeps the URL’s own scheme and host where the forwarded ones are missing or malformed', () => {
    const request = new NextRequest('http://localhost:3000/shape?x=1', {
      headers: headers([
        ['x-forwarded-proto', 'javascript'],
        ['x-forwarded-host', 'evil.example/path?'],
      ]),
    })
    expect(nextRequestOf(request, { trustProxy: true }).url).toBe('http://localhost:3000/shape?x=1')
    expect(nextRequestOf(new NextRequest('http://localhost:3000/a'), { trustProxy: true }).url).toBe('http://localhost:3000/a')
  })
})
