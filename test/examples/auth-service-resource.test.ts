/**
 * The auth service's resource indicators (RFC 8707): `resource` at /token picks the access token's
 * `aud` from the configured resources; a refresh may narrow it to granted resources, never widen it.
 */
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, isAuthError } from 'bearer-guard'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import { configFromEnv, resourceList } from '../../examples/auth-service/config.js'
import { matchResource } from '../../examples/auth-service/resources.js'
import { openTokenStore } from '../../examples/auth-service/store.js'
import { decode, get, post, testConfig, type Answer } from '../helpers/auth-service-client.js'

const MCP = 'https://mcp.example.test/mcp'
const ORDERS = 'https://orders.example.test/'

describe('auth service: resource indicators (RFC 8707)', () => {
  let service: RunningAuthService
  let login: (fields?: Record<string, string> | URLSearchParams) => Promise<Answer>
  const refresh = (refreshToken: string, extra: [string, string][] = []) =>
    post(`${service.url}/token`, new URLSearchParams([['grant_type', 'refresh_token'], ['refresh_token', refreshToken], ...extra]))

  beforeAll(async () => {
    service = await startAuthService(testConfig({}, { API_RESOURCES: `${MCP},${ORDERS}` }), { port: 0 })
    login = (fields = {}) => {
      const form = new URLSearchParams(fields)
      form.set('username', 'bob')
      form.set('password', 'password_bob')
      return post(`${service.url}/token`, form)
    }
  })
  afterAll(() => service.close())

  it('keeps the default audience when no resource is named', async () => {
    const res = await login()
    expect(res.status).toBe(200)
    expect(decode(res.body.access_token).aud).toBe('demo-api')
  })

  it('issues a token whose aud is the resource asked for, accepted by that resource only', async () => {
    const res = await login({ resource: MCP })
    expect(res.status).toBe(200)
    expect(decode(res.body.access_token).aud).toBe(MCP)

    const mcp = createVerifier({ issuer: service.issuer, audience: MCP })
    expect((await mcp.verifyAccessToken(res.body.access_token)).audience).toEqual([MCP])
    const api = createVerifier({ issuer: service.issuer, audience: 'demo-api' })
    const error = await api.verifyAccessToken(res.body.access_token).catch((e: unknown) => e)
    expect(isAuthError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'invalid_token', claim: 'aud' })
  })

  it('matches a resource that differs by one trailing slash, and issues the configured spelling', async () => {
    expect(decode((await login({ resource: `${MCP}/` })).body.access_token).aud).toBe(MCP)
    expect(decode((await login({ resource: 'https://orders.example.test' })).body.access_token).aud).toBe(ORDERS)
  })

  it('issues one token for several resources when several are named (aud is an array)', async () => {
    const res = await login(new URLSearchParams([['resource', MCP], ['resource', ORDERS]]))
    expect(res.status).toBe(200)
    expect(decode(res.body.access_token).aud).toEqual([MCP, ORDERS])
  })

  const refusals: [string, string, string][] = [
    ['an unknown resource', 'https://evil.example.test/', 'unknown resource'],
    ['a relative reference', '/mcp', 'resource must be an absolute URI'],
    ['a bare name, even the default audience', 'demo-api', 'resource must be an absolute URI'],
    ['a resource with a fragment', `${MCP}#tools`, 'resource must not contain a fragment'],
  ]
  it.each(refusals)('refuses %s with 400 invalid_target', async (_name, resource, description) => {
    const res = await login({ resource })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'invalid_target', error_description: description })
  })

  it('refuses an unknown resource among known ones', async () => {
    const res = await login(new URLSearchParams([['resource', MCP], ['resource', 'https://evil.example.test/']]))
    expect(res.body.error).toBe('invalid_target')
  })

  it('refreshes for the granted resources, or narrows to some of them (RFC 8707 §2.2)', async () => {
    const first = (await login(new URLSearchParams([['resource', MCP], ['resource', ORDERS]]))).body
    const all = await refresh(first.refresh_token)
    expect(all.status).toBe(200)
    expect(decode(all.body.access_token).aud).toEqual([MCP, ORDERS])
    const narrowed = await refresh(all.body.refresh_token, [['resource', MCP]])
    expect(narrowed.status).toBe(200)
    expect(decode(narrowed.body.access_token).aud).toBe(MCP)
    // narrowing one access token does not narrow the grant: the next refresh may ask for the other
    const other = await refresh(narrowed.body.refresh_token, [['resource', ORDERS]])
    expect(decode(other.body.access_token).aud).toBe(ORDERS)
  })

  it('never widens at a refresh: a resource not granted is invalid_target and uses nothing up', async () => {
    const first = (await login({ resource: MCP })).body
    const widen = await refresh(first.refresh_token, [['resource', ORDERS]])
    expect(widen.status).toBe(400)
    expect(widen.body).toEqual({ error: 'invalid_target', error_description: 'resource not granted' })
    const defaultAudience = await refresh(first.refresh_token, [['resource', 'https://evil.example.test/']])
    expect(defaultAudience.body.error).toBe('invalid_target')
    // the refresh token was not rotated by the refused requests (no reuse detected now)
    const ok = await refresh(first.refresh_token)
    expect(ok.status).toBe(200)
    expect(decode(ok.body.access_token).aud).toBe(MCP)
  })

  it('narrows on the seed’s /refresh_token too', async () => {
    const first = (await login(new URLSearchParams([['resource', MCP], ['resource', ORDERS]]))).body
    const res = await post(`${service.url}/refresh_token`, { resource: ORDERS }, { authorization: `Bearer ${first.refresh_token}` })
    expect(res.status).toBe(200)
    expect(decode(res.body.access_token).aud).toBe(ORDERS)
  })

  it('grants the MCP tool scopes only when asked for by name: alice tools:read, bob tools:read and tools:call', async () => {
    const ask = (username: string, scope?: string) =>
      post(`${service.url}/token`, { username, password: `password_${username}`, resource: MCP, ...(scope ? { scope } : {}) })
    // not by default: tokens for the seed's API keep their scopes
    expect((await ask('bob')).body.scope).toBe('profile admin')
    const bob = await ask('bob', 'tools:read tools:call')
    expect(bob.status).toBe(200)
    expect(decode(bob.body.access_token)).toMatchObject({ aud: MCP, scope: 'tools:read tools:call' })
    expect(decode((await ask('alice', 'tools:read')).body.access_token).scope).toBe('tools:read')
    const refused = await ask('alice', 'tools:read tools:call')
    expect(refused.status).toBe(400)
    expect(refused.body.error).toBe('invalid_scope')
    const discovery = (await get(`${service.url}/.well-known/oauth-authorization-server`)).body
    expect(discovery.scopes_supported).toEqual(['profile', 'admin', 'tools:read', 'tools:call'])
  })

  it('revokes and logs out tokens issued for a resource', async () => {
    const { access_token } = (await login({ resource: MCP })).body
    expect((await post(`${service.url}/revoke`, { token: access_token, token_type_hint: 'access_token' })).status).toBe(200)
    const listed = (await get(`${service.url}/revocations?after=0`)).body.revoked.map((r: { jti: string }) => r.jti)
    expect(listed).toContain(decode(access_token).jti)

    const other = (await login({ resource: ORDERS })).body.access_token
    const out = await fetch(`${service.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${other}` } })
    expect(out.status).toBe(204)
  })
})

