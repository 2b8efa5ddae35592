/**
 * The web app's token handling (examples/web/src/session.ts and challenge.ts) without a browser:
 * `fetch` is replaced by a scripted auth service and resource service, so the order of answers
 * (which 401 arrives before or after the refresh) is decided by the test, not by timing.
 * The same code in a real Chromium against the real services: browser-client.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  isExpired,
  isRevoked,
  parseBearerChallenge,
} from '../../examples/web/src/challenge.js'
import { createSession } from '../../examples/web/src/session.js'

const API = 'http://127.0.0.1:3001'
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
/** A token the page can read its claims from (it never verifies one: the services do). */
const jwt = (sub: string, n: number) =>
  `${b64({ alg: 'ES256' })}.${b64({ sub, roles: ['user'], n })}.sig`
const EXPIRED = 'Bearer realm="api", error="invalid_token", error_description="token expired"'

interface Sent {
  url: string
  method: string
  headers: Record<string, string>
  body: string
  credentials?: RequestCredentials
}

/** A deferred answer: the test resolves it when it wants the answer to arrive. */
function later() {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  return { gate, release }
}

describe('the web app’s session (session.ts)', () => {
  let sent: Sent[]
  /** The access token the scripted auth service hands out next. */
  let issued: number
  /** What the resource service answers, by access token. */
  let api: (token: string, url: string) => Promise<Response>
  /** What /refresh_token answers. */
  let refreshAnswer: () => Promise<Response>
  let events: string[]
  let signedOut: (string | undefined)[]

  const json = (status: number, body: object, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })
  const tokens = () =>
    json(200, { access_token: jwt('alice', ++issued), token_type: 'Bearer', expires_in: 2 })

  beforeEach(() => {
    sent = []
    issued = 0
    events = []
    signedOut = []
    api = async () => json(200, { username: 'alice' })
    refreshAnswer = async () => tokens()
    vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries())
      sent.push({
        url: String(input),
        method: init.method ?? 'GET',
        headers,
        body: String(init.body ?? ''),
        credentials: init.credentials,
      })
      if (input === '/token') return tokens()
      if (input === '/refresh_token') return refreshAnswer()
      if (input === '/revoke') return new Response(null, { status: 200 })
      return api(headers.authorization!.slice('Bearer '.length), String(input))
    })
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  const newSession = () =>
    createSession({
      clientId: 'short-lived',
      onEvent: (e) => events.push(e),
      onSignedOut: (reason) => signedOut.push(reason),
    })
  const refreshes = () => sent.filter((s) => s.url === '/refresh_token')
  const apiCalls = () => sent.filter((s) => s.url.startsWith(API))

  it('logs in through /token with the CSRF header, and calls APIs with the token and no cookie', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    expect(session.user).toMatchObject({ name: 'alice', roles: ['user'] })
    const login = sent[0]!
    expect(login).toMatchObject({ url: '/token', method: 'POST', credentials: 'same-origin' })
    expect(login.headers['x-requested-with']).toBe('fetch')
    expect(Object.fromEntries(new URLSearchParams(login.body))).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: 'password_alice',
      client_id: 'short-lived',
    })
    const answer = await session.call(`${API}/users/me`)
    expect(answer).toMatchObject({ status: 200, retried: false, body: { username: 'alice' } })
    expect(apiCalls()[0]).toMatchObject({ credentials: 'omit' })
    expect(apiCalls()[0]!.headers.authorization).toBe(`Bearer ${jwt('alice', 1)}`)
    expect(refreshes()).toEqual([])
  })

  it('refuses a login answer that carries a refresh token (the auth service is not in cookie mode)', async () => {
    vi.stubGlobal('fetch', async () =>
      json(200, { access_token: jwt('alice', 1), refresh_token: 'r', expires_in: 900 }),
    )
    await expect(newSession().login('alice', 'x')).rejects.toThrow(/refresh token in the body/)
  })

  it('refreshes once for concurrent requests refused as expired, and retries each once', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    const refresh = later()
    refreshAnswer = async () => {
      await refresh.gate
      return tokens()
    }
    api = async (token) =>
      token === jwt('alice', 1)
        ? json(401, { error: 'invalid_token' }, { 'www-authenticate': EXPIRED })
        : json(200, { username: 'alice' })

    const calls = [1, 2, 3].map((i) => session.call(`${API}/r${i}`))
    await vi.waitFor(() => expect(refreshes()).toHaveLength(1))
    refresh.release()
    const answers = await Promise.all(calls)

    expect(answers.map((a) => [a.status, a.retried])).toEqual([
      [200, true],
      [200, true],
      [200, true],
    ])
    expect(refreshes()).toHaveLength(1)
    expect(new URLSearchParams(refreshes()[0]!.body).get('client_id')).toBe('short-lived')
    expect(refreshes()[0]!.credentials).toBe('same-origin')
    const byToken = apiCalls().map((c) => c.headers.authorization)
    expect(byToken.filter((t) => t === `Bearer ${jwt('alice', 1)}`)).toHaveLength(3)
    expect(byToken.filter((t) => t === `Bearer ${jwt('alice', 2)}`)).toHaveLength(3)
  })

  it('retries a 401 that arrives after the refresh with the new token, without refreshing again', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    const slow = later()
    api = async (token, url) => {
      if (token !== jwt('alice', 1)) return json(200, {})
      if (url.endsWith('/slow')) await slow.gate
      return json(401, {}, { 'www-authenticate': EXPIRED })
    }
    // both leave with the old token; the slow one's 401 arrives once the refresh is over
    const late = session.call(`${API}/slow`)
    expect(await session.call(`${API}/fast`)).toMatchObject({ status: 200, retried: true })
    expect(refreshes()).toHaveLength(1)
    slow.release()
    expect(await late).toMatchObject({ status: 200, retried: true })
    expect(refreshes()).toHaveLength(1)
    expect(apiCalls().at(-1)!.headers.authorization).toBe(`Bearer ${jwt('alice', 2)}`)
  })

  it('retries only once: a second expiry answer is returned as it is', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    api = async () => json(401, {}, { 'www-authenticate': EXPIRED })
    const answer = await session.call(`${API}/users/me`)
    expect(answer).toMatchObject({ status: 401, retried: true })
    expect(refreshes()).toHaveLength(1)
    expect(apiCalls()).toHaveLength(2)
  })

  it('does not refresh for other 401s and 403s, which a new token cannot fix', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    for (const [status, challenge] of [
      [401, 'Bearer error="invalid_token", error_description="invalid signature"'],
      [401, 'Bearer realm="api"'],
      [403, 'Bearer error="insufficient_scope", error_description="insufficient role"'],
    ] as const) {
      api = async () => json(status, {}, { 'www-authenticate': challenge })
      expect((await session.call(`${API}/x`)).status).toBe(status)
    }
    expect(refreshes()).toEqual([])
    expect(signedOut).toEqual([])
  })

  it('ends the session when the access token is revoked', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    api = async () =>
      json(401, {}, {
        'www-authenticate': 'Bearer error="invalid_token", error_description="token revoked"',
      })
    await session.call(`${API}/users/me`)
    expect(signedOut).toEqual(['access token token revoked'])
    expect(session.user).toBeUndefined()
    await expect(session.call(`${API}/users/me`)).rejects.toThrow(/not signed in/)
    expect(refreshes()).toEqual([])
  })

  it('ends the session when the refresh fails (reuse detected), and returns the 401', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    api = async () => json(401, {}, { 'www-authenticate': EXPIRED })
    refreshAnswer = async () =>
      json(400, {
        error: 'invalid_grant',
        error_description: 'refresh token reuse detected, session revoked',
      })
    const answers = await Promise.all([session.call(`${API}/a`), session.call(`${API}/b`)])
    expect(answers.map((a) => [a.status, a.retried])).toEqual([
      [401, false],
      [401, false],
    ])
    expect(refreshes()).toHaveLength(1)
    expect(signedOut).toEqual(['refresh token reuse detected, session revoked'])
  })

  it('restores a session at load through the cookie, and stays quiet when there is none', async () => {
    const session = newSession()
    expect(await session.restore()).toBe(true)
    expect(session.user?.name).toBe('alice')
    refreshAnswer = async () =>
      json(400, { error: 'invalid_request', error_description: 'no refresh token cookie' })
    const fresh = newSession()
    expect(await fresh.restore()).toBe(false)
    expect(signedOut).toEqual([undefined]) // nobody was signed in: no "session ended" message
  })

  it('logs out through /revoke with the access token, then forgets it', async () => {
    const session = newSession()
    await session.login('alice', 'password_alice')
    await session.logout()
    const revoke = sent.find((s) => s.url === '/revoke')!
    expect(revoke.headers['x-requested-with']).toBe('fetch')
    expect(Object.fromEntries(new URLSearchParams(revoke.body))).toEqual({
      token: jwt('alice', 1),
      token_type_hint: 'access_token',
      client_id: 'short-lived',
    })
    expect(signedOut).toEqual([undefined])
    expect(session.user).toBeUndefined()
    await expect(session.call(`${API}/users/me`)).rejects.toThrow(/not signed in/)
  })
})

