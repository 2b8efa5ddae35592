/**
 * The browser client (examples/web) against the real system: the auth service in cookie mode and
 * the five resource services run as child processes (examples/shared/system.ts, as for the demo),
 * on 127.0.0.1. First their CORS over plain HTTP, then the walk of examples/web/walk.ts in the
 * system's Chromium (playwright-core), one test per step, a screenshot per step.
 *
 * Needs `npm run build` (the services import the built package, as users do); builds the Next.js
 * app and the web app when they are out of date. Without Chromium the browser tests are SKIPPED
 * with a warning, except in CI (`CI=true`), where .ci/run installs Chromium and its absence fails.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { corsSettings } from '../../examples/shared/settings.js'
import {
  buildNextIfNeeded,
  createProcessGroup,
  ROOT,
  type ProcessGroup,
} from '../../examples/shared/system.js'
import { WEB_CLIENT_HEADER, WEB_CLIENT_HEADER_VALUE } from '../../examples/shared/web-client.js'
import {
  findChromium,
  startBrowserSystem,
  startWalker,
  walkSteps,
  type Walker,
  type WalkSystem,
} from '../../examples/web/walk.js'

const chromium = findChromium()
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase())
const skipBrowser = !chromium.found && !inCI
if (skipBrowser) {
  console.warn(
    `\n⚠⚠⚠ SKIPPED: the browser tests (test/examples/browser-client.test.ts) need Chromium, and ` +
      `there is none at ${chromium.path}. Install it (apt-get install chromium) or set ` +
      `CHROMIUM_PATH. In CI a missing Chromium fails the suite.\n`,
  )
}

const FRAMEWORK_NAMES = ['express', 'fastify', 'koa', 'hono', 'next'] as const

let group: ProcessGroup | undefined
let system: WalkSystem
let dataDir: string

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (the services import the package)')
  }
  await buildNextIfNeeded({ log: () => {} })
  dataDir = mkdtempSync(join(tmpdir(), 'bearer-guard-browser-data-'))
  group = createProcessGroup()
  system = await startBrowserSystem(group, { dataDir })
}, 300_000)

afterAll(async () => {
  await group?.stopAll()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const api = (name: string) => system.apis.find((a) => a.name === name)!.url
const appOrigin = () => new URL(system.authUrl).origin

/** An access token from the auth service, asked the way the web app asks (cookie mode). */
async function accessToken(username: string): Promise<string> {
  const res = await fetch(`${system.authUrl}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: appOrigin(),
      [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
    },
    body: new URLSearchParams({ username, password: `password_${username}` }).toString(),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

const list = (header: string | null) => (header ?? '').toLowerCase().split(/\s*,\s*/)

describe('CORS on the resource services: exactly the web app’s origin', () => {
  it.each(FRAMEWORK_NAMES)(
    '%s answers the app’s preflight (Authorization allowed), before any token check',
    async (name) => {
      const res = await fetch(`${api(name)}/admin/data`, {
        method: 'OPTIONS',
        headers: {
          origin: appOrigin(),
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      })
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe(appOrigin())
      expect(list(res.headers.get('access-control-allow-methods'))).toContain('get')
      expect(list(res.headers.get('access-control-allow-headers'))).toContain('authorization')
      expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    },
  )

  it.each(FRAMEWORK_NAMES)(
    '%s lets the app read 401 and 403 answers, WWW-Authenticate included',
    async (name) => {
      const alice = await accessToken('alice')
      const answers = [
        await fetch(`${api(name)}/users/me`, { headers: { origin: appOrigin() } }),
        await fetch(`${api(name)}/admin/data`, {
          headers: { origin: appOrigin(), authorization: `Bearer ${alice}` },
        }),
      ]
      expect(answers.map((r) => r.status)).toEqual([401, 403])
      for (const res of answers) {
        expect(res.headers.get('access-control-allow-origin')).toBe(appOrigin())
        expect(list(res.headers.get('access-control-expose-headers'))).toContain('www-authenticate')
        expect(list(res.headers.get('access-control-expose-headers'))).toContain('dpop-nonce')
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      }
    },
  )

  it.each(FRAMEWORK_NAMES)('%s never allows another origin', async (name) => {
    for (const origin of ['http://127.0.0.1:1', 'https://evil.example', 'null']) {
      const preflight = await fetch(`${api(name)}/users/me`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      })
      const get = await fetch(`${api(name)}/users/me`, { headers: { origin } })
      for (const res of [preflight, get]) {
        const allowed = res.headers.get('access-control-allow-origin')
        expect(allowed === null || allowed === appOrigin(), `${origin}: ${allowed}`).toBe(true)
      }
    }
  })

  it('reads CORS_ORIGIN as one exact origin, and refuses anything else', () => {
    expect(corsSettings(undefined)).toBeUndefined()
    expect(corsSettings('')).toBeUndefined()
    expect(corsSettings('http://127.0.0.1:8001')).toMatchObject({
      origin: 'http://127.0.0.1:8001',
      exposedHeaders: ['WWW-Authenticate', 'DPoP-Nonce'],
    })
    for (const bad of ['*', 'http://127.0.0.1:8001/', 'http://a/path', 'ftp://a', 'a,b', 'null']) {
      expect(() => corsSettings(bad), bad).toThrow(/CORS_ORIGIN/)
    }
  })
})

// the steps are one walk (each starts where the last left the page): never shuffled
describe.skipIf(skipBrowser)('the web app in Chromium (examples/web/walk.ts)', { shuffle: false }, () => {
  let walker: Walker | undefined

  beforeAll(async () => {
    if (!chromium.found) return // in CI: every step below fails, naming the missing binary
    const shots = mkdtempSync(join(tmpdir(), 'bearer-guard-browser-'))
    console.log(`browser walk screenshots: ${shots}`)
    walker = await startWalker(system, { executablePath: chromium.path, shots })
  }, 60_000)

  afterAll(async () => {
    await walker?.close()
  })

  for (const step of walkSteps) {
    it(
      step.title,
      async () => {
        if (!walker) {
          throw new Error(
            `CI=true but there is no Chromium at ${chromium.path}: .ci/run installs it ` +
              '(apt-get install chromium)',
          )
        }
        walker.step = step.title
        await step.run(walker)
      },
      60_000,
    )
  }
})
