/**
 * The browser walk: the web app (examples/web) in a real Chromium, driven by playwright-core,
 * against the real auth service (cookie mode) and the six resource services. Each step asserts
 * what the design's §六 says a browser client must do, and leaves a screenshot.
 *
 * Used by test/examples/browser-client.test.ts (one test per step) and by
 * `npm run demo -- --browser`. Chromium comes from the system (Debian's `chromium` package; set
 * CHROMIUM_PATH for another binary): Playwright's own browser downloads are never used.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core'
import {
  FRAMEWORKS,
  sleep,
  startSystem,
  type Framework,
  type ProcessGroup,
} from '../shared/system.js'
import {
  REFRESH_COOKIE_NAME,
  REFRESH_COOKIE_PATH,
  WEB_APP_PATH,
  WEB_CLIENT_HEADER,
  WEB_CLIENT_HEADER_VALUE,
} from '../shared/web-client.js'
import { buildWebAppIfNeeded } from './build.js'

export const DEFAULT_CHROMIUM = '/usr/bin/chromium'

/** The Chromium binary to drive: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function findChromium(env: Record<string, string | undefined> = process.env) {
  const path = env.CHROMIUM_PATH || DEFAULT_CHROMIUM
  return { path, found: existsSync(path) }
}

/** Headless, no sandbox (CI runs as root), nothing that phones home or downloads components. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Access tokens of the short-lived client live this long (s); the expiry step waits them out. */
const SHORT_TTL = 2
/** bearer-guard's default clock tolerance: resource services refuse a token this long after exp. */
const CLOCK_TOLERANCE = 5
/** Revocations reach the resource services within one poll. */
const POLL_MS = 200

/** What the walk runs against. */
export interface WalkSystem {
  /** The auth service, which also serves the app at /app/. */
  authUrl: string
  apis: { name: Framework; url: string }[]
}

/**
 * Starts the system the way the browser needs it: the web app built, the auth service in cookie
 * mode serving it, every resource service allowing exactly its origin (CORS). The Next.js app must
 * be built already (`buildNextIfNeeded`), as for the demo.
 */
export async function startBrowserSystem(
  group: ProcessGroup,
  {
    dataDir,
    frameworks = FRAMEWORKS,
    env = {},
    nodeEnv,
  }: {
    /** Where the auth service keeps its database. */
    dataDir: string
    frameworks?: readonly Framework[]
    /** For the auth service and every resource service (e.g. the HS256 secret). */
    env?: Record<string, string>
    /** For Node services only (e.g. the demo's `--src`). */
    nodeEnv?: Record<string, string>
  },
): Promise<WalkSystem> {
  await buildWebAppIfNeeded()
  const { auth, apis } = await startSystem(group, {
    frameworks,
    browser: true,
    nodeEnv,
    authEnv: {
      ...env,
      DATABASE_FILE: join(dataDir, 'auth.db'),
      ACCESS_TOKEN_TTL: '300',
      SHORT_ACCESS_TOKEN_TTL: String(SHORT_TTL),
      RATE_LIMIT_PER_MINUTE: '600', // many logins and refreshes from one address
    },
    resourceEnv: { ...env, REVOCATION_POLL_MS: String(POLL_MS) },
  })
  return { authUrl: auth.url, apis: [...apis].map(([name, s]) => ({ name, url: s.url })) }
}

// -- the browser and what it saw ----------------------------------------------------------------

/** One response the browser received (any page), with the step it happened in. */
export interface NetworkEntry {
  step: string
  page: 'app' | 'other'
  method: string
  url: string
  status: number
  requestHeaders: Record<string, string>
  responseHeaders: Record<string, string>
  /** The body of token-endpoint answers (to check no refresh token is in it). */
  body?: string
}

export interface Walker {
  system: WalkSystem
  context: BrowserContext
  page: Page
  /** Folder of the screenshots. */
  shots: string
  /** Everything the browser received, in order. */
  network: NetworkEntry[]
  /** Uncaught errors and CSP / Trusted Types violations on the app's page. */
  pageErrors: string[]
  /** What one step leaves for the next (the stolen cookie, …). */
  state: { stolenCookie?: string }
  /** The label network entries are filed under. */
  step: string
  /** Waits until every recorded response has its headers (and token-endpoint bodies) read. */
  settled(): Promise<void>
  close(): Promise<void>
}

