/**
 * The auth service's cookie mode (`REFRESH_TOKEN_TRANSPORT=cookie`), for the browser app
 * (examples/web): the refresh token only in an HttpOnly cookie, the token endpoints answering only
 * the app's own origin, the app served at /app/. Over a real socket on 127.0.0.1 (port 0).
 * The same walk in a real browser: test/examples/browser-client.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import {
  REFRESH_COOKIE_NAME,
  WEB_CLIENT_HEADER,
  WEB_CLIENT_HEADER_VALUE,
} from '../../examples/auth-service/browser.js'
import {
  configFromEnv,
  webApis,
  type AuthServiceConfig,
} from '../../examples/auth-service/config.js'
import { freezeClock } from '../helpers/clock.js'

const APIS = [
  { name: 'express', url: 'http://127.0.0.1:3001' },
  { name: 'next', url: 'http://127.0.0.1:3005' },
]

function config(overrides: Partial<AuthServiceConfig> = {}): AuthServiceConfig {
  return {
    ...configFromEnv({}),
    databaseFile: ':memory:',
    rateLimitPerMinute: 1000,
    log: () => {},
    ...overrides,
  }
}

interface Answer {
  status: number
  headers: Headers
  body: Record<string, any>
  /** The Set-Cookie lines of the answer. */
  cookies: string[]
}

const decode = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())

/** The value our cookie is set to by `answer` ('' when it is cleared, undefined when untouched). */
function cookieValue(answer: Answer): string | undefined {
  const line = answer.cookies.find((c) => c.startsWith(`${REFRESH_COOKIE_NAME}=`))
  return line === undefined ? undefined : decodeURIComponent(line.split(';')[0]!.split('=')[1]!)
}

