/**
 * The MCP server example (examples/mcp-server/app.ts) on a port: the auth service's tokens, issued
 * for this server's resource (`resource=<MCP_RESOURCE>` at /token), are the only ones it accepts.
 *
 *   MCP_RESOURCE   this server's resource identifier, default `http://127.0.0.1:<port>/mcp`; behind
 *                  a proxy, its public https URL. The auth service must list it in API_RESOURCES.
 *   (and examples/shared/settings.ts: PORT, AUTH_URL, AUTH_SECRET_KEY, REDIS_URL, REVOCATION_POLL_MS)
 *
 * Run: `API_RESOURCES=http://127.0.0.1:3006/mcp node --import tsx examples/auth-service/main.ts` and
 * `node --import tsx examples/mcp-server/server.ts --port 3006 --auth-url http://127.0.0.1:8001`
 */
import { resourceSettings } from '../shared/settings.js'
import { createMcpApp } from './app.js'

const env = resourceSettings(3006)
const resource = process.env.MCP_RESOURCE || `http://127.0.0.1:${env.port}/mcp`

const app = createMcpApp({ authUrl: env.authUrl, resource, revocation: env.revocation, ...env.keySource })

app.listen(env.port, '127.0.0.1', () => {
  console.log(`[mcp-server] listening on http://127.0.0.1:${env.port}, resource ${resource}, trusting ${env.authUrl}`)
})