describe('the Bearer challenge reader (challenge.ts)', () => {
  it('reads bearer-guard’s challenges', () => {
    expect(parseBearerChallenge(EXPIRED)).toEqual({
      realm: 'api',
      error: 'invalid_token',
      description: 'token expired',
      scope: undefined,
    })
    expect(
      parseBearerChallenge('Bearer error="insufficient_scope", scope="admin read"'),
    ).toMatchObject({ error: 'insufficient_scope', scope: 'admin read' })
    expect(parseBearerChallenge('Bearer')).toEqual({
      realm: undefined,
      error: undefined,
      description: undefined,
      scope: undefined,
    })
  })

  it('handles quoted-string escapes, token values, case and other schemes', () => {
    const escaped = 'bearer ERROR=invalid_token, error_description="a \\"b\\" c"'
    expect(parseBearerChallenge(escaped)).toMatchObject({
      error: 'invalid_token',
      description: 'a "b" c',
    })
    expect(parseBearerChallenge('DPoP algs="ES256", Bearer error="invalid_token"')?.error).toBe(
      'invalid_token',
    )
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined()
    expect(parseBearerChallenge(null)).toBeUndefined()
  })

  it('tells an expired token from a revoked one and from the rest', () => {
    const c = (d: string, error = 'invalid_token') => ({ error, description: d })
    expect(isExpired(c('token expired'))).toBe(true)
    expect(isExpired(c('Token has expired'))).toBe(true) // the seed's wording
    expect(isExpired(c('token expired', 'invalid_request'))).toBe(false)
    expect(isExpired(c('token revoked'))).toBe(false)
    expect(isExpired(undefined)).toBe(false)
    expect(isRevoked(c('token revoked'))).toBe(true)
    expect(isRevoked(c('invalid signature'))).toBe(false)
  })
})