describe('auth service in cookie mode', () => {
  let service: RunningAuthService
  let appDir: string
  /** A POST as the web app sends it: same origin, the custom header, Sec-Fetch-Site. */
  let post: (
    path: string,
    fields: Record<string, string>,
    options?: { cookie?: string; headers?: Record<string, string | undefined> },
  ) => Promise<Answer>
  let login: (username: string, clientId?: string) => Promise<Answer>

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'bg-web-app-'))
    writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>app</title>')
    writeFileSync(join(appDir, 'app.js'), 'export {}')
    service = await startAuthService(
      config({
        refreshTokenTransport: 'cookie',
        webApp: { dir: appDir, apis: APIS },
        clients: { 'seed-client': { accessTokenTtl: 900 }, 'short-lived': { accessTokenTtl: 2 } },
      }),
      { port: 0 },
    )
    post = async (path, fields, { cookie, headers = {} } = {}) => {
      const all: Record<string, string | undefined> = {
        'content-type': 'application/x-www-form-urlencoded',
        origin: service.url,
        'sec-fetch-site': 'same-origin',
        [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
        ...(cookie ? { cookie: `${REFRESH_COOKIE_NAME}=${cookie}` } : {}),
        ...headers,
      }
      const res = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
          string,
          string
        >,
        body: new URLSearchParams(fields).toString(),
      })
      const text = await res.text()
      return {
        status: res.status,
        headers: res.headers,
        body: text ? JSON.parse(text) : {},
        cookies: res.headers.getSetCookie(),
      }
    }
    login = (username, clientId = 'seed-client') =>
      post('/token', { username, password: `password_${username}`, client_id: clientId })
  })
  afterAll(async () => {
    await service.close()
    rmSync(appDir, { recursive: true, force: true })
  })
  it('logs in with the refresh token only in an HttpOnly, Secure, SameSite=Strict cookie on /refresh_token', async () => {
    const res = await login('alice')
    expect(res.status).toBe(200)
    expect(res.body).not.toHaveProperty('refresh_token')
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'profile' })
    expect(decode(res.body.access_token).sub).toBe('alice')
    expect(res.cookies).toHaveLength(1)
    expect(res.cookies[0]).toMatch(
      new RegExp(
        '^__Secure-refresh_token=[\\w-]{43}; Max-Age=604800; Path=/refresh_token; ' +
          'HttpOnly; Secure; SameSite=Strict$',
      ),
    )
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('rotates the cookie at /refresh_token and never puts a refresh token in the body', async () => {
    const first = cookieValue(await login('bob'))!
    const res = await post('/refresh_token', {}, { cookie: first })
    expect(res.status).toBe(200)
    expect(res.body).not.toHaveProperty('refresh_token')
    expect(decode(res.body.access_token)).toMatchObject({ sub: 'bob', roles: ['user', 'admin'] })
    const second = cookieValue(res)
    expect(second).toMatch(/^[\w-]{43}$/)
    expect(second).not.toBe(first)
    expect((await post('/refresh_token', {}, { cookie: second })).status).toBe(200)
  })

  it('refreshes for the client that logged in, named in the form', async () => {
    const first = cookieValue(await login('alice', 'short-lived'))!
    const other = await post('/refresh_token', {}, { cookie: first })
    expect(other.status).toBe(400)
    expect(other.body.error_description).toBe('refresh token was issued to another client')
    expect(cookieValue(other)).toBeUndefined() // not burned: the cookie stays
    const own = await post('/refresh_token', { client_id: 'short-lived' }, { cookie: first })
    expect(own.status).toBe(200)
    expect(own.body.expires_in).toBe(2)
  })

  it('revokes the family when a rotated cookie is replayed, and clears the cookie', async () => {
    const stolen = cookieValue(await login('alice'))!
    const current = cookieValue(await post('/refresh_token', {}, { cookie: stolen }))!

    const replay = await post('/refresh_token', {}, { cookie: stolen })
    expect(replay.status).toBe(400)
    expect(replay.body).toEqual({
      error: 'invalid_grant',
      error_description: 'refresh token reuse detected, session revoked',
    })
    expect(cookieValue(replay)).toBe('') // cleared
    expect(replay.cookies[0]).toContain('Max-Age=0; Path=/refresh_token')

    const next = await post('/refresh_token', {}, { cookie: current })
    expect(next.status).toBe(400)
    expect(next.body.error_description).toBe('refresh token revoked')
    expect(cookieValue(next)).toBe('')
  })

  it('answers a refresh without the cookie with 400, and never reads an Authorization header', async () => {
    const token = cookieValue(await login('bob'))!
    const res = await post('/refresh_token', {}, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'no refresh token cookie' })
    const unknown = await post('/refresh_token', {}, { cookie: 'x'.repeat(43) })
    expect(unknown.body.error_description).toBe('invalid refresh token')
    expect(cookieValue(unknown)).toBe('')
    const huge = await post('/refresh_token', {}, { cookie: 'x'.repeat(600) })
    expect(huge.status).toBe(400)
    expect(huge.body.error).toBe('invalid_grant')
  })

  it('refuses refresh tokens in a form field at /token', async () => {
    const token = cookieValue(await login('alice'))!
    const res = await post('/token', { grant_type: 'refresh_token', refresh_token: token })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('unsupported_grant_type')
  })

  describe('answers only the web app at the token endpoints (CSRF)', () => {
    const refused: [string, Record<string, string | undefined>, string][] = [
      ['no Origin header', { origin: undefined }, 'no Origin header'],
      ['another origin of the same site', { origin: 'http://127.0.0.1:1' }, 'origin not allowed'],
      ['another site', { origin: 'https://evil.example' }, 'origin not allowed'],
      ['Origin: null (a sandboxed frame)', { origin: 'null' }, 'origin not allowed'],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, 'cross-site request'],
      [
        'Sec-Fetch-Site: none (typed into the address bar)',
        { 'sec-fetch-site': 'none' },
        'cross-site request',
      ],
      [
        'no X-Requested-With (a plain form post)',
        { [WEB_CLIENT_HEADER]: undefined },
        'missing X-Requested-With header',
      ],
      [
        'another X-Requested-With',
        { [WEB_CLIENT_HEADER]: 'XMLHttpRequest' },
        'missing X-Requested-With header',
      ],
    ]
    const endpoints = ['/token', '/refresh_token', '/revoke', '/logout']

    it.each(refused)('%s → 403 on every cookie endpoint, nothing rotated', async (_name, headers, why) => {
      const cookie = cookieValue(await login('alice'))!
      for (const path of endpoints) {
        const fields: Record<string, string> =
          path === '/token' ? { username: 'alice', password: 'password_alice' } : { token: 'x' }
        const res = await post(path, fields, { cookie, headers })
        expect(res.status, path).toBe(403)
        expect(res.body, path).toEqual({ error: 'invalid_request', error_description: why })
        expect(res.cookies, path).toEqual([])
      }
      // the session is untouched: its cookie still refreshes once
      expect((await post('/refresh_token', {}, { cookie })).status).toBe(200)
    })

    it('accepts Sec-Fetch-Site: same-site, and requests from browsers that send no Sec-Fetch-Site', async () => {
      const cookie = cookieValue(await login('bob'))!
      const sameSite = await post('/refresh_token', {}, {
        cookie,
        headers: { 'sec-fetch-site': 'same-site' },
      })
      expect(sameSite.status).toBe(200)
      const older = await post('/refresh_token', {}, {
        cookie: cookieValue(sameSite),
        headers: { 'sec-fetch-site': undefined },
      })
      expect(older.status).toBe(200)
    })
  })

  it('logs out at /revoke with the access token: the session ends and the cookie is cleared', async () => {
    const res = await login('bob')
    const cookie = cookieValue(res)!
    const out = await post('/revoke', {
      token: res.body.access_token,
      token_type_hint: 'access_token',
    })
    expect(out.status).toBe(200)
    expect(cookieValue(out)).toBe('')
    const refresh = await post('/refresh_token', {}, { cookie })
    expect(refresh.body.error_description).toBe('refresh token revoked')
    const list = (await (await fetch(`${service.url}/revocations?after=0`)).json()) as {
      revoked: { jti: string }[]
    }
    expect(list.revoked.map((r) => r.jti)).toContain(decode(res.body.access_token).jti)
  })

  it('ends the session at /revoke even when the access token has expired', async () => {
    const res = await login('alice', 'short-lived')
    const cookie = cookieValue(res)!
    freezeClock(Date.now() + 60_000) // the 2 s access token is long expired
    const out = await post('/revoke', { token: res.body.access_token, client_id: 'short-lived' })
    expect(out.status).toBe(200)
    const refresh = await post('/refresh_token', { client_id: 'short-lived' }, { cookie })
    expect(refresh.body.error_description).toBe('refresh token revoked')
  })

  it('does not end a session for an access token of another client or issuer', async () => {
    const res = await login('alice')
    const cookie = cookieValue(res)!
    const wrongClient = await post('/revoke', {
      token: res.body.access_token,
      client_id: 'short-lived',
    })
    expect(wrongClient.status).toBe(200) // RFC 7009 §2.2: the same answer either way
    const forged = await post('/revoke', { token: 'eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.' })
    expect(forged.status).toBe(200)
    expect((await post('/refresh_token', {}, { cookie })).status).toBe(200)
  })

  it('clears the cookie at /logout too', async () => {
    const res = await login('alice')
    const out = await fetch(`${service.url}/logout`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${res.body.access_token}`,
        origin: service.url,
        [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
      },
    })
    expect(out.status).toBe(204)
    expect(out.headers.getSetCookie()[0]).toMatch(
      /^__Secure-refresh_token=; Max-Age=0; Path=\/refresh_token/,
    )
  })

  describe('serves the web app at /app/', () => {
    it('with a strict Content-Security-Policy that lets the page connect only to the resource services', async () => {
      const res = await fetch(`${service.url}/app/`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await res.text()).toContain('<title>app</title>')
      const csp = res.headers.get('content-security-policy')!
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("connect-src 'self' http://127.0.0.1:3001 http://127.0.0.1:3005")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).toContain("require-trusted-types-for 'script'")
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      const js = await fetch(`${service.url}/app/app.js`)
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    })

    it('with its settings at /app/config.json', async () => {
      const res = await fetch(`${service.url}/app/config.json`)
      expect(await res.json()).toEqual({ apis: APIS })
    })

    it('and nothing outside its folder', async () => {
      for (const path of ['/app/../package.json', '/app/%2e%2e/package.json', '/app/nope.js']) {
        const res = await fetch(`${service.url}${path}`)
        expect(res.status, path).toBe(404)
      }
      const redirect = await fetch(`${service.url}/app`, { redirect: 'manual' })
      expect(redirect.status).toBe(301)
      expect(redirect.headers.get('location')).toBe('/app/')
    })
  })
})

describe('auth service in body mode (the default)', () => {
  let service: RunningAuthService
  beforeAll(async () => {
    service = await startAuthService(config(), { port: 0 })
  })
  afterAll(() => service.close())

  it('sets no cookie, serves no app and needs no Origin', async () => {
    const res = await fetch(`${service.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=password_alice',
    })
    expect(res.status).toBe(200)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(((await res.json()) as { refresh_token: string }).refresh_token).toMatch(/^[\w-]{43}$/)
    expect((await fetch(`${service.url}/app/`)).status).toBe(404)
  })
})

