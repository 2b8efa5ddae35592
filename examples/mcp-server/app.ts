/**
 * A Model Context Protocol server (Streamable HTTP, the SDK's `McpServer`) protected by bearer-guard:
 * an OAuth 2.1 resource server as the MCP authorization spec asks for one.
 *
 *   GET  /                                           public
 *   GET  /.well-known/oauth-protected-resource/mcp   RFC 9728 metadata: the auth service issues its tokens
 *   POST /mcp                                        MCP (JSON-RPC): a token issued for this resource
 *                                                    (RFC 8707 `aud`); 401 challenges carry `resource_metadata`
 *
 * Two tools, each behind a scope: `whoami` (`tools:read`) and `add_note` (`tools:call`). Calling a
 * tool without its scope is refused before the MCP server sees the call: 403 `insufficient_scope`
 * naming the scope, so a client can ask the user for it (the MCP spec's step-up authorization).
 *
 * Stateless: every POST gets a fresh `McpServer` and transport (no session to hijack); GET and
 * DELETE /mcp (server-sent streams, sessions) answer 405.
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'
import { createVerifier, type RevocationStore } from 'bearer-guard'
import { protectedResource, requireAuth, requireScopes } from 'bearer-guard/express'
import { toAuthInfo, type AuthInfo } from 'bearer-guard/mcp'

export interface McpAppOptions {
  /** The auth service: the issuer of the tokens, and the authorization server the metadata names. */
  authUrl: string
  /** This server's resource identifier (RFC 8707), e.g. `http://127.0.0.1:3006/mcp`: tokens must name it in `aud`. */
  resource: string
  /** The seed's HS256 secret, when the auth service runs in that mode; else keys come from its JWKS. */
  secret?: string
  /** jtis revoked at the auth service. */
  revocation?: RevocationStore
}

/** The scope each tool needs. Listing the tools needs only a token for this resource. */
export const TOOL_SCOPES = { whoami: 'tools:read', add_note: 'tools:call' } as const

/** Notes per subject, in memory for the example's lifetime: at most 20 each, for at most 1000 subjects. */
const notes = new Map<string, string[]>()
const MAX_SUBJECTS = 1000

export function createMcpApp(options: McpAppOptions): express.Express {
  // One verifier per process. `resource` is its audience: a token for another API is refused (401).
  const verifier = createVerifier({
    issuer: options.authUrl,
    resource: options.resource,
    tokenType: 'at+jwt', // access tokens only (RFC 9068)
    ...(options.secret ? { secret: options.secret } : {}),
    ...(options.revocation ? { revocation: options.revocation } : {}),
  })

  const app = express()
  app.get('/', (_req, res) => {
    res.json({ message: 'Welcome to the MCP server example!', mcp: options.resource })
  })

  // RFC 9728: where MCP clients learn which authorization server to ask for a token
  app.use(
    protectedResource({
      verifier, // the resource identifier comes from it
      authorizationServers: [options.authUrl],
      scopesSupported: Object.values(TOOL_SCOPES),
      resourceName: 'bearer-guard example MCP server',
    }),
  )

  app.post(
    '/mcp',
    requireAuth(verifier, { resourceMetadata: true }), // 401s say where the metadata is
    express.json({ limit: '64kb' }),
    requireToolScopes,
    async (req: Request, res: Response) => {
      const server = mcpServer()
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      res.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      // the transport hands `req.auth` to the tools as `extra.authInfo`: the SDK's shape of our AuthContext
      const auth = toAuthInfo(req.auth!, { resource: verifier.resource })
      await transport.handleRequest(Object.assign(req, { auth }), res, req.body)
    },
  )
  app.all('/mcp', (_req, res) => {
    res.set('Allow', 'POST').status(405).json({ error: 'method not allowed: this server is stateless' })
  })
  return app
}

/**
 * Before the MCP server runs a tool: the token must carry the tool's scope, else 403
 * `insufficient_scope` with `scope="…"` (bearer-guard's `requireScopes`). Every message of a batch
 * counts; an unknown tool needs nothing here (the MCP server answers that it does not exist).
 */
function requireToolScopes(req: Request, res: Response, next: NextFunction): void {
  const messages: unknown[] = Array.isArray(req.body) ? req.body : [req.body]
  const needed = new Set<string>()
  for (const message of messages) {
    const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } }
    const name = params?.name
    if (method === 'tools/call' && typeof name === 'string' && Object.hasOwn(TOOL_SCOPES, name)) {
      needed.add(TOOL_SCOPES[name as keyof typeof TOOL_SCOPES])
    }
  }
  if (needed.size === 0) return next()
  requireScopes([...needed])(req, res, next)
}

/** The tools' own check as well: the scope must be in the token the call came with. */
function caller(authInfo: AuthInfo | undefined, scope: string): { subject: string; info: AuthInfo } {
  if (!authInfo?.scopes.includes(scope)) throw new Error(`this tool needs the scope ${scope}`)
  return { subject: String(authInfo.extra?.subject ?? ''), info: authInfo }
}

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'bearer-guard-example', version: '1.0.0' })

  server.registerTool(
    'whoami',
    { description: 'Who the server thinks you are: the subject, client and scopes of your token.' },
    async (extra) => {
      const { subject, info } = caller(extra.authInfo, TOOL_SCOPES.whoami)
      const me = {
        subject,
        clientId: info.clientId,
        scopes: info.scopes,
        resource: info.resource?.href,
        notes: notes.get(subject)?.length ?? 0,
      }
      return { content: [{ type: 'text', text: JSON.stringify(me) }], structuredContent: me }
    },
  )

  server.registerTool(
    'add_note',
    {
      description: 'Keeps a short note for you (in memory, at most 20).',
      inputSchema: { text: z.string().min(1).max(200) },
    },
    async ({ text }, extra) => {
      const { subject } = caller(extra.authInfo, TOOL_SCOPES.add_note)
      const mine = notes.get(subject) ?? []
      if (mine.length >= 20) mine.shift()
      mine.push(text)
      notes.delete(subject) // re-inserted last: the first key is the least recently used
      notes.set(subject, mine)
      if (notes.size > MAX_SUBJECTS) notes.delete(notes.keys().next().value!)
      return { content: [{ type: 'text', text: `noted (${mine.length} notes)` }] }
    },
  )
  return server
}
