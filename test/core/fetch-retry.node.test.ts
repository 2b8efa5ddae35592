import { createServer, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, type IssuerOptions } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { createJwksCache, type JwksEvent } from '../../src/core/sources/jwks-cache.js'
import { rejection } from '../helpers/rejection.js'

// A key-source GET survives one dropped connection (the keep-alive race), with real loopback
// servers and Node's own fetch (undici), no mocking.

let issuer: TestIssuer
const servers: Server[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
})

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

type Behaviour = (request: { url: string; socket: Socket; count: number }, res: ServerResponse) => void

/** A loopback server on a free port; `behave` decides per request. Counts requests per path. */
async function serve(behave: Behaviour): Promise<{ base: string; requests: Map<string, number> }> {
  const requests = new Map<string, number>()
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const count = (requests.get(url) ?? 0) + 1
    requests.set(url, count)
    behave({ url, socket: req.socket, count }, res)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { base: `http://127.0.0.1:${port}`, requests }
}

const jwksBody = () => JSON.stringify(issuer.jwks())

function answerJwks(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody())
}

/** A verifier of the issuer's tokens whose JWKS is at `jwksUri`; muted unless `extra` gives a logger. */
function verifierAt(jwksUri: string, extra: Partial<IssuerOptions> = {}) {
  return createVerifier(issuer.verifierOptions('jwks', { jwksUri, logger: false, ...extra }))
}

describe('a key-source GET on a dropped connection', () => {
  it('succeeds on the retry when the server drops the first request without answering', async () => {
    const { base, requests } = await serve(({ count, socket }, res) => {
      if (count === 1) socket.destroy()
      else answerJwks(res)
    })
    const verifier = verifierAt(`${base}/jwks.json`)
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123' })
    expect(requests.get('/jwks.json')).toBe(2)
  })

  it('succeeds on the retry when the server has closed the pooled keep-alive connection', async () => {
    // the keep-alive race: a connection left in fetch's pool is dead when the next GET goes out on it
    let pooled: Socket | undefined
    const { base, requests } = await serve(({ url, socket }, res) => {
      if (url === '/warm') {
        pooled = socket
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else if (socket === pooled) {
        socket.destroy()
      } else {
        answerJwks(res)
      }
    })
    await (await fetch(`${base}/warm`)).json()
    const verifier = verifierAt(`${base}/jwks.json`)
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123' })
    expect(requests.get('/jwks.json')).toBe(2)
  })

  it('makes exactly two attempts against a server that resets every connection, then answers 503 with the root cause', async () => {
    const { base, requests } = await serve(({ socket }) => {
      socket.resetAndDestroy()
    })
    const warnings: string[] = []
    const verifier = verifierAt(`${base}/jwks.json`, { logger: { warn: (message: string) => warnings.push(message) } })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error.status).toBe(503)
    expect(error.reason).toBe(`JWKS unavailable: GET ${base}/jwks.json failed after one retry: connection closed: read ECONNRESET`)
    expect(requests.get('/jwks.json')).toBe(2)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('failed after one retry: connection closed: read ECONNRESET')
  })

  it('times out once, without a retry, against a server that never answers', async () => {
    const { base, requests } = await serve(() => {})
    const verifier = verifierAt(`${base}/jwks.json`, { jwks: { timeout: '200ms' } })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error.status).toBe(503)
    expect(error.reason).toBe(`JWKS unavailable: GET ${base}/jwks.json timed out after 200 ms`)
    expect(requests.get('/jwks.json')).toBe(1)
  })

  it('tells the cache\'s events that the fetch needed the retry (for diagnostics), and warns nothing', async () => {
    const { base } = await serve(({ count, socket }, res) => {
      if (count === 1) socket.destroy()
      else answerJwks(res)
    })
    const events: JwksEvent[] = []
    const cache = createJwksCache(new URL(`${base}/jwks.json`), {
      timeoutMs: 2000,
      maxBytes: 65536,
      cacheMaxAge: 600,
      cooldown: 30,
      staleMaxAge: 3600,
      onEvent: (event) => events.push(event),
    })
    await cache.reload()
    expect(events).toEqual([{ type: 'fetched', detail: `1 keys from ${base}/jwks.json`, uri: `${base}/jwks.json`, retried: true }])
  })

  it('retries discovery too', async () => {
    const local = await serve(({ url, count, socket }, res) => {
      if (count === 1) return void socket.destroy()
      if (url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks.json` }))
      } else answerJwks(res)
    })
    const origin = local.base
    const token = await issuer.sign({ iss: origin })
    const verifier = createVerifier({ issuer: origin, audience: 'https://api.test', logger: false })
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ issuer: origin })
    expect(local.requests.get('/.well-known/openid-configuration')).toBe(2)
    expect(local.requests.get('/jwks.json')).toBe(2)
  })
})

describe('the root cause of a failed discovery, over a real socket', () => {
  it('says the connection was refused (not just "fetch failed")', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as { port: number }
    await new Promise((resolve) => closed.close(resolve))
    const origin = `http://127.0.0.1:${port}`
    const verifier = createVerifier({ issuer: origin, audience: 'https://api.test', logger: false })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign({ iss: origin })))
    expect(error.status).toBe(503)
    expect(error.reason).toBe(
      `JWKS unavailable: discovery for ${origin} failed: GET ${origin}/.well-known/openid-configuration failed: connection refused: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
  })
})