describe('cookie-mode settings', () => {
  it('reads REFRESH_TOKEN_TRANSPORT: body by default, cookie on request, anything else refused', () => {
    expect(configFromEnv({}).refreshTokenTransport).toBe('body')
    expect(configFromEnv({ REFRESH_TOKEN_TRANSPORT: 'body' }).refreshTokenTransport).toBe('body')
    expect(configFromEnv({ REFRESH_TOKEN_TRANSPORT: 'cookie' }).refreshTokenTransport).toBe('cookie')
    expect(() => configFromEnv({ REFRESH_TOKEN_TRANSPORT: 'header' })).toThrow(/cookie or body/)
  })

  it('lists the five example services by default, and reads WEB_APIS', () => {
    expect(configFromEnv({}).webApp.apis.map((a) => a.name)).toEqual([
      'express',
      'fastify',
      'koa',
      'hono',
      'next',
    ])
    expect(webApis('a=http://127.0.0.1:1,b=https://api.example/')).toEqual([
      { name: 'a', url: 'http://127.0.0.1:1' },
      { name: 'b', url: 'https://api.example' },
    ])
    for (const bad of ['a', 'a=', 'a=ftp://x', 'a=http://x/path', '<b>=http://x', 'a=javascript:1']) {
      expect(() => webApis(bad), bad).toThrow(/WEB_APIS/)
    }
  })

  it('never lets the cookie outlive what browsers accept (400 days)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-web-app-'))
    mkdirSync(dir, { recursive: true })
    const service = await startAuthService(
      config({
        refreshTokenTransport: 'cookie',
        refreshTokenTtl: 1000 * 24 * 3600,
        webApp: { dir, apis: APIS },
      }),
      { port: 0 },
    )
    try {
      const res = await fetch(`${service.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: service.url,
          [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
        },
        body: 'username=alice&password=password_alice',
      })
      expect(res.headers.getSetCookie()[0]).toContain('Max-Age=34560000;')
      expect((await fetch(`${service.url}/app/`)).status).toBe(404) // not built: a clear 404
    } finally {
      await service.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