describe('resource settings', () => {
  it('reads API_RESOURCES (absolute URIs) and always includes the default audience first', () => {
    expect(configFromEnv({ API_RESOURCES: `${MCP}, ${ORDERS}` }).resources).toEqual(['demo-api', MCP, ORDERS])
    expect(configFromEnv({ API_AUDIENCE: MCP, API_RESOURCES: MCP }).resources).toEqual([MCP])
    expect(configFromEnv({}).resources).toEqual(['demo-api'])
  })

  it('refuses a configured resource that is not an absolute URI or has a fragment', () => {
    expect(() => resourceList('mcp')).toThrow(/absolute URI/)
    expect(() => resourceList(`${MCP}#x`)).toThrow(/fragment/)
  })

  it('matches exactly first, then up to one trailing slash', () => {
    expect(matchResource('https://a.test/x/', ['https://a.test/x', 'https://a.test/x/'])).toBe('https://a.test/x/')
    expect(matchResource('https://a.test/x/', ['https://a.test/x'])).toBe('https://a.test/x')
    expect(matchResource('https://a.test/x//', ['https://a.test/x'])).toBeUndefined()
    expect(matchResource('https://a.test/y', ['https://a.test/x'])).toBeUndefined()
  })
})

describe('a database from before resources and DPoP', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bg-auth-migrate-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('gains the new columns, and its refresh tokens refresh for the default audience', async () => {
    const file = join(dir, 'auth.db')
    const old = new Database(file)
    old.exec(`CREATE TABLE refresh_tokens (
      token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, username TEXT NOT NULL, client_id TEXT NOT NULL,
      scope TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, revoked_at INTEGER)`)
    const now = Math.floor(Date.now() / 1000)
    const token = 'an-old-refresh-token-from-before-the-upgrade'
    old
      .prepare('INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)')
      .run(createHash('sha256').update(token).digest('base64url'), 'family-1', 'alice', 'seed-client', 'profile', now, now + 3600)
    old.close()

    const store = openTokenStore(file, 3600)
    store.close()
    const service = await startAuthService(testConfig({ databaseFile: file }), { port: 0 })
    try {
      const res = await post(`${service.url}/token`, { grant_type: 'refresh_token', refresh_token: token })
      expect(res.status).toBe(200)
      expect(decode(res.body.access_token)).toMatchObject({ sub: 'alice', aud: 'demo-api' })
    } finally {
      await service.close()
    }
  })
})
