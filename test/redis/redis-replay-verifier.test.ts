/**
 * The Redis replay store in its place: two instances of an Express service (each its own verifier
 * and Redis client) behind a round-robin load balancer, on real sockets and a real redis-server. A
 * proof accepted by one instance is refused by the other; sent to both at once, exactly one
 * accepts; with Redis killed, DPoP requests are answered 503 (never accepted) while bearer
 * requests, which need no replay check, keep working.
 */
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { requireAuth } from 'bearer-guard/express'
import { createRedisReplayStore } from 'bearer-guard/redis'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { hasRedis, startRedis, stopAllRedis, type RedisProcess } from '../helpers/redis-server.js'

const servers: Server[] = []
const clients: Redis[] = []

async function listen(server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** One instance of the service: its own verifier, its own Redis client. */
async function instance(issuer: TestIssuer, redisUrl: string, name: string): Promise<string> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
  client.on('error', () => {})
  clients.push(client)
  const replay = createRedisReplayStore({ client, prefix: 'lb-test:', commandTimeout: '500ms' })
  const verifier = createVerifier({ ...issuer.verifierOptions('keys'), dpop: { mode: 'allowed', replay } })
  const app = express()
  app.get('/orders', requireAuth(verifier), (req, res) => res.json({ instance: name, scheme: req.auth!.scheme }))
  return listen(createServer(app))
}

/** A round-robin load balancer: forwards each request to the next instance, the `Host` header kept. */
async function balancer(targets: string[]): Promise<string> {
  let next = 0
  return listen(
    createServer((req, res) => {
      const target = new URL(targets[next++ % targets.length] as string)
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      upstream.on('error', () => res.writeHead(502).end())
      req.pipe(upstream)
    }),
  )
}

async function get(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json().catch(() => ({}))) as Record<string, unknown> }
}

describe.skipIf(!hasRedis)('two instances behind a load balancer, one Redis replay store', () => {
  let redis: RedisProcess
  let issuer: TestIssuer
  let lb: string

  beforeAll(async () => {
    redis = await startRedis()
    issuer = await createTestIssuer()
    lb = await balancer([await instance(issuer, redis.url, 'a'), await instance(issuer, redis.url, 'b')])
  })
  afterAll(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    clients.splice(0).forEach((c) => c.disconnect())
    await stopAllRedis()
  })

  it('refuses on one instance a proof the other accepted, and accepts fresh proofs on both', async () => {
    const url = `${lb}/orders`
    const { token, proof } = await issuer.sign({}, { dpop: true })
    const once = await proof({ method: 'GET', url })
    const first = await get(url, { authorization: `DPoP ${token}`, dpop: once })
    const replayed = await get(url, { authorization: `DPoP ${token}`, dpop: once })
    expect(first).toMatchObject({ status: 200, body: { scheme: 'DPoP' } })
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } })
    // the balancer alternates: the replay reached the other instance
    const instances = new Set<unknown>()
    for (let i = 0; i < 2; i++) {
      const fresh = await get(url, { authorization: `DPoP ${token}`, dpop: await proof({ method: 'GET', url }) })
      expect(fresh.status).toBe(200)
      instances.add(fresh.body.instance)
    }
    expect(instances).toEqual(new Set(['a', 'b']))
  })

  it('lets exactly one instance accept a proof sent to both at once', async () => {
    const url = `${lb}/orders`
    const { token, proof } = await issuer.sign({}, { dpop: true })
    const once = await proof({ method: 'GET', url })
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(url, { authorization: `DPoP ${token}`, dpop: once })))
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401])
  })

  it('answers 503 to DPoP requests while Redis is down, keeps answering bearer requests, and recovers', async () => {
    const url = `${lb}/orders`
    const { token, proof } = await issuer.sign({}, { dpop: true })
    const bearer = await issuer.sign()
    await redis.kill()
    try {
      for (let i = 0; i < 2; i++) {
        const down = await get(url, { authorization: `DPoP ${token}`, dpop: await proof({ method: 'GET', url }) })
        expect(down).toMatchObject({
          status: 503,
          retryAfter: expect.stringMatching(/^\d+$/),
          body: { error: 'temporarily_unavailable', error_description: 'replay check unavailable, retry later' },
        })
        expect((await get(url, { authorization: `Bearer ${bearer}` })).status).toBe(200)
      }
    } finally {
      await redis.restart()
    }
    let status = 0
    const deadline = Date.now() + 5000
    while (status !== 200 && Date.now() < deadline) {
      status = (await get(url, { authorization: `DPoP ${token}`, dpop: await proof({ method: 'GET', url }) })).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe(200)
  })
})
