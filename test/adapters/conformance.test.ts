/**
 * One table, five adapters: every row must give the same status, `WWW-Authenticate`, JSON body
 * and handler outcome on Express, Fastify, Koa, Hono and Next.js.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { setupMswServer } from '../helpers/msw-server.js'
import {
  cases,
  createConformanceSetup,
  CUSTOM,
  observe,
  type App,
  type Harness,
} from './conformance-cases.js'
import { express4Harness, expressHarness } from './harnesses/express.js'
import { fastifyHarness } from './harnesses/fastify.js'
import { honoHarness } from './harnesses/hono.js'
import { koaHarness } from './harnesses/koa.js'
import { nextHarness } from './harnesses/next.js'

const harnesses: Harness[] = [expressHarness, express4Harness, fastifyHarness, koaHarness, honoHarness, nextHarness]
const setup = await createConformanceSetup()
setupMswServer(...setup.handlers)

/** Every adapter's answer per row, compared across adapters at the end. */
const answers = new Map<string, Map<string, unknown>>()

describe.each(harnesses)('$name adapter ($transport)', (harness) => {
  let app: App
  const ran: string[] = []
  beforeAll(async () => {
    app = await harness.start(setup.fixture((route) => ran.push(route)))
  })
  afterAll(() => app?.close())
  beforeEach(() => {
    ran.length = 0
  })

  it.each(cases)('$name: $status on $path', async (row) => {
    const res = await app.fetch(row.path, row.authorization?.(setup.tokens))
    const seen = await observe(res)

    expect(seen.status).toBe(row.status)
    expect(seen.wwwAuthenticate).toBe(row.wwwAuthenticate)
    expect(seen.body).toEqual(row.body)
    expect(ran).toEqual(row.handlerRan ? [row.path.slice(1)] : [])
    expect(seen.contentType).toMatch(/^application\/json(; ?charset=utf-8)?$/i)
    if (row.status === CUSTOM.status) {
      expect(seen.custom).toBe(CUSTOM.header[1])
    } else if (row.status >= 400) {
      expect(seen.cacheControl).toBe('no-store')
      expect(seen.contentType).toBe('application/json; charset=utf-8')
      if (row.status === 503) expect(seen.retryAfter).toMatch(/^[1-9]\d*$/)
      else expect(seen.retryAfter).toBeNull()
    }
    const byAdapter = answers.get(row.name) ?? new Map<string, unknown>()
    answers.set(
      row.name,
      byAdapter.set(harness.name, { ...seen, contentType: undefined, ran: [...ran] }),
    )
  })
})

describe('across adapters', () => {
  it('answers every row identically: status, WWW-Authenticate, Retry-After, Cache-Control, body, handler', () => {
    expect([...answers.keys()]).toEqual(cases.map((c) => c.name))
    for (const [row, byAdapter] of answers) {
      expect([...byAdapter.keys()], row).toEqual(harnesses.map((h) => h.name))
      const [first, ...rest] = [...byAdapter.values()]
      for (const other of rest) expect(other, row).toEqual(first)
    }
  })
})
