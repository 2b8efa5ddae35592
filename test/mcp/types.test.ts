/**
 * A project that uses bearer-guard/express and the MCP SDK's `requireBearerAuth` type-checks (tsc,
 * strict, skipLibCheck false): both augment Express's `req.auth` — ours `AuthContext`, the SDK's
 * `AuthInfo` — and the project declares `Register['expressAuth']` once so they agree (docs/mcp.md).
 * Without the declaration it does not compile (TS2430), which is why it exists.
 *
 * The project compiles bearer-guard from src/ (paths); test/consumers compiles the same against the
 * packed tarball.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
mkdirSync(join(root, '.tmp'), { recursive: true })
const dir = mkdtempSync(join(root, '.tmp', 'mcp-types-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const DECLARATION = `declare module 'bearer-guard' {
  interface Register {
    expressAuth: AuthContext | AuthInfo
  }
}
`

const project = (declare: boolean) => `import express from 'express'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { createVerifier, type AuthContext } from 'bearer-guard'
import { protectedResource, requireAuth, requireScopes } from 'bearer-guard/express'
import { mcpTokenVerifier, type AuthInfo } from 'bearer-guard/mcp'

${declare ? DECLARATION : ''}
const verifier = createVerifier({ issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' })
const app = express()
app.use(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'], scopesSupported: ['tools:read'] }))
app.post(
  '/mcp',
  requireBearerAuth({
    verifier: mcpTokenVerifier(verifier),
    requiredScopes: ['tools:read'],
    resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
  }),
  (req, res) => {
    const info: AuthInfo | undefined = req.auth
    res.json({ client: info?.clientId, scopes: info?.scopes })
  },
)
app.get('/orders', requireAuth(verifier, { resourceMetadata: true }), requireScopes('orders:read'), (req, res) => {
  // the SDK types req.auth as its AuthInfo on every Express request; bearer-guard's routes hold an AuthContext
  const auth = req.auth as AuthContext | undefined
  res.json({ sub: auth?.subject, roles: auth?.roles })
})
export default app
`

function compile(name: string, declare: boolean): { status: number; output: string } {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, project(declare))
  const src = relative(dir, join(root, 'src')).replaceAll('\\', '/')
  writeFileSync(
    join(dir, `tsconfig.${name}.json`),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2022',
        types: ['node'],
        esModuleInterop: true,
        paths: {
          'bearer-guard': [`${src}/index.ts`],
          'bearer-guard/express': [`${src}/adapters/express.ts`],
          'bearer-guard/mcp': [`${src}/mcp/index.ts`],
        },
      },
      files: [`${name}.ts`],
    }),
  )
  try {
    const output = execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${name}.json`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    })
    return { status: 0, output }
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string }
    return { status: e.status, output: `${e.stdout}${e.stderr}` }
  }
}

describe('bearer-guard/express beside the MCP SDK’s requireBearerAuth', () => {
  it('type-checks with Register["expressAuth"] declared (strict, skipLibCheck false)', () => {
    const { status, output } = compile('declared', true)
    expect(output).toBe('')
    expect(status).toBe(0)
  }, 150_000)

  it('does not without it: the two augmentations of req.auth clash (TS2430)', () => {
    const { status, output } = compile('undeclared', false)
    expect(status).not.toBe(0)
    expect(output).toMatch(/express-serve-static-core[^\n]*error TS2430: Interface 'Request<P, ResBody, ReqBody, ReqQuery, LocalsObj>' incorrectly extends interface 'Request'/)
    expect(output).toMatch(/Types of property 'auth' are incompatible/)
  }, 150_000)
})
