/**
 * One table, six adapters: every row must give the same status, `WWW-Authenticate`, JSON body
 * and handler outcome on Express (5 and 4), Fastify, Koa, Hono, Next.js and NestJS (12 and 11,
 * each on its Express and Fastify platforms).
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { setupMswServer } from '../helpers/msw-server.js'
import {
  cases,
  createConformanceSetup,
  CUSTOM,
  metadataCases,
  observe,
  type App,
  type Case,
  type Harness,
  type MetadataCase,
} from './conformance-cases.js'
import { express4Harness, expressHarness } from './harnesses/express.js'
import { fastifyHarness } from './harnesses/fastify.js'
import { honoHarness } from './harnesses/hono.js'
import { koaHarness } from './harnesses/koa.js'
import { get } from './harnesses/listen.js'
import { nestExpressHarness, nestFastifyHarness } from './harnesses/nest.js'
import { loadNest11 } from './harnesses/nest11.js'
import { nextHarness } from './harnesses/next.js'

// NestJS 11, the previous major, runs the same harnesses from a bundle (see harnesses/nest11.ts)
const nest11 = await loadNest11()
const harnesses: Harness[] = [
  expressHarness,
  express4Harness,
  fastifyHarness,
  koaHarness,
  honoHarness,
  nextHarness,
  nestExpressHarness,
  nestFastifyHarness,
  nest11.express,
  nest11.fastify,
]
const setup = await createConformanceSetup()
setupMswServer(...setup.handlers)

/** A started app and what its handlers and `onFailure` hooks recorded for the current request. */
interface Running {
  app: App
  ran: string[]
  failures: string[]
}

async function start(harness: Harness): Promise<Running> {
  const ran: string[] = []
  const failures: string[] = []
  const app = await harness.start(
    setup.fixture(
      (route) => ran.push(route),
      (code) => failures.push(code),
    ),
  )
  return { app, ran, failures }
}

/** Sends a row's request and returns what every adapter must agree on. */
async function run(running: Running, row: Case) {
  running.ran.length = 0
  running.failures.length = 0
  const app = running.app
  const url = app.url(row.path)
  const authorization = row.authorization?.(setup.tokens)
  const dpop = await row.dpop?.({
    tokens: setup.tokens,
    url,
    client: setup.client,
    other: setup.other,
    send: (auth, proof) => app.fetch(row.path, auth, proof),
    async nonce() {
      const res = await app.fetch(row.path, `DPoP ${setup.tokens.bound}`, await setup.client.proof({ url, token: setup.tokens.bound }))
      const nonce = res.headers.get('dpop-nonce')
      if (!nonce) throw new Error(`no DPoP-Nonce in the ${res.status} answer`)
      return nonce
    },
  })
  running.ran.length = 0
  running.failures.length = 0
  const res = await app.fetch(row.path, authorization, dpop, row.headers && { headers: row.headers })
  const seen = await observe(res)
  return { ...seen, ran: [...running.ran], failures: [...running.failures] }
}

/** Sends a metadata row's request: the status, the row's headers, the body (JSON, or `''`). */
async function runMetadata(running: Running, row: MetadataCase) {
  running.ran.length = 0
  const res = await running.app.fetch(row.path, undefined, undefined, { method: row.method, headers: row.headers })
  const text = await res.text()
  const headers = Object.fromEntries(Object.keys(row.expectHeaders).map((name) => [name, res.headers.get(name)]))
  let body: unknown = text
  if (row.body === undefined) body = undefined
  else if (text !== '') body = JSON.parse(text)
  return { status: res.status, headers, body, ran: [...running.ran] }
}

afterAll(() => Promise.all([setup.dispose(), nest11.dispose()]))

describe('the test client', () => {
  it('sends an array as separate Authorization lines and a no-break space as the byte 0xA0', async () => {
    let seen: IncomingMessage | undefined
    const server = createServer((req, res) => {
      seen = req
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      await get(`http://127.0.0.1:${port}/`, ['Basic x', 'Bearer y\u00a0'])
      expect(seen?.headersDistinct.authorization).toEqual(['Basic x', 'Bearer y\u00a0'])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe.each(harnesses)('$name adapter ($transport)', (harness) => {
  let running: Running
  beforeAll(async () => {
    running = await start(harness)
  })
  afterAll(() => running?.app.close())
  beforeEach(() => {
    running.ran.length = 0
  })

  it.each(cases)('$name: $status on $path', async (row) => {
    const seen = await run(running, row)

    expect(seen.status).toBe(row.status)
    expect(seen.wwwAuthenticate).toBe(row.wwwAuthenticate)
    expect(seen.body).toEqual(row.body)
    expect(seen.ran).toEqual(row.handlerRan ? [row.path.slice(1)] : [])
    expect(seen.failures).toEqual(row.failures ?? [])
    expect(seen.dpopNonce).toBe(row.dpopNonce ?? false)
    expect(seen.exposes).toBe(row.dpopNonce || row.wwwAuthenticate?.includes('algs=') ? 'WWW-Authenticate, DPoP-Nonce' : null)
    expect(seen.contentType).toMatch(/^application\/json(; ?charset=utf-8)?$/i)
    if (row.status === CUSTOM.status) {
      expect(seen.custom).toBe(CUSTOM.header[1])
    } else if (row.status >= 400) {
      expect(seen.cacheControl).toBe('no-store')
      expect(seen.contentType).toBe('application/json; charset=utf-8')
      if (row.status === 503) expect(seen.retryAfter).toMatch(/^[1-9]\d*$/)
      else expect(seen.retryAfter).toBeNull()
    }
  })

  it.each(metadataCases)('protected-resource metadata, $name: $status', async (row) => {
    const seen = await runMetadata(running, row)
    expect(seen).toEqual({ status: row.status, headers: row.expectHeaders, body: row.body, ran: [] })
  })
})

describe('across adapters', () => {
  // every adapter is asked every row here, in this test: nothing depends on other tests' order
  const running = new Map<Harness['name'], Running>()
  beforeAll(async () => {
    for (const harness of harnesses) running.set(harness.name, await start(harness))
  })
  afterAll(async () => {
    for (const { app } of running.values()) await app.close()
  })

  it('answers every row identically: status, WWW-Authenticate, Retry-After, Cache-Control, body, handler, hooks', async () => {
    for (const row of cases) {
      const answers = new Map<string, unknown>()
      for (const [name, app] of running) {
        answers.set(name, { ...(await run(app, row)), contentType: undefined })
      }
      expect([...answers.keys()], row.name).toEqual(harnesses.map((h) => h.name))
      const [first, ...rest] = [...answers.values()]
      expect(first, row.name).toMatchObject({
        status: row.status,
        wwwAuthenticate: row.wwwAuthenticate,
        body: row.body,
        failures: row.failures ?? [],
      })
      for (const other of rest) expect(other, row.name).toEqual(first)
    }
  })

  it('serves the protected-resource metadata identically', async () => {
    for (const row of metadataCases) {
      const answers = new Map<string, unknown>()
      for (const [name, app] of running) answers.set(name, await runMetadata(app, row))
      const [first, ...rest] = [...answers.values()]
      expect(first, row.name).toMatchObject({ status: row.status, headers: row.expectHeaders })
      for (const other of rest) expect(other, row.name).toEqual(first)
    }
  })
})
