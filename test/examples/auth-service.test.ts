/**
 * The example auth service, over a real socket on 127.0.0.1 (port 0): login, rotation, reuse
 * detection, revocation, rate limiting, key rotation and clean answers to bad input.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, TokenRevokedError } from 'bearer-guard'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import {
  checkSecret,
  configFromEnv,
  type AuthServiceConfig,
} from '../../examples/auth-service/config.js'
import { createRateLimiter } from '../../examples/auth-service/rate-limit.js'
import { hashPassword, verifyPassword } from '../../examples/auth-service/users.js'
import { createPolledRevocationStore } from '../../examples/shared/polled-revocations.js'
import { freezeClock } from '../helpers/clock.js'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes'

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
}

async function post(
  url: string,
  fields: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} }
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url)
  return { status: res.status, headers: res.headers, body: await res.json() }
}

const decode = (jwt: string, part: 0 | 1) =>
  JSON.parse(Buffer.from(jwt.split('.')[part]!, 'base64url').toString())

describe('auth service (ES256)', () => {
  let service: RunningAuthService
  let dir: string
  let login: (username: string, extra?: Record<string, string>) => Promise<Answer>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bg-auth-test-'))
    service = await startAuthService(config({ databaseFile: join(dir, 'auth.db') }), { port: 0 })
    login = (username, extra = {}) =>
      post(`${service.url}/token`, { username, password: `password_${username}`, ...extra })
  })
  afterAll(async () => {
    await service.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('logs alice in with the seed form and issues an RFC 9068 access token and a refresh token', async () => {
    const res = await login('alice')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'profile' })
    expect(decode(res.body.access_token, 0)).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: service.keys.activeKid,
    })
    const claims = decode(res.body.access_token, 1)
    expect(claims).toMatchObject({
      iss: service.issuer,
      aud: 'demo-api',
      sub: 'alice',
      roles: ['user'],
      client_id: 'seed-client',
    })
    expect(claims.exp - claims.iat).toBe(900)
    expect(typeof claims.jti).toBe('string')
    expect(res.body.refresh_token).toMatch(/^[\w-]{43}$/) // 32 random bytes, opaque
  })

  it('issues tokens a bearer-guard verifier accepts through discovery and the JWKS', async () => {
    const verifier = createVerifier({
      issuer: service.issuer,
      audience: 'demo-api',
      tokenType: 'at+jwt',
    })
    const bob = await login('bob')
    const auth = await verifier.verifyAccessToken(bob.body.access_token)
    expect(auth.subject).toBe('bob')
    expect(auth.roles).toEqual(['user', 'admin'])
    expect(auth.scopes).toEqual(['profile', 'admin'])
  })

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const { body } = await login('alice')
    const db = new Database(join(dir, 'auth.db'), { readonly: true })
    const rows = db.prepare('SELECT token_hash FROM refresh_tokens').all() as {
      token_hash: string
    }[]
    db.close()
    const hash = createHash('sha256').update(body.refresh_token).digest('base64url')
    expect(rows.map((r) => r.token_hash)).toContain(hash)
    expect(rows.map((r) => r.token_hash)).not.toContain(body.refresh_token)
  })

  it('rejects a wrong password and an unknown user with the same 400 invalid_grant', async () => {
    const wrong = await post(`${service.url}/token`, { username: 'alice', password: 'nope' })
    const unknown = await post(`${service.url}/token`, { username: 'mallory', password: 'nope' })
    expect(wrong.status).toBe(400)
    expect(unknown.status).toBe(400)
    expect(wrong.body).toEqual({
      error: 'invalid_grant',
      error_description: 'incorrect username or password',
    })
    expect(unknown.body).toEqual(wrong.body)
  })

  it('rotates the refresh token on every use, on /token and on the seed’s /refresh_token', async () => {
    const first = (await login('alice')).body
    const second = await post(`${service.url}/token`, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    })
    expect(second.status).toBe(200)
    expect(second.body.refresh_token).not.toBe(first.refresh_token)
    const third = await post(`${service.url}/refresh_token`, '', {
      authorization: `Bearer ${second.body.refresh_token}`,
    })
    expect(third.status).toBe(200)
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token)
    // same session, same user
    expect(decode(third.body.access_token, 1)).toMatchObject({
      sub: 'alice',
      sid: decode(first.access_token, 1).sid,
    })
  })

  it('revokes the whole family when a rotated refresh token is reused', async () => {
    const first = (await login('alice')).body
    const second = (
      await post(`${service.url}/token`, {
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      })
    ).body

    const reuse = await post(`${service.url}/token`, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    })
    expect(reuse.status).toBe(400)
    expect(reuse.body).toEqual({
      error: 'invalid_grant',
      error_description: 'refresh token reuse detected, session revoked',
    })

    // the descendant is dead too…
    const next = await post(`${service.url}/refresh_token`, '', {
      authorization: `Bearer ${second.refresh_token}`,
    })
    expect(next.status).toBe(401)
    expect(next.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect(next.body.error_description).toBe('refresh token revoked')

    // …and both access tokens of the family are on the revocation list
    const { body } = await get(`${service.url}/revocations?after=0`)
    const jtis = body.revoked.map((r: { jti: string }) => r.jti)
    expect(jtis).toEqual(
      expect.arrayContaining([
        decode(first.access_token, 1).jti,
        decode(second.access_token, 1).jti,
      ]),
    )
  })

  it('answers reuse on the seed’s /refresh_token with 401 and a Bearer challenge', async () => {
    const first = (await login('bob')).body
    await post(`${service.url}/refresh_token`, '', {
      authorization: `Bearer ${first.refresh_token}`,
    })
    const reuse = await post(`${service.url}/refresh_token`, '', {
      authorization: `Bearer ${first.refresh_token}`,
    })
    expect(reuse.status).toBe(401)
    expect(reuse.body.error).toBe('invalid_token')
    expect(reuse.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('binds a refresh token to its client without burning the family on a mismatch', async () => {
    const short = (await login('alice', { client_id: 'short-lived' })).body
    expect(short.expires_in).toBe(3)
    const other = await post(`${service.url}/token`, {
      grant_type: 'refresh_token',
      refresh_token: short.refresh_token,
    })
    expect(other.status).toBe(400)
    expect(other.body.error_description).toBe('refresh token was issued to another client')
    const own = await post(`${service.url}/token`, {
      grant_type: 'refresh_token',
      refresh_token: short.refresh_token,
      client_id: 'short-lived',
    })
    expect(own.status).toBe(200)
  })

  it('revokes an access token (RFC 7009) and resource services refuse it via the polled list', async () => {
    // maxStaleness 0: the store syncs before every answer (the services poll in the background)
    const revocation = createPolledRevocationStore({
      url: `${service.url}/revocations`,
      maxStaleness: 0,
    })
    const verifier = createVerifier({ issuer: service.issuer, audience: 'demo-api', revocation })
    const { access_token } = (await login('bob')).body
    await expect(verifier.verifyAccessToken(access_token)).resolves.toMatchObject({
      subject: 'bob',
    })

    const res = await post(`${service.url}/revoke`, {
      token: access_token,
      token_type_hint: 'access_token',
    })
    expect(res.status).toBe(200)
    await expect(verifier.verifyAccessToken(access_token)).rejects.toBeInstanceOf(TokenRevokedError)
    revocation.close()
  })

  describe('while a verifier may still accept a token (exp + clock tolerance, at most 300 s)', () => {
    it('keeps a revoked jti on the list past its exp', async () => {
      const { access_token } = (await login('alice', { client_id: 'short-lived' })).body
      const { jti, exp } = decode(access_token, 1)
      await post(`${service.url}/revoke`, {
        token: access_token,
        token_type_hint: 'access_token',
        client_id: 'short-lived',
      })
      const listed = async () =>
        (await get(`${service.url}/revocations?after=0`)).body.revoked.map(
          (r: { jti: string }) => r.jti,
        )
      const clock = freezeClock((exp + 60) * 1000) // expired, but within a verifier's clock tolerance
      expect(await listed()).toContain(jti)
      clock.set((exp + 301) * 1000) // no verifier accepts it any more
      expect(await listed()).not.toContain(jti)
    })

    it('revokes a session’s access tokens that have just expired', async () => {
      const first = (await login('bob', { client_id: 'short-lived' })).body
      const { jti, exp } = decode(first.access_token, 1)
      freezeClock((exp + 2) * 1000)
      await post(`${service.url}/revoke`, { token: first.refresh_token, client_id: 'short-lived' })
      const { body } = await get(`${service.url}/revocations?after=0`)
      expect(body.revoked.map((r: { jti: string }) => r.jti)).toContain(jti)
    })
  })

  it('revokes a refresh token (RFC 7009): its session can no longer refresh', async () => {
    const { refresh_token } = (await login('alice')).body
    expect((await post(`${service.url}/revoke`, { token: refresh_token })).status).toBe(200)
    const res = await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token })
    expect(res.status).toBe(400)
    expect(res.body.error_description).toBe('refresh token revoked')
  })

  it('answers /revoke with 200 for tokens it does not know (RFC 7009 §2.2)', async () => {
    const res = await post(`${service.url}/revoke`, { token: 'not-a-token' })
    expect(res.status).toBe(200)
  })

  it('logs out: the access token and its session are revoked', async () => {
    const { access_token, refresh_token } = (await login('alice')).body
    const out = await fetch(`${service.url}/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}` },
    })
    expect(out.status).toBe(204)
    const { body } = await get(`${service.url}/revocations?after=0`)
    expect(body.revoked.map((r: { jti: string }) => r.jti)).toContain(decode(access_token, 1).jti)
    const res = await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token })
    expect(res.body.error_description).toBe('refresh token revoked')
    const again = await fetch(`${service.url}/logout`, {
      method: 'POST',
      headers: { authorization: 'Bearer x.y.z' },
    })
    expect(again.status).toBe(401)
  })

  it('publishes discovery metadata that points at its JWKS', async () => {
    const { body } = await get(`${service.url}/.well-known/openid-configuration`)
    expect(body).toMatchObject({
      issuer: service.issuer,
      jwks_uri: `${service.issuer}/jwks.json`,
      token_endpoint: `${service.issuer}/token`,
      revocation_endpoint: `${service.issuer}/revoke`,
    })
  })

  it('rotates keys: the next key is published before it signs, the old one kept until its tokens expire', async () => {
    const before = service.keys.jwks().keys.map((k) => k.kid)
    const oldKid = service.keys.activeKid
    expect(before).toHaveLength(2) // active + next
    const oldToken = (await login('alice')).body.access_token

    await service.keys.rotate(900)
    const newKid = service.keys.activeKid
    expect(newKid).toBe(before.find((kid) => kid !== oldKid)) // the key that was `next`
    const after = (await get(`${service.url}/jwks.json`)).body.keys.map(
      (k: { kid: string }) => k.kid,
    )
    expect(after).toEqual(expect.arrayContaining([oldKid, newKid]))
    expect(after).toHaveLength(3) // retired + active + new next

    const newToken = (await login('alice')).body.access_token
    expect(decode(newToken, 0).kid).toBe(newKid)
    // a verifier whose JWKS cache predates the rotation still knows the new key
    const verifier = createVerifier({ issuer: service.issuer, audience: 'demo-api' })
    await expect(verifier.verifyAccessToken(oldToken)).resolves.toMatchObject({ header: { kid: oldKid } })
    await expect(verifier.verifyAccessToken(newToken)).resolves.toMatchObject({ header: { kid: newKid } })

    // once the retired key's tokens have expired, it leaves the JWKS
    const later = service.keys.jwks(Date.now() + 901_000).keys.map((k) => k.kid)
    expect(later).not.toContain(oldKid)
    expect(later).toContain(newKid)
  })

  describe('bad input gets a clean OAuth2 error, never a crash', () => {
    const cases: [string, () => Promise<Answer>, number, string][] = [
      [
        'JSON instead of a form',
        () => post(`${service.url}/token`, '{}', { 'content-type': 'application/json' }),
        415,
        'invalid_request',
      ],
      [
        'no username',
        () => post(`${service.url}/token`, { password: 'x' }),
        400,
        'invalid_request',
      ],
      [
        'a repeated parameter',
        () => post(`${service.url}/token`, 'username=alice&username=bob&password=x'),
        400,
        'invalid_request',
      ],
      [
        'an unknown grant type',
        () => post(`${service.url}/token`, { grant_type: 'client_credentials' }),
        400,
        'unsupported_grant_type',
      ],
      ['an unknown client', () => login('alice', { client_id: 'evil' }), 401, 'invalid_client'],
      ['a scope the user lacks', () => login('alice', { scope: 'admin' }), 400, 'invalid_scope'],
      [
        'a body over 4 KiB',
        () => post(`${service.url}/token`, { username: 'a'.repeat(5000), password: 'x' }),
        413,
        'invalid_request',
      ],
      [
        'a password over 256 bytes',
        () => post(`${service.url}/token`, { username: 'alice', password: 'p'.repeat(300) }),
        400,
        'invalid_request',
      ],
      [
        'a refresh token over 512 chars',
        () =>
          post(`${service.url}/token`, {
            grant_type: 'refresh_token',
            refresh_token: 'r'.repeat(600),
          }),
        400,
        'invalid_request',
      ],
      [
        'an unknown refresh token',
        () => post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token: 'nope' }),
        400,
        'invalid_grant',
      ],
      [
        '/refresh_token without a token',
        () => post(`${service.url}/refresh_token`, ''),
        401,
        'invalid_token',
      ],
      [
        '/refresh_token with Basic auth',
        () => post(`${service.url}/refresh_token`, '', { authorization: 'Basic YTpi' }),
        401,
        'invalid_token',
      ],
      ['/revoke without a token', () => post(`${service.url}/revoke`, {}), 400, 'invalid_request'],
      [
        'a negative revocation cursor',
        () => get(`${service.url}/revocations?after=-1`),
        400,
        'invalid_request',
      ],
      ['an unknown path', () => get(`${service.url}/nope`), 404, 'not_found'],
    ]
    it.each(cases)('%s → %i %s', async (_name, request, status, error) => {
      const res = await request()
      expect(res.status).toBe(status)
      expect(res.body.error).toBe(error)
      expect(typeof res.body.error_description).toBe('string')
    })

    it('still serves logins after all of that', async () => {
      expect((await login('bob')).status).toBe(200)
    })
  })
})

describe('auth service rate limiting', () => {
  let service: RunningAuthService
  beforeAll(async () => {
    service = await startAuthService(config({ rateLimitPerMinute: 3 }), { port: 0 })
  })
  afterAll(() => service.close())

  it('answers 429 with Retry-After once a client IP has used its budget, failed attempts included', async () => {
    const attempt = () => post(`${service.url}/token`, { username: 'alice', password: 'guess' })
    const statuses = [(await attempt()).status, (await attempt()).status, (await attempt()).status]
    expect(statuses).toEqual([400, 400, 400])
    const limited = await attempt()
    expect(limited.status).toBe(429)
    expect(limited.body.error).toBe('slow_down')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // the refresh endpoints share the budget
    const refresh = await post(`${service.url}/refresh_token`, '', { authorization: 'Bearer abc' })
    expect(refresh.status).toBe(429)
  })
})

describe('rate limiter', () => {
  it('refills continuously and keys buckets separately', () => {
    const limiter = createRateLimiter(60) // one token per second
    const t = 1_000_000
    for (let i = 0; i < 60; i++) expect(limiter.take('a', t).ok).toBe(true)
    expect(limiter.take('a', t)).toEqual({ ok: false, retryAfter: 1 })
    expect(limiter.take('b', t).ok).toBe(true)
    expect(limiter.take('a', t + 1000).ok).toBe(true)
    expect(limiter.take('a', t + 1000).ok).toBe(false)
  })

  it('does not drain a bucket when the clock steps back', () => {
    const limiter = createRateLimiter(60)
    const t = 1_000_000
    expect(limiter.take('a', t + 60_000).ok).toBe(true)
    // e.g. NTP corrects the clock by a minute: the bucket keeps what it had, no more, no less
    for (let i = 0; i < 59; i++) expect(limiter.take('a', t).ok, `request ${i}`).toBe(true)
    expect(limiter.take('a', t).ok).toBe(false)
  })

  it('bounds the number of keys it remembers', () => {
    const limiter = createRateLimiter(1, 2)
    limiter.take('a', 0)
    limiter.take('b', 0)
    limiter.take('c', 0) // evicts a
    expect(limiter.take('a', 0).ok).toBe(true)
  })
})

describe('auth service (the seed’s HS256 mode)', () => {
  let service: RunningAuthService
  beforeAll(async () => {
    service = await startAuthService(config({ secret: SECRET }), { port: 0 })
  })
  afterAll(() => service.close())

  it('signs HS256 tokens that a verifier with the shared secret accepts, and publishes no keys', async () => {
    const { body } = await post(`${service.url}/token`, {
      username: 'bob',
      password: 'password_bob',
    })
    expect(decode(body.access_token, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    const verifier = createVerifier({
      issuer: service.issuer,
      audience: 'demo-api',
      secret: SECRET,
      tokenType: 'at+jwt',
    })
    await expect(verifier.verifyAccessToken(body.access_token)).resolves.toMatchObject({
      subject: 'bob',
    })
    expect((await get(`${service.url}/jwks.json`)).body).toEqual({ keys: [] })
    expect(
      (await get(`${service.url}/.well-known/openid-configuration`)).body.jwks_uri,
    ).toBeUndefined()
  })

  it('revokes HS256 access tokens too', async () => {
    const { body } = await post(`${service.url}/token`, {
      username: 'alice',
      password: 'password_alice',
    })
    await post(`${service.url}/revoke`, { token: body.access_token })
    const list = (await get(`${service.url}/revocations?after=0`)).body.revoked.map(
      (r: { jti: string }) => r.jti,
    )
    expect(list).toContain(decode(body.access_token, 1).jti)
  })

  it('refuses a secret shorter than 32 bytes, like the seed’s default', () => {
    expect(() => checkSecret('your-super-secret-key-for-auth')).toThrow(/32 bytes/)
    expect(checkSecret(SECRET)).toBe(SECRET)
  })
})

describe('password hashing', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('password_alice')
    const b = await hashPassword('password_alice')
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(a).not.toBe(b)
    expect(a).not.toContain('password_alice')
    expect(await verifyPassword('password_alice', a)).toBe(true)
    expect(await verifyPassword('password_bob', a)).toBe(false)
  })

  it('never matches a malformed hash', async () => {
    expect(await verifyPassword('x', 'plain-text-password')).toBe(false)
    expect(await verifyPassword('x', 'scrypt$16384$8$1$c2FsdA$')).toBe(false)
  })
})
