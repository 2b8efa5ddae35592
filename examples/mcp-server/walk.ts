/**
 * The demo's MCP step (examples/demo.ts): the MCP SDK's own client against the running MCP server
 * example, with a token the auth service issued for the server's resource (RFC 8707).
 *
 *   1. without a token: 401, and the challenge's `resource_metadata` names the auth service
 *   2. bob logs in for the resource with `tools:read tools:call`, lists the tools, calls `whoami`
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

/** One line of the walk: what was checked, and the problem if it failed. */
export interface McpCheck {
  title: string
  problem?: string
}

/** Walks the MCP server at `resource` (its /mcp URL) with tokens of the auth service at `authUrl`. */
export async function walkMcp(authUrl: string, resource: string): Promise<McpCheck[]> {
  const checks: McpCheck[] = []
  const check = async (title: string, run: () => Promise<string | undefined>) => {
    try {
      checks.push({ title, problem: await run() })
    } catch (error) {
      checks.push({ title, problem: (error as Error).message })
    }
  }

  await check('without a token: 401, resource_metadata names the auth service', async () => {
    const res = await fetch(resource, { method: 'POST', signal: AbortSignal.timeout(10_000) })
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(res)
    if (res.status !== 401 || !resourceMetadataUrl) return `got ${res.status} ${res.headers.get('www-authenticate')}`
    const metadata = await discoverOAuthProtectedResourceMetadata(resource, { resourceMetadataUrl })
    const servers = metadata.authorization_servers ?? []
    return servers.includes(authUrl) ? undefined : `authorization_servers ${JSON.stringify(servers)}`
  })

  await check('bob, token for the resource: lists the tools, whoami sees him', async () => {
    const login = await fetch(`${authUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'bob', password: 'password_bob', resource, scope: 'tools:read tools:call' }),
      signal: AbortSignal.timeout(10_000),
    })
    const { access_token } = (await login.json()) as { access_token?: string }
    if (!access_token) return `login answered ${login.status}`
    const client = new Client({ name: 'bearer-guard-demo', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: { headers: { authorization: `Bearer ${access_token}` } },
    })
    await client.connect(transport)
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort()
      if (names.join() !== 'add_note,whoami') return `tools ${names.join()}`
      const me = (await client.callTool({ name: 'whoami' })).structuredContent as { subject?: string } | undefined
      return me?.subject === 'bob' ? undefined : `whoami ${JSON.stringify(me)}`
    } finally {
      await client.close()
    }
  })
  return checks
}