/**
 * Launches Chromium with a fresh profile (a new temporary `--user-data-dir`, removed on close)
 * and opens one page. Records every response in `network`.
 */
export async function startWalker(
  system: WalkSystem,
  { executablePath, shots }: { executablePath: string; shots: string },
): Promise<Walker> {
  const profile = mkdtempSync(join(tmpdir(), 'bearer-guard-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
    timeout: 30_000,
  })
  context.setDefaultTimeout(15_000)
  const page = context.pages()[0] ?? (await context.newPage())
  const pending: Promise<void>[] = []
  const walker: Walker = {
    system,
    context,
    page,
    shots,
    network: [],
    pageErrors: [],
    state: {},
    step: 'start',
    async settled() {
      await Promise.all(pending)
    },
    async close() {
      await Promise.allSettled(pending)
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
  context.on('response', (response: Response) => {
    const request = response.request()
    const entry: NetworkEntry = {
      step: walker.step,
      page: request.frame()?.page() === page ? 'app' : 'other',
      method: request.method(),
      url: response.url(),
      status: response.status(),
      requestHeaders: {},
      responseHeaders: {},
    }
    walker.network.push(entry)
    const tokenEndpoint = /\/(token|refresh_token|revoke)$/.test(new URL(entry.url).pathname)
    pending.push(
      (async () => {
        entry.requestHeaders = await request.allHeaders().catch(() => request.headers())
        entry.responseHeaders = await response.allHeaders().catch(() => response.headers())
        if (tokenEndpoint) entry.body = await response.text().catch(() => undefined)
      })(),
    )
  })
  page.on('pageerror', (error) => walker.pageErrors.push(error.message))
  page.on('console', (message) => {
    if (/Content Security Policy|TrustedHTML|TrustedScript/i.test(message.text())) {
      walker.pageErrors.push(message.text())
    }
  })
  return walker
}

// -- helpers the steps share --------------------------------------------------------------------

const appUrl = (w: Walker, client?: string) =>
  `${w.system.authUrl}${WEB_APP_PATH}${client ? `?client=${client}` : ''}`
const appOrigin = (w: Walker) => new URL(w.system.authUrl).origin
const path = (url: string) => new URL(url).pathname

let shotCount = 0
async function shot(w: Walker, name: string, page = w.page): Promise<void> {
  shotCount += 1
  await page.screenshot({
    path: join(w.shots, `${String(shotCount).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  })
}

async function waitForState(w: Walker, state: 'signed-in' | 'signed-out'): Promise<void> {
  await w.page.locator(`body[data-state="${state}"]`).waitFor()
}

async function login(w: Walker, username: string): Promise<void> {
  await waitForState(w, 'signed-out')
  await w.page.fill('#username', username)
  await w.page.fill('#password', `password_${username}`)
  await w.page.click('#login-button')
  await waitForState(w, 'signed-in')
  assert.equal(await w.page.textContent('#user'), username)
}

async function logout(w: Walker): Promise<void> {
  await w.page.click('#logout')
  await waitForState(w, 'signed-out')
}

/** Clicks a button that starts `count` API calls and waits until they have all answered. */
async function callAndWait(w: Walker, button: string, count: number): Promise<void> {
  const before = Number(await w.page.getAttribute('#results', 'data-done'))
  await w.page.click(button)
  await w.page.waitForFunction(
    (n) => Number(document.getElementById('results')!.dataset.done) >= n,
    before + count,
  )
}

/** `{ status, text, retried }` of one cell of the results table. */
async function cell(w: Walker, api: string, route: 'me' | 'admin') {
  const locator = w.page.locator(`#r-${api}-${route}`)
  return {
    status: await locator.getAttribute('data-status'),
    retried: await locator.getAttribute('data-retried'),
    text: (await locator.textContent()) ?? '',
  }
}

/** Selects each service in turn and calls both routes, one at a time. */
async function walkServices(w: Walker): Promise<void> {
  for (const api of w.system.apis) {
    await w.page.selectOption('#service', api.name)
    await callAndWait(w, '#me', 1)
    await callAndWait(w, '#admin', 1)
  }
}

async function refreshCookie(w: Walker) {
  return (await w.context.cookies(w.system.authUrl + REFRESH_COOKIE_PATH)).find(
    (c) => c.name === REFRESH_COOKIE_NAME,
  )
}

/** The responses of the current step (optionally of one method and path). */
async function entries(w: Walker, method?: string, pathname?: string): Promise<NetworkEntry[]> {
  await w.settled()
  return w.network.filter(
    (e) =>
      e.step === w.step &&
      (!method || e.method === method) &&
      (!pathname || path(e.url) === pathname),
  )
}

/** The page's storage, cookies and globals hold no token, and nothing broke. */
async function assertNothingExposed(w: Walker): Promise<void> {
  const seen = await w.page.evaluate(async () => ({
    cookie: document.cookie,
    localStorage: Object.keys(localStorage),
    sessionStorage: Object.keys(sessionStorage),
    indexedDB: (await indexedDB.databases()).map((d) => d.name ?? ''),
    caches: await caches.keys(),
    // a JWT starts with `eyJ` ('{"' in base64url); no global variable may hold one
    globals: Object.getOwnPropertyNames(window).filter((k) => {
      try {
        const v: unknown = (window as unknown as Record<string, unknown>)[k]
        return typeof v === 'string' && v.includes('eyJ')
      } catch {
        return false
      }
    }),
  }))
  assert.deepEqual(seen, {
    cookie: '', // the refresh cookie is HttpOnly, and the app sets no other
    localStorage: [],
    sessionStorage: [],
    indexedDB: [],
    caches: [],
    globals: [],
  })
  assert.deepEqual(w.pageErrors, [], 'errors or CSP violations on the page')
}

/** A resource service's answer to a token, from outside the browser (Node's fetch). */
async function apiAnswer(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' }
}

/** Polls until the answer has `status`: a revocation reaches the services within one poll. */
async function eventually(request: () => ReturnType<typeof apiAnswer>, status: number) {
  const deadline = Date.now() + 3000
  for (;;) {
    const answer = await request()
    if (answer.status === status || Date.now() > deadline) return answer
    await sleep(POLL_MS / 2)
  }
}

/** The refresh endpoint as an attacker with a stolen cookie calls it: outside any browser. */
async function replayRefreshCookie(w: Walker, cookie: string, clientId = 'seed-client') {
  const res = await fetch(`${w.system.authUrl}${REFRESH_COOKIE_PATH}`, {
    method: 'POST',
    headers: {
      cookie: `${REFRESH_COOKIE_NAME}=${cookie}`,
      // not a browser: every header can be forged, which is why theft is caught by reuse detection
      origin: appOrigin(w),
      [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ client_id: clientId }).toString(),
  })
  return { status: res.status, body: (await res.json()) as Record<string, string> }
}

/** The access token the app sent last (read from the network log, as a thief on the wire would). */
async function lastAccessToken(w: Walker): Promise<string> {
  await w.settled()
  const sent = w.network
    .filter((e) => e.page === 'app' && e.requestHeaders.authorization?.startsWith('Bearer '))
    .at(-1)
  assert.ok(sent, 'no API request carried an access token')
  return sent.requestHeaders.authorization!.slice('Bearer '.length)
}

const decodeClaims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number; jti: string }

/** Every API answer of this step: Bearer token sent, no cookie, CORS for exactly the app's origin. */
async function assertApiRequests(w: Walker, minimum: number): Promise<NetworkEntry[]> {
  const origins = new Set(w.system.apis.map((a) => new URL(a.url).origin))
  const calls = (await entries(w)).filter((e) => origins.has(new URL(e.url).origin))
  assert.ok(calls.length >= minimum, `expected at least ${minimum} API answers, saw ${calls.length}`)
  for (const call of calls) {
    const where = `${call.method} ${call.url} → ${call.status}`
    if (call.method === 'OPTIONS') continue // a preflight, answered before any token check
    assert.match(call.requestHeaders.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, where)
    assert.equal(call.requestHeaders.cookie, undefined, `${where}: a cookie was sent`)
    assert.equal(call.responseHeaders['access-control-allow-origin'], appOrigin(w), where)
  }
  return calls
}

// -- the steps --------------------------------------------------------------------------------

export interface WalkStep {
  title: string
  run(w: Walker): Promise<void>
}

export const walkSteps: readonly WalkStep[] = [
  {
    title: 'opens on the login form: the boot refresh finds no cookie, nothing is stored',
    async run(w) {
      await w.page.goto(appUrl(w))
      await waitForState(w, 'signed-out')
      const boot = await entries(w, 'POST', REFRESH_COOKIE_PATH)
      assert.deepEqual(
        boot.map((e) => [e.status, JSON.parse(e.body ?? '{}').error_description]),
        [[400, 'no refresh token cookie']],
      )
      assert.equal(await refreshCookie(w), undefined)
      assert.equal(await w.page.isVisible('#notice'), false) // no session ended: there was none
      await assertNothingExposed(w)
      await shot(w, 'login-form')
    },
  },
  {
    title:
      'alice logs in: the access token stays in memory, the refresh token arrives only as an ' +
      'HttpOnly, Secure, SameSite=Strict cookie on /refresh_token',
    async run(w) {
      await login(w, 'alice')
      const [token] = await entries(w, 'POST', '/token')
      assert.ok(token, 'no POST /token')
      assert.equal(token.status, 200)
      const body = JSON.parse(token.body!) as Record<string, unknown>
      assert.equal(typeof body.access_token, 'string')
      assert.equal('refresh_token' in body, false, 'refresh token in the JSON body')
      assert.match(
        token.responseHeaders['set-cookie'] ?? '',
        new RegExp(
          '^__Secure-refresh_token=[\\w-]{43}; Max-Age=\\d+; Path=/refresh_token; ' +
            'HttpOnly; Secure; SameSite=Strict$',
        ),
      )
      const cookie = await refreshCookie(w)
      assert.ok(cookie, 'the browser did not keep the refresh cookie')
      assert.deepEqual(
        [cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path],
        [true, true, 'Strict', REFRESH_COOKIE_PATH],
      )
      // the cookie is not even sent to the app's own pages
      const all = await w.context.cookies(appUrl(w))
      assert.deepEqual(all, [])
      await assertNothingExposed(w)
      await shot(w, 'alice-signed-in')
    },
  },
  {
    title: 'alice gets 200 from /users/me and 403 from /admin/data on every framework’s service',
    async run(w) {
      await walkServices(w)
      for (const api of w.system.apis) {
        const me = await cell(w, api.name, 'me')
        const admin = await cell(w, api.name, 'admin')
        assert.deepEqual([me.status, admin.status], ['200', '403'], api.name)
        assert.match(me.text, /^200 alice$/, api.name)
        // read from WWW-Authenticate: the service exposes it to the page (CORS)
        assert.match(admin.text, /^403 insufficient_scope$/, api.name)
      }
      await assertApiRequests(w, 2 * w.system.apis.length)
      await assertNothingExposed(w)
      await shot(w, 'alice-results')
    },
  },
  {
    title: 'logout revokes the session at /revoke and clears the cookie: neither token works any more',
    async run(w) {
      const cookie = (await refreshCookie(w))!.value
      const accessToken = await lastAccessToken(w)
      await logout(w)
      const [revoke] = await entries(w, 'POST', '/revoke')
      assert.equal(revoke?.status, 200)
      assert.match(revoke!.responseHeaders['set-cookie'] ?? '', /^__Secure-refresh_token=; Max-Age=0;/)
      assert.equal(await refreshCookie(w), undefined, 'the cookie is still there')
      const replay = await replayRefreshCookie(w, cookie)
      assert.deepEqual([replay.status, replay.body.error_description], [400, 'refresh token revoked'])
      for (const api of w.system.apis) {
        const answer = await eventually(() => apiAnswer(`${api.url}/users/me`, accessToken), 401)
        assert.equal(answer.status, 401, api.name)
        assert.match(answer.challenge, /error_description="token revoked"/, api.name)
      }
      await assertNothingExposed(w)
      await shot(w, 'alice-logged-out')
    },
  },
  {
    title: 'bob logs in and gets 200 from both routes on every framework’s service',
    async run(w) {
      await login(w, 'bob')
      await walkServices(w)
      for (const api of w.system.apis) {
        const me = await cell(w, api.name, 'me')
        const admin = await cell(w, api.name, 'admin')
        assert.deepEqual([me.status, admin.status], ['200', '200'], api.name)
        assert.match(me.text, /^200 bob$/, api.name)
      }
      await assertApiRequests(w, 2 * w.system.apis.length)
      await assertNothingExposed(w)
      await shot(w, 'bob-results')
    },
  },
  {
    title: 'a reload keeps bob signed in through the refresh cookie (rotated), not through storage',
    async run(w) {
      const before = (await refreshCookie(w))!.value
      await w.page.reload()
      await waitForState(w, 'signed-in')
      assert.equal(await w.page.textContent('#user'), 'bob')
      const refreshes = await entries(w, 'POST', REFRESH_COOKIE_PATH)
      assert.deepEqual(refreshes.map((e) => e.status), [200])
      assert.equal(JSON.parse(refreshes[0]!.body!).refresh_token, undefined)
      assert.deepEqual(await entries(w, 'POST', '/token'), [], 'logged in again instead')
      const after = (await refreshCookie(w))!.value
      assert.notEqual(after, before, 'the refresh cookie was not rotated')
      // the token restored into memory works
      await w.page.selectOption('#service', w.system.apis[0]!.name)
      await callAndWait(w, '#admin', 1)
      assert.equal((await cell(w, w.system.apis[0]!.name, 'admin')).status, '200')
      await assertNothingExposed(w)
      await shot(w, 'bob-after-reload')
    },
  },
  {
    title:
      'a page on another origin cannot use the refresh cookie (Origin and custom-header checks) ' +
      'nor read the APIs (CORS)',
    async run(w) {
      const cookie = (await refreshCookie(w))!.value
      const attacker = await startAttacker(w)
      const page = await w.context.newPage()
      // what Chromium did with the cookie on each request (DevTools protocol: sent, or blocked and why)
      const cdp = await w.context.newCDPSession(page)
      const posts = new Set<string>() // request ids of POSTs to the refresh endpoint
      const cookieOnPosts: { requestId: string; blocked: string[] }[] = []
      cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
        if (request.method === 'POST' && path(request.url) === REFRESH_COOKIE_PATH) posts.add(requestId)
      })
      cdp.on('Network.requestWillBeSentExtraInfo', ({ requestId, associatedCookies }) => {
        for (const { cookie, blockedReasons } of associatedCookies) {
          if (cookie.name !== REFRESH_COOKIE_NAME) continue
          cookieOnPosts.push({ requestId, blocked: blockedReasons })
        }
      })
      await cdp.send('Network.enable')
      try {
        // same site (127.0.0.1, another port), so SameSite=Strict lets the cookie go along;
        // the auth service's Origin check is what refuses it
        await page.goto(attacker.url)
        const sameSite = await attackResults(page)
        await w.settled() // read the request headers while the page is still open
        // another site (localhost is not 127.0.0.1): the browser does not even send the cookie
        await page.goto(attacker.url.replace('127.0.0.1', 'localhost'))
        const crossSite = await attackResults(page)
        await w.settled()
        for (const result of [sameSite, crossSite]) {
          assert.deepEqual(result, {
            simplePost: 'opaque', // sent (no-cors), its answer unreadable
            withHeader: 'blocked', // the custom header needs a preflight the auth service refuses
            api: 'blocked', // the API allows only the app's origin
          })
        }
        const answers = (await entries(w, 'POST', REFRESH_COOKIE_PATH)).filter(
          (e) => e.page === 'other',
        )
        assert.deepEqual(answers.map((e) => e.status), [403, 403], 'only the simple posts arrived')
        // SameSite=Strict is per site, not per origin: the same-site page's POST carried the
        // cookie (only the Origin check refused it); the other site's did not
        const decisions = cookieOnPosts.filter((d) => posts.has(d.requestId)).map((d) => d.blocked)
        assert.equal(decisions.length, 2, JSON.stringify(decisions))
        assert.deepEqual(decisions[0], [], 'the same-site POST did not carry the cookie')
        assert.ok(decisions[1]!.includes('SchemefulSameSiteStrict'), JSON.stringify(decisions[1]))
        await shot(w, 'attacker-page', page)
      } finally {
        await page.close()
        attacker.server.close()
      }
      // bob's session is untouched: same cookie, and it still refreshes
      assert.equal((await refreshCookie(w))!.value, cookie)
      await w.page.reload()
      await waitForState(w, 'signed-in')
      assert.equal(await w.page.textContent('#user'), 'bob')
      await assertNothingExposed(w)
    },
  },
  {
    title:
      'an expired access token is refreshed silently: ten requests at once share one refresh ' +
      'and are each retried once',
    async run(w) {
      await logout(w)
      await w.page.goto(appUrl(w, 'short-lived'))
      await login(w, 'alice')
      // an attacker copies the refresh cookie now (malware with the cookie jar); see the next step
      w.state.stolenCookie = (await refreshCookie(w))!.value
      const [token] = await entries(w, 'POST', '/token')
      const { exp } = decodeClaims(JSON.parse(token!.body!).access_token as string)
      const step = w.step
      w.step = `${step} · fresh token`
      await callAndWait(w, '#all', 2 * w.system.apis.length)
      assert.deepEqual(await entries(w, 'POST', REFRESH_COOKIE_PATH), [], 'refreshed too early')

      // wait out the token and the services' clock tolerance
      await sleep(Math.max(0, (exp + CLOCK_TOLERANCE + 1) * 1000 - Date.now()))
      w.step = `${step} · expired token`
      await callAndWait(w, '#all', 2 * w.system.apis.length)

      const refreshes = await entries(w, 'POST', REFRESH_COOKIE_PATH)
      assert.deepEqual(refreshes.map((e) => e.status), [200], 'one shared refresh')
      const calls = (await assertApiRequests(w, 4 * w.system.apis.length)).filter(
        (e) => e.method === 'GET',
      )
      for (const api of w.system.apis) {
        for (const [route, final] of [['/users/me', 200], ['/admin/data', 403]] as const) {
          const tries = calls.filter((e) => e.url === `${api.url}${route}`)
          assert.deepEqual(tries.map((e) => e.status), [401, final], `${api.name} ${route}`)
          const challenge = tries[0]!.responseHeaders['www-authenticate'] ?? ''
          assert.match(challenge, /error="invalid_token".*error_description="token expired"/)
          const [first, retry] = tries.map((e) => e.requestHeaders.authorization)
          assert.notEqual(first, retry, 'retried with the same token')
        }
        const me = await cell(w, api.name, 'me')
        assert.deepEqual([me.status, me.retried], ['200', 'true'], api.name)
      }
      assert.notEqual((await refreshCookie(w))!.value, w.state.stolenCookie, 'not rotated')
      await assertNothingExposed(w)
      await shot(w, 'silent-refresh')
    },
  },
  {
    title:
      'a stolen refresh cookie replayed revokes the whole family: the next refresh fails and the ' +
      'app returns to login',
    async run(w) {
      assert.ok(w.state.stolenCookie, 'the previous step stole no cookie')
      const accessToken = await lastAccessToken(w)
      const replay = await replayRefreshCookie(w, w.state.stolenCookie, 'short-lived')
      assert.deepEqual(
        [replay.status, replay.body.error_description],
        [400, 'refresh token reuse detected, session revoked'],
      )
      // the family's access tokens are revoked too: on the auth service's list, and refused by every
      // service (as revoked, or as expired: the short-lived client's tokens may run out meanwhile)
      const list = (await (await fetch(`${w.system.authUrl}/revocations?after=0`)).json()) as {
        revoked: { jti: string }[]
      }
      assert.ok(list.revoked.some((r) => r.jti === decodeClaims(accessToken).jti), 'not revoked')
      await Promise.all(
        w.system.apis.map(async (api) => {
          const answer = await eventually(() => apiAnswer(`${api.url}/users/me`, accessToken), 401)
          assert.equal(answer.status, 401, api.name)
          assert.match(answer.challenge, /error_description="token (revoked|expired)"/, api.name)
        }),
      )
      // the browser's next refresh (here: at reload) presents the rotated cookie, now revoked
      await w.page.reload()
      await waitForState(w, 'signed-out')
      const refreshes = await entries(w, 'POST', REFRESH_COOKIE_PATH)
      assert.deepEqual(
        refreshes
          .filter((e) => e.page === 'app')
          .map((e) => [e.status, JSON.parse(e.body!).error_description]),
        [[400, 'refresh token revoked']],
      )
      assert.match((await w.page.textContent('#notice')) ?? '', /refresh token revoked/)
      assert.equal(await refreshCookie(w), undefined, 'the dead cookie was not cleared')
      await assertNothingExposed(w)
      await shot(w, 'family-revoked')
    },
  },
  {
    title: 'never showed a refresh token to the page: no token endpoint answered one in its body',
    async run(w) {
      await w.settled()
      const tokenAnswers = w.network.filter((e) =>
        ['/token', REFRESH_COOKIE_PATH, '/revoke'].includes(path(e.url)),
      )
      assert.ok(tokenAnswers.length >= 8, `only ${tokenAnswers.length} token-endpoint answers`)
      for (const e of tokenAnswers) {
        assert.doesNotMatch(e.body ?? '', /refresh_token"/, `${e.method} ${e.url}`)
      }
      await assertNothingExposed(w)
    },
  },
]

/**
 * A page on another origin (127.0.0.1 on a port of its own) that tries, as a CSRF page would, to
 * make the victim's browser use the refresh cookie, and to read an API with whatever comes along.
 */
async function startAttacker(w: Walker): Promise<{ url: string; server: Server }> {
  const refreshUrl = JSON.stringify(`${w.system.authUrl}${REFRESH_COOKIE_PATH}`)
  const apiUrl = JSON.stringify(`${w.system.apis[0]!.url}/users/me`)
  const html = `<!doctype html><title>attacker</title>
<h1>A page on another origin, trying the refresh cookie and an API</h1><pre id="out">running…</pre><script>
(async () => {
  const out = {}
  try {
    await fetch(${refreshUrl}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
    out.simplePost = 'opaque'
  } catch { out.simplePost = 'failed' }
  try {
    const r = await fetch(${refreshUrl}, { method: 'POST', credentials: 'include',
      headers: { ${JSON.stringify(WEB_CLIENT_HEADER)}: ${JSON.stringify(WEB_CLIENT_HEADER_VALUE)} } })
    out.withHeader = 'read ' + r.status
  } catch { out.withHeader = 'blocked' }
  try { out.api = 'read ' + (await fetch(${apiUrl})).status } catch { out.api = 'blocked' }
  document.getElementById('out').textContent = JSON.stringify(out, null, 2)
  document.body.dataset.done = JSON.stringify(out)
})()
</script>`
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(html)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/`, server }
}

async function attackResults(page: Page): Promise<Record<string, string>> {
  await page.locator('body[data-done]').waitFor()
  return JSON.parse((await page.getAttribute('body', 'data-done'))!) as Record<string, string>
}

/** Runs every step in order; stops at the first failure. For the demo. */
export async function runWalk(
  w: Walker,
  report: (title: string, error?: Error) => void,
): Promise<boolean> {
  for (const step of walkSteps) {
    w.step = step.title
    try {
      await step.run(w)
      report(step.title)
    } catch (error) {
      report(step.title, error as Error)
      return false
    }
  }
  return true
}
