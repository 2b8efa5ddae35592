/**
 * The auth service's token introspection (RFC 7662) and opaque access tokens
 * (`ACCESS_TOKEN_FORMAT=opaque`): only configured resource-server clients may ask, an unknown caller
 * learns nothing, a dead token is `{ "active": false }` and nothing more, revocation shows at once;
 * RFC 9701 JWT answers. oauth4webapi reads the answers as an independent client.
 */
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalJWKSet, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import { clientsList, configFromEnv } from '../../examples/auth-service/config.js'
import { decode, dpopProof, get, post, proofKey, testConfig, type Answer } from '../helpers/auth-service-client.js'

const RS = { id: 'orders-api', secret: 'orders-api-introspection-secret' }
const ODD = { id: 'billing.api', secret: 'a secret:with+odd/chars=&%' }
const ENV = { INTROSPECTION_CLIENTS: `${RS.id}:${RS.secret},${ODD.id}:${ODD.secret}` }
const insecure = { [oauth.allowInsecureRequests]: true } as const

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
const basic = (id: string, secret: string) => {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`
}

function suite(format: 'jwt' | 'opaque') {
  describe(`auth service: introspection of ${format} access tokens`, () => {
    let service: RunningAuthService
    let dir: string
    const introspect = (token: string, headers: Record<string, string> = { authorization: basic(RS.id, RS.secret) }, extra = {}) =>
      post(`${service.url}/introspect`, { token, ...extra }, headers)
    const login = async (username = 'bob', headers: Record<string, string> = {}) =>
      (await post(`${service.url}/token`, { username, password: `password_${username}` }, headers)).body

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'bg-introspect-'))
      service = await startAuthService(
        testConfig({ databaseFile: join(dir, 'auth.db') }, { ...ENV, ACCESS_TOKEN_FORMAT: format }),
        { port: 0 },
      )
    })
    afterAll(async () => {
      await service.close()
      rmSync(dir, { recursive: true, force: true })
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('advertises the endpoint, its client authentication and RFC 9701 signing in discovery', async () => {
      const { body } = await get(`${service.url}/.well-known/openid-configuration`)
      expect(body).toMatchObject({
        introspection_endpoint: `${service.issuer}/introspect`,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_signing_alg_values_supported: ['ES256'],
      })
    })

    it('answers a live token for a client_secret_basic caller with its claims', async () => {
      const tokens = await login('bob')
      if (format === 'opaque') expect(tokens.access_token).toMatch(/^[\w-]{43}$/)
      else expect(tokens.access_token.split('.')).toHaveLength(3)
      const res = await introspect(tokens.access_token)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.body).toEqual({
        active: true,
        iss: service.issuer,
        aud: 'demo-api',
        sub: 'bob',
        username: 'bob',
        client_id: 'seed-client',
        scope: 'profile admin',
        roles: ['user', 'admin'],
        exp: expect.any(Number),
        iat: expect.any(Number),
        jti: expect.any(String),
        token_type: 'Bearer',
      })
      expect(res.body.exp - res.body.iat).toBe(900)
      expect(res.body).not.toHaveProperty('sid') // the session id stays private
    })

    it('answers client_secret_post callers too, and Basic credentials with form-encoded characters', async () => {
      const { access_token } = await login('alice')
      const viaPost = await introspect(access_token, {}, { client_id: RS.id, client_secret: RS.secret })
      expect(viaPost.body).toMatchObject({ active: true, sub: 'alice' })
      const odd = await introspect(access_token, { authorization: basic(ODD.id, ODD.secret) })
      expect(odd.body).toMatchObject({ active: true, sub: 'alice' })
    })

    it('is read by oauth4webapi as a valid RFC 7662 answer', async () => {
      const issuer = new URL(service.issuer)
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
      const client = { client_id: RS.id }
      const { access_token } = await login('alice')
      const res = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(RS.secret), access_token, insecure)
      expect(await oauth.processIntrospectionResponse(as, client, res)).toMatchObject({ active: true, sub: 'alice' })
    })

    describe('tells an unauthenticated caller nothing (RFC 7662 §4)', () => {
      const callers: [string, Record<string, string>, Record<string, string>][] = [
        ['no credentials', {}, {}],
        ['a wrong secret (Basic)', { authorization: basic(RS.id, 'wrong-secret-wrong-secret') }, {}],
        ['a wrong secret (post)', {}, { client_id: RS.id, client_secret: 'wrong-secret-wrong-secret' }],
        ['an unknown client', { authorization: basic('mallory', RS.secret) }, {}],
        ['a client id without a secret', {}, { client_id: RS.id }],
        ['a bearer token instead', { authorization: 'Bearer abc' }, {}],
        ['Basic without a colon', { authorization: `Basic ${Buffer.from('orders-api').toString('base64')}` }, {}],
        ['an OAuth client (seed-client) rather than a resource server', {}, { client_id: 'seed-client', client_secret: 'x'.repeat(20) }],
      ]
      it.each(callers)('%s → 401 invalid_client, the same answer for a live token and for garbage', async (_name, headers, extra) => {
        const { access_token } = await login('bob')
        const live = await introspect(access_token, headers, extra)
        const garbage = await introspect('not-a-token', headers, extra)
        expect(live.status).toBe(401)
        expect(live.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' })
        expect(live.headers.get('www-authenticate')).toBe('Basic realm="introspection"')
        expect(garbage.status).toBe(live.status)
        expect(garbage.text).toBe(live.text)
      })

      it('refuses two authentication methods at once (RFC 6749 §2.3)', async () => {
        const res = await introspect('x', { authorization: basic(RS.id, RS.secret) }, { client_id: RS.id, client_secret: RS.secret })
        expect(res.status).toBe(400)
        expect(res.body.error).toBe('invalid_request')
      })
    })

    it('answers only { active: false } for unknown, refresh, expired and revoked tokens', async () => {
      const inactive = async (token: string) => expect((await introspect(token)).body).toEqual({ active: false })
      await inactive('not-a-token')
      await inactive('eyJhbGciOiJFUzI1NiJ9.e30.c2ln')
      const tokens = await login('bob')
      await inactive(tokens.refresh_token) // a refresh token is not an access token

      // revoked (RFC 7009): inactive at once
      expect((await introspect(tokens.access_token)).body.active).toBe(true)
      await post(`${service.url}/revoke`, { token: tokens.access_token, token_type_hint: 'access_token' })
      await inactive(tokens.access_token)

      // expired
      const short = await post(`${service.url}/token`, { username: 'alice', password: 'password_alice', client_id: 'short-lived' })
      expect((await introspect(short.body.access_token)).body.active).toBe(true)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(Date.now() + 4000)
      await inactive(short.body.access_token)
    })

    it('answers inactive for the access tokens of a session ended by refresh-token reuse', async () => {
      const first = await login('alice')
      const second = (await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token })).body
      await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token }) // reuse
      expect((await introspect(second.access_token)).body).toEqual({ active: false })
    })

    it('shows a DPoP-bound token with token_type DPoP and cnf.jkt', async () => {
      const key = await proofKey()
      const url = `${service.issuer}/token`
      const tokens = await login('alice', { dpop: await dpopProof(key, 'POST', url) })
      expect(tokens.token_type).toBe('DPoP')
      expect((await introspect(tokens.access_token)).body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } })
    })

    it('answers a signed JWT when asked (RFC 9701), verifiable with the JWKS', async () => {
      const { access_token } = await login('bob')
      const res = await fetch(`${service.url}/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/token-introspection+jwt',
          authorization: basic(RS.id, RS.secret),
        },
        body: new URLSearchParams({ token: access_token }),
      })
      expect(res.headers.get('content-type')).toBe('application/token-introspection+jwt')
      const jwks = createLocalJWKSet((await get(`${service.url}/jwks.json`)).body as never)
      const { payload, protectedHeader } = await jwtVerify(await res.text(), jwks, {
        issuer: service.issuer,
        audience: RS.id,
        typ: 'token-introspection+jwt',
      })
      expect(protectedHeader.alg).toBe('ES256')
      expect(payload.token_introspection).toMatchObject({ active: true, sub: 'bob', aud: 'demo-api' })
      // and oauth4webapi, configured to expect a signed answer, accepts it
      const issuer = new URL(service.issuer)
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
      const client = { client_id: RS.id, introspection_signed_response_alg: 'ES256' }
      const signed = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(RS.secret), access_token, {
        ...insecure,
        requestJwtResponse: true,
      })
      expect(await oauth.processIntrospectionResponse(as, client, signed)).toMatchObject({ active: true, sub: 'bob' })
    })

    it('logs out with the access token: introspection answers inactive at once', async () => {
      const { access_token } = await login('alice')
      const out = await fetch(`${service.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${access_token}` } })
      expect(out.status).toBe(204)
      expect((await introspect(access_token)).body).toEqual({ active: false })
    })

    it('issues a new token of the same format on refresh', async () => {
      const first = await login('bob')
      const next = (await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token })).body
      expect(next.access_token).not.toBe(first.access_token)
      expect((await introspect(next.access_token)).body).toMatchObject({ active: true, sub: 'bob' })
      if (format === 'opaque') expect(next.access_token).toMatch(/^[\w-]{43}$/)
    })

    if (format === 'opaque') {
      it('stores opaque tokens only as SHA-256 hashes', async () => {
        const { access_token } = await login('alice')
        const db = new Database(join(dir, 'auth.db'), { readonly: true })
        const rows = db.prepare('SELECT token_hash, claims FROM opaque_tokens').all() as { token_hash: string; claims: string }[]
        db.close()
        const hash = createHash('sha256').update(access_token).digest('base64url')
        expect(rows.map((r) => r.token_hash)).toContain(hash)
        expect(JSON.stringify(rows)).not.toContain(access_token)
      })

      it('revoking the refresh token ends the session: its opaque access tokens go inactive at once', async () => {
        const tokens = await login('alice')
        await post(`${service.url}/revoke`, { token: tokens.refresh_token })
        expect((await introspect(tokens.access_token)).body).toEqual({ active: false })
      })
    }
  })
}

