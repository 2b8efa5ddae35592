import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, KeySourceUnavailableError, type IssuerOptions } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { rejection } from '../helpers/rejection.js'

let issuer: TestIssuer
let server: Server
let base: string
const seen: IncomingMessage[] = []
let mode: 'ok' | 'down' | 'hang' = 'ok'

/** A verifier of the issuer's tokens whose JWKS is at `jwksUri`; muted unless `extra` gives a logger. */
function verifierAt(jwksUri: string, extra: Partial<IssuerOptions> = {}) {
  return createVerifier(issuer.verifierOptions('jwks', { jwksUri, logger: false, ...extra }))
}

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
  server = createServer((req, res) => {
    seen.push(req)
    if (mode === 'hang') return
    if (mode === 'down' || req.url !== '/jwks.json') {
      res.writeHead(mode === 'down' ? 502 : 404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  base = `http://127.0.0.1:${address.port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('a real JWKS server on 127.0.0.1', () => {
  it('serves keys over plain http on loopback, fetched once for concurrent requests', async () => {
    mode = 'ok'
    seen.length = 0
    const verifier = verifierAt(`${base}/jwks.json`, { cache: false })
    const token = await issuer.sign()
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verifyAccessToken(token)))
    expect(results.every((r) => r.subject === 'user-123')).toBe(true)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.method).toBe('GET')
    expect(seen[0]!.headers.accept).toBe('application/json')
  })

  it('answers 503 for a 502 from the server', async () => {
    mode = 'down'
    const verifier = verifierAt(`${base}/jwks.json`)
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/answered 502/)
  })

  it('answers 503 when the server accepts the connection but never answers', async () => {
    mode = 'hang'
    const verifier = verifierAt(`${base}/jwks.json`, { jwks: { timeout: '200ms' } })
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/timed out/)
  })

  it('answers 503 when nothing listens on the port', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as { port: number }
    await new Promise((resolve) => closed.close(resolve))
    const verifier = verifierAt(`http://127.0.0.1:${port}/jwks.json`)
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/failed/)
  })
})
