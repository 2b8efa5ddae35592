/**
 * The MCP server example (examples/mcp-server) driven by the MCP SDK's own client
 * (`Client` + `StreamableHTTPClientTransport`) over real sockets on 127.0.0.1, with tokens from the
 * example auth service (RFC 8707 `resource` → `aud`). The client's fetch is recorded, so each test
 * reads the HTTP answers the SDK got (status, `WWW-Authenticate`) with the SDK's own parsers.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import { createMcpApp } from '../../examples/mcp-server/app.js'
import { post, testConfig } from '../helpers/auth-service-client.js'

/** Another API the auth service issues tokens for. */
const ORDERS = 'https://orders.example.test/'

let auth: RunningAuthService
let server: Server
let resource: string

beforeAll(async () => {
  // the port first: the resource identifier names it, and the auth service must know the resource
  server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
  auth = await startAuthService(testConfig({}, { API_RESOURCES: `${resource},${ORDERS}` }), { port: 0 })
  server.on('request', createMcpApp({ authUrl: auth.issuer, resource }))
})

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await auth?.close()
})

/** An access token from the auth service's /token (password grant). */
async function token(username: 'alice' | 'bob', fields: Record<string, string>): Promise<string> {
  const res = await post(`${auth.url}/token`, { username, password: `password_${username}`, ...fields })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.access_token as string
}

interface Connection {
  client: Client
  /** Every HTTP answer the SDK's transport received, in order. */
  answers: Response[]
  /** `client.connect()`'s outcome: `undefined`, or what it threw. */
  connected: unknown
}

/** The SDK's client on the example's /mcp, sending `token` as a bearer token (none: no header). */
async function connect(accessToken?: string): Promise<Connection> {
  const answers: Response[] = []
  const transport = new StreamableHTTPClientTransport(new URL(resource), {
    requestInit: accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {},
    fetch: async (url, init) => {
      const res = await fetch(url, init)
      // status and headers only: a clone would hold a copy of every server-sent stream
      answers.push(new Response(null, { status: res.status, headers: res.headers }))
      return res
    },
  })
  const client = new Client({ name: 'bearer-guard-test', version: '1.0.0' })
  const connected = await client.connect(transport).then(
    () => undefined,
    (error: unknown) => error,
  )
  return { client, answers, connected }
}

/** The last answer with `status` (the SDK may follow up with other requests). */
const answer = (c: Connection, status: number) => {
  const found = c.answers.findLast((r) => r.status === status)
  expect(found, `an answer ${status} among ${c.answers.map((r) => r.status).join(', ')}`).toBeDefined()
  return found as Response
}

/** The first text content of a tool's result. */
const text = (result: Record<string, unknown>) => (result.content as { type: string; text: string }[] | undefined)?.[0]?.text

describe('the MCP server example, with the SDK’s client', () => {
  it('answers a client without a token 401 with resource_metadata, whose document names the auth service', async () => {
    const c = await connect()
    expect(c.connected).toBeInstanceOf(StreamableHTTPError)
    expect((c.connected as StreamableHTTPError).code).toBe(401)
    const challenge = answer(c, 401)
    expect(challenge.headers.get('www-authenticate')).toMatch(/^Bearer /)
    const params = extractWWWAuthenticateParams(challenge)
    const metadataUrl = `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`
    expect(params.resourceMetadataUrl?.href).toBe(metadataUrl)

    // the SDK's own discovery (RFC 9728 §3.1 path insertion) finds the same document
    const metadata = await discoverOAuthProtectedResourceMetadata(resource, { resourceMetadataUrl: params.resourceMetadataUrl })
    expect(await discoverOAuthProtectedResourceMetadata(resource)).toEqual(metadata)
    expect(metadata).toMatchObject({
      resource,
      authorization_servers: [auth.issuer],
      scopes_supported: ['tools:read', 'tools:call'],
      bearer_methods_supported: ['header'],
    })
    // …and that authorization server is the example auth service (RFC 8414), with its token endpoint
    // (not through the SDK's discovery, which insists on an authorization endpoint the service lacks)
    const as = await (await fetch(`${metadata.authorization_servers![0]}/.well-known/oauth-authorization-server`)).json()
    expect(as).toMatchObject({ issuer: auth.issuer, token_endpoint: `${auth.issuer}/token` })
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['tools:read', 'tools:call']))
    await c.client.close()
  })

  it('refuses a token the auth service issued for another resource (401 invalid_token)', async () => {
    // for the orders API, and for the auth service's default audience (no resource named)
    const others: Record<string, string>[] = [{ resource: ORDERS, scope: 'tools:read' }, { scope: 'tools:read' }]
    for (const other of others) {
      const c = await connect(await token('alice', other))
      expect((c.connected as StreamableHTTPError).code).toBe(401)
      const challenge = answer(c, 401)
      expect(extractWWWAuthenticateParams(challenge)).toMatchObject({ error: 'invalid_token' })
      expect(extractWWWAuthenticateParams(challenge).resourceMetadataUrl).toBeDefined()
      await c.client.close()
    }
  })

  it('refuses a tool without its scope: 403 insufficient_scope naming the scope, while the allowed tool runs', async () => {
    const c = await connect(await token('alice', { resource, scope: 'tools:read' }))
    expect(c.connected).toBeUndefined()
    const { tools } = await c.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['add_note', 'whoami'])
    expect(JSON.parse(text(await c.client.callTool({ name: 'whoami' })) ?? '')).toMatchObject({ subject: 'alice', scopes: ['tools:read'] })

    const refused = await c.client.callTool({ name: 'add_note', arguments: { text: 'hi' } }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(StreamableHTTPError)
    expect((refused as StreamableHTTPError).code).toBe(403)
    const params = extractWWWAuthenticateParams(answer(c, 403))
    expect(params).toMatchObject({ error: 'insufficient_scope', scope: 'tools:call' })
    await c.client.close()
  })

  it('lists and calls both tools with the right token, and the tools see the token as authInfo', async () => {
    const c = await connect(await token('bob', { resource, scope: 'tools:read tools:call' }))
    expect(c.connected).toBeUndefined()
    const { tools } = await c.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['add_note', 'whoami'])

    expect(text(await c.client.callTool({ name: 'add_note', arguments: { text: 'from the test' } }))).toMatch(/^noted \(\d+ notes\)$/)
    const whoami = await c.client.callTool({ name: 'whoami' })
    expect(whoami.structuredContent).toEqual({
      subject: 'bob',
      clientId: 'seed-client',
      scopes: ['tools:read', 'tools:call'],
      resource,
      notes: expect.any(Number),
    })
    expect((whoami.structuredContent as { notes: number }).notes).toBeGreaterThanOrEqual(1)
    await c.client.close()
  })

  it('counts every message of a batch: a tools/call cannot ride along without its scope', async () => {
    const alice = await token('alice', { resource, scope: 'tools:read' })
    const call = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { text: 'x' } } })
    const res = await fetch(resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify([call(1, 'whoami'), call(2, 'add_note')]),
    })
    expect(res.status).toBe(403)
    // the scopes the whole batch needs
    expect(extractWWWAuthenticateParams(res)).toMatchObject({ error: 'insufficient_scope', scope: 'tools:read tools:call' })
  })
})