suite('jwt')
suite('opaque')

describe('introspection rate limiting', () => {
  let service: RunningAuthService
  beforeAll(async () => {
    service = await startAuthService(testConfig({ rateLimitPerMinute: 3 }, ENV), { port: 0 })
  })
  afterAll(() => service.close())

  it('counts failed authentications only: the fourth failure is 429, successful callers are never limited', async () => {
    const call = (authorization: string): Promise<Answer> => post(`${service.url}/introspect`, { token: 'x' }, { authorization })
    for (let i = 0; i < 5; i++) expect((await call(basic(RS.id, RS.secret))).status).toBe(200)
    const failures = [await call(basic(RS.id, 'guess-1')), await call(basic(RS.id, 'guess-2')), await call(basic(RS.id, 'guess-3'))]
    expect(failures.map((f) => f.status)).toEqual([401, 401, 401])
    const limited = await call(basic(RS.id, 'guess-4'))
    expect(limited.status).toBe(429)
    expect(limited.body.error).toBe('slow_down')
  })
})

describe('introspection and token-format settings', () => {
  it('parses INTROSPECTION_CLIENTS and refuses short secrets or odd ids', () => {
    expect(clientsList('a:0123456789abcdef,b.c:x:y-0123456789ab')).toEqual({ a: '0123456789abcdef', 'b.c': 'x:y-0123456789ab' })
    expect(() => clientsList('a:short')).toThrow(/16 to 256/)
    expect(() => clientsList('a b:0123456789abcdef')).toThrow(/id:secret/)
    expect(configFromEnv({}).introspectionClients).toEqual({})
  })

  it('defaults to JWT access tokens and refuses opaque ones without an introspection client', () => {
    expect(configFromEnv({}).accessTokenFormat).toBe('jwt')
    expect(() => configFromEnv({ ACCESS_TOKEN_FORMAT: 'opaque' })).toThrow(/INTROSPECTION_CLIENTS/)
    expect(() => configFromEnv({ ACCESS_TOKEN_FORMAT: 'reference' })).toThrow(/jwt or opaque/)
    expect(configFromEnv({ ...ENV, ACCESS_TOKEN_FORMAT: 'opaque' }).accessTokenFormat).toBe('opaque')
  })

  it('keeps the HS256 mode working: the JWT answer is signed with the shared secret', async () => {
    const secret = 'a-test-secret-that-is-at-least-32-bytes'
    const service = await startAuthService(testConfig({ secret }, ENV), { port: 0 })
    try {
      const { body } = await post(`${service.url}/token`, { username: 'bob', password: 'password_bob' })
      const res = await post(`${service.url}/introspect`, { token: body.access_token }, {
        authorization: basic(RS.id, RS.secret),
        accept: 'application/token-introspection+jwt',
      })
      const { payload } = await jwtVerify(res.text, new TextEncoder().encode(secret), { typ: 'token-introspection+jwt' })
      expect(payload.token_introspection).toMatchObject({ active: true, sub: 'bob' })
      expect(decode(res.text, 0).alg).toBe('HS256')
    } finally {
      await service.close()
    }
  })
})
