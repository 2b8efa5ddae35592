/**
 * The fixture projects of the consumer matrix: what each installs next to the packed bearer-guard,
 * and its files. Versions of frameworks and tools are the repo's own dev dependencies (so npm's cache
 * already holds them); TypeScript is the repo's `~5.9`.
 *
 * - `node`: a Node service with every framework, the MCP SDK, msw, vitest and `@types/node`. Runtime
 *   imports of every subpath (ESM and CJS), and `tsc` as an ESM project (nodenext), a CJS project
 *   (node16), a legacy project (`moduleResolution: node`, node10) and a bundler project; an MCP server
 *   project with bearer-guard/express beside the SDK's `requireBearerAuth`; a vitest test of a Next
 *   route handler.
 * - `lean`: a Node service without msw, Next or Hono: `tsc` without the DOM lib (Node's own types
 *   only, as `tsc --init` and `@tsconfig/node20` set it up) and a project without msw.
 * - `edge`: an edge project (Hono, no `@types/node`): `tsc` with `types: []` and lib ES2022 + DOM.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, type Fixture } from './harness.js'

const repoPkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>
}

/** The repo's dev-dependency range of each named package. */
function versions(...names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const v = repoPkg.devDependencies[name]
    if (!v) throw new Error(`${name} is not a dev dependency of the repo`)
    out[name] = v
  }
  return out
}

/** Strictest checking a user may have: strict, and the types of every package checked (skipLibCheck off). */
const STRICT = { strict: true, skipLibCheck: false, noEmit: true, esModuleInterop: true, target: 'ES2022' }

function tsconfig(files: string[], options: Record<string, unknown>): string {
  return `${JSON.stringify({ compilerOptions: { ...STRICT, ...options }, files }, null, 2)}\n`
}

/** The TypeScript checks: a project setup and the fixture file it compiles. */
export interface TypeCell {
  name: string
  fixture: 'node' | 'lean' | 'edge'
  tsconfig: string
}

export const TYPE_CELLS: readonly TypeCell[] = [
  { name: 'ESM project, module/moduleResolution nodenext', fixture: 'node', tsconfig: 'tsconfig.nodenext.json' },
  { name: 'CJS project, module/moduleResolution node16', fixture: 'node', tsconfig: 'tsconfig.node16.json' },
  { name: 'legacy project, moduleResolution node (node10)', fixture: 'node', tsconfig: 'tsconfig.node10.json' },
  { name: 'bundler project, moduleResolution bundler', fixture: 'node', tsconfig: 'tsconfig.bundler.json' },
  { name: 'NestJS 12 project (ESM, nodenext, decorators)', fixture: 'node', tsconfig: 'tsconfig.nest.json' },
  { name: "MCP server project: bearer-guard/express beside the SDK's requireBearerAuth (nodenext)", fixture: 'node', tsconfig: 'tsconfig.mcp.json' },
  { name: 'Node project without the DOM lib (lib ES2023, types node)', fixture: 'lean', tsconfig: 'tsconfig.nodom.json' },
  { name: 'project without msw importing bearer-guard/testing, and without @opentelemetry/api importing bearer-guard/otel', fixture: 'lean', tsconfig: 'tsconfig.nomsw.json' },
  { name: 'edge project without @types/node (types [], lib ES2022 + DOM)', fixture: 'edge', tsconfig: 'tsconfig.json' },
]

// ---- type-checked sources (one body, compiled as .mts, .cts and .ts) ----

const CORE = `import {
  createVerifier,
  isAuthError,
  toErrorResponse,
  type AuthContext,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  type KeyInput,
  type VerifierOptions,
} from 'bearer-guard'
import { keycloak } from 'bearer-guard/presets'
import { createTestIssuer } from 'bearer-guard/testing'

const jwk: JWK = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }
const keys: KeyInput = [jwk]
const options: VerifierOptions = { issuer: 'https://auth.example.com/', audience: 'api', keys, rolesClaim: 'roles' }
export const verifier = createVerifier(options)
export const preset = createVerifier(keycloak({ realmUrl: 'https://kc.example.com/realms/main', clientId: 'api' }))
export const claims = (payload: JWTPayload, header: JWSHeaderParameters): string | undefined => payload.sub ?? header.kid
export async function check(header: string | null): Promise<AuthContext | number> {
  try {
    return await verifier.authenticate(header)
  } catch (error) {
    if (isAuthError(error)) return toErrorResponse(error).status
    throw error
  }
}
export async function testToken(): Promise<string> {
  const issuer = await createTestIssuer()
  const v = createVerifier(issuer.verifierOptions('keys'))
  const token = await issuer.sign({ sub: 'alice' })
  await v.verifyAccessToken(token)
  return token
}
`

/** Node key objects and Web Crypto keys are key inputs (the real types, from @types/node). */
const NODE_KEYS = `import { generateKeyPairSync, webcrypto } from 'node:crypto'

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
export const fromKeyObject = createVerifier({ issuer: 'https://a.example/', audience: 'api', keys: pair.publicKey })
export async function fromCryptoKey() {
  const { publicKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  return createVerifier({ issuer: 'https://a.example/', audience: 'api', keys: publicKey })
}
`

/** A Web Crypto key of the DOM lib is a key input (edge projects). */
const WEB_KEYS = `export async function fromWebCryptoKey() {
  const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  return createVerifier({ issuer: 'https://a.example/', audience: 'api', keys: publicKey })
}
`

const NODE_FRAMEWORKS = `import express from 'express'
import { requireAuth as expressAuth, requireRole as expressRole } from 'bearer-guard/express'
import Fastify from 'fastify'
import bearerGuard, { requireRole as fastifyRole } from 'bearer-guard/fastify'
import Koa from 'koa'
import { requireAuth as koaAuth, requireRole as koaRole } from 'bearer-guard/koa'
import { createRedisRevocationStore } from 'bearer-guard/redis'
import { Redis } from 'ioredis'

const app = express()
app.get('/me', expressAuth(verifier), expressRole('admin'), (req, res) => {
  const subject: string | undefined = req.auth?.subject
  res.json({ subject })
})

export async function fastifyApp() {
  const f = Fastify()
  await f.register(bearerGuard, { verifier })
  f.get('/me', { preHandler: [f.requireAuth(), fastifyRole('admin')] }, async (request) => ({ sub: request.auth?.subject }))
  return f
}

const koa = new Koa()
koa.use(koaAuth(verifier))
koa.use(koaRole('admin'))
koa.use((ctx) => {
  ctx.body = { sub: ctx.state.auth?.subject }
})

export const revocation = createRedisRevocationStore({ client: new Redis({ lazyConnect: true }) })
`

const HONO = `import { Hono } from 'hono'
import { requireAuth as honoAuth, requireRole as honoRole } from 'bearer-guard/hono'

export const hono = new Hono().get('/me', honoAuth(verifier), honoRole('admin'), (c) => c.json({ sub: c.get('auth').subject }))
`

const NEXT = `import { withAuth } from 'bearer-guard/next'

export const GET = withAuth(async (_request, { auth }) => Response.json({ sub: auth.subject }), { verifier, roles: 'admin' })
`

const MCP = `import { mcpTokenVerifier, toAuthInfo, type AuthInfo, type OAuthTokenVerifier } from 'bearer-guard/mcp'

export const tokenVerifier: OAuthTokenVerifier = mcpTokenVerifier(verifier, { resource: 'https://mcp.example.com/mcp' })
export async function authInfo(header: string): Promise<AuthInfo> {
  return toAuthInfo(await verifier.authenticate(header))
}
`

/**
 * An Express MCP server: the SDK's `requireBearerAuth` (which types `req.auth` as its `AuthInfo`)
 * next to bearer-guard/express (which types it `AuthContext`), agreeing through `Register['expressAuth']`.
 */
const MCP_SERVER = `import express from 'express'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { createVerifier, type AuthContext } from 'bearer-guard'
import { protectedResource, requireAuth, requireScopes } from 'bearer-guard/express'
import { mcpTokenVerifier, type AuthInfo } from 'bearer-guard/mcp'

declare module 'bearer-guard' {
  interface Register {
    expressAuth: AuthContext | AuthInfo
  }
}

const verifier = createVerifier({ issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' })
export const app = express()
app.use(protectedResource({ verifier, authorizationServers: ['https://auth.example.com'], scopesSupported: ['tools:read'] }))
app.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(verifier), requiredScopes: ['tools:read'] }), (req, res) => {
  const info: AuthInfo | undefined = req.auth
  res.json({ client: info?.clientId })
})
app.get('/orders', requireAuth(verifier, { resourceMetadata: true }), requireScopes('orders:read'), (req, res) => {
  res.json({ sub: (req.auth as AuthContext | undefined)?.subject })
})
`

const MSW = `import { setupServer } from 'msw/node'

export async function mocked() {
  const issuer = await createTestIssuer()
  const server = setupServer(...(await issuer.mswHandlers()))
  server.use(...(await issuer.mswHandlers()))
  return server
}
`

/** bearer-guard/otel with the SDK's providers (the node fixture has @opentelemetry/api and the SDK). */
const OTEL_SDK = `import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { instrument, type InstrumentOptions, type Uninstrument } from 'bearer-guard/otel'

export const otelOptions: InstrumentOptions = { meterProvider: new MeterProvider(), tracerProvider: new BasicTracerProvider(), includeClaims: false }
export const uninstrument: Uninstrument = instrument(otelOptions)
`

/** bearer-guard/otel in a project without @opentelemetry/api: its types compile all the same. */
const OTEL_NO_API = `import { instrument, type InstrumentOptions, type VerifyMessage } from 'bearer-guard/otel'
import { DIAGNOSTICS_CHANNELS, type JwksMessage } from 'bearer-guard'

const noProviders: InstrumentOptions = { meterProvider: false, tracerProvider: false }
export const stop: () => void = instrument(noProviders)
export const channel: 'bearer-guard:verify' = DIAGNOSTICS_CHANNELS.verify
export const outcome = (m: VerifyMessage, j: JwksMessage): string | undefined => m.outcome ?? j.cause
`

/** Joins parts into one module: every part's leading import statements first, then the code. */
function module(...parts: string[]): string {
  const imports: string[] = []
  const body: string[] = []
  for (const part of parts) {
    const split = /^(?:import[^]*?from '[^']+'\n)*/.exec(part)?.[0] ?? ''
    imports.push(split.trimEnd())
    body.push(part.slice(split.length).trim())
  }
  return `${imports.filter(Boolean).join('\n')}\n\n${body.filter(Boolean).join('\n\n')}\n`
}

const FULL = module(CORE, NODE_KEYS, NODE_FRAMEWORKS, HONO, NEXT, MCP, MSW, OTEL_SDK)

// ---- runtime probes: import every subpath and use the core, as plain Node does ----

/** Prints `{ [specifier]: { ok, keys } | { ok: false, error } }` as JSON. `load` is `import` or `require`. */
function probe(load: 'import' | 'require'): string {
  const get = load === 'import' ? 'await import(s)' : 'require(s)'
  const lines = [
    load === 'import' ? "import { createHmac } from 'node:crypto'" : "const { createHmac } = require('node:crypto')",
    load === 'import' ? "import { readFileSync } from 'node:fs'" : "const { readFileSync } = require('node:fs')",
    load === 'import' ? '' : ';(async () => {',
    "const pkg = JSON.parse(readFileSync('node_modules/bearer-guard/package.json', 'utf8'))",
    "const specifiers = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => 'bearer-guard' + k.slice(1))",
    'const out = {}',
    'for (const s of specifiers) {',
    `  try { const m = ${get}; out[s] = { ok: true, keys: Object.keys(m).sort(), type: typeof m } }`,
    "  catch (e) { out[s] = { ok: false, error: (e.code ? e.code + ': ' : '') + String(e.message).split('\\n')[0] } }",
    '}',
    '// the core verifies a token (HS256, made here with node:crypto)',
    'try {',
    `  const { createVerifier } = ${get.replace('(s)', "('bearer-guard')")}`,
    "  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')",
    "  const secret = 'a-secret-of-at-least-thirty-two-bytes!'",
    "  const input = b64({ alg: 'HS256', typ: 'at+jwt' }) + '.' + b64({ iss: 'https://a.example/', aud: 'api', sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })",
    "  const token = input + '.' + createHmac('sha256', secret).update(input).digest('base64url')",
    "  const v = createVerifier({ issuer: 'https://a.example/', audience: 'api', secret })",
    "  out['#verify'] = { ok: (await v.verifyAccessToken(token)).subject === 'alice' }",
    "} catch (e) { out['#verify'] = { ok: false, error: String(e.message) } }",
    'process.stdout.write(JSON.stringify(out))',
    load === 'import' ? '' : '})()',
  ]
  return `${lines.filter((l) => l !== '').join('\n')}\n`
}

/** A user's unit test of a Next route handler: bearer-guard/next from node_modules, as vitest loads it. */
const NEXT_ROUTE_TEST = `import { NextRequest } from 'next/server'
import { createVerifier } from 'bearer-guard'
import { withAuth } from 'bearer-guard/next'
import { createTestIssuer } from 'bearer-guard/testing'
import { expect, it } from 'vitest'

it('runs a route handler wrapped in withAuth', async () => {
  const issuer = await createTestIssuer()
  const verifier = createVerifier(issuer.verifierOptions('keys'))
  const GET = withAuth(async (_request, { auth }) => Response.json({ sub: auth.subject }), { verifier })
  const context = { params: Promise.resolve({}) }

  const anonymous = await GET(new NextRequest('http://localhost/api/me'), context)
  expect(anonymous.status).toBe(401)
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)

  const token = await issuer.sign({ sub: 'alice' })
  const signedIn = await GET(new NextRequest('http://localhost/api/me', { headers: { authorization: 'Bearer ' + token } }), context)
  expect(signedIn.status).toBe(200)
  expect(await signedIn.json()).toEqual({ sub: 'alice' })
})
`

/** A NestJS 12 service: module, global guard, role decorator, typed `@Auth()` parameter. */
const NEST = `import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { createVerifier, type AuthContext } from 'bearer-guard'
import { Auth, BearerGuardModule, Public, Roles } from 'bearer-guard/nestjs'

const verifier = createVerifier({ issuer: 'https://auth.example.com/', audience: 'api', jwksUri: 'https://auth.example.com/jwks' })

@Controller()
export class ApiController {
  @Public()
  @Get()
  root(): string {
    return 'ok'
  }

  @Roles('admin')
  @Get('admin')
  admin(@Auth() auth: AuthContext): string | undefined {
    return auth.subject
  }
}

@Module({ imports: [BearerGuardModule.forRoot(verifier, { global: true })], controllers: [ApiController] })
export class AppModule {}
`

/** The NestJS guard on a real Nest 12 app, as plain Node ESM loads it from node_modules. */
const NEST_RUNTIME = `import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { createVerifier } from 'bearer-guard'
import { Auth, BearerGuardModule, Roles } from 'bearer-guard/nestjs'
import { createTestIssuer } from 'bearer-guard/testing'

const issuer = await createTestIssuer()
const verifier = createVerifier({ ...issuer.verifierOptions('keys'), logger: false })

class ApiController {
  admin(auth) {
    return { sub: auth.subject }
  }
}
Controller()(ApiController)
const admin = Object.getOwnPropertyDescriptor(ApiController.prototype, 'admin')
Auth()(ApiController.prototype, 'admin', 0)
Roles('admin')(ApiController.prototype, 'admin', admin)
Get('admin')(ApiController.prototype, 'admin', admin)
class AppModule {}
Module({ imports: [BearerGuardModule.forRoot(verifier, { global: true })], controllers: [ApiController] })(AppModule)

const app = await NestFactory.create(AppModule, { logger: false })
await app.listen(0, '127.0.0.1')
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1') + '/admin'
const statuses = []
for (const token of [undefined, await issuer.sign({ sub: 'alice', roles: ['user'] }), await issuer.sign({ sub: 'bob', roles: ['admin'] })]) {
  const res = await fetch(url, { headers: token ? { authorization: 'Bearer ' + token } : {} })
  statuses.push(res.status)
}
await app.close()
process.stdout.write(JSON.stringify({ statuses }))
`

/**
 * bearer-guard/otel from node_modules with the OpenTelemetry SDK, loaded with \`import\` or \`require\`:
 * a verification and a refusal become metrics (the diagnostics channels work in this Node).
 */
function otelRuntime(load: 'import' | 'require'): string {
  const get = (s: string) => (load === 'import' ? `await import('${s}')` : `require('${s}')`)
  return [
    load === 'import' ? '' : ';(async () => {',
    `const { createVerifier } = ${get('bearer-guard')}`,
    `const { createTestIssuer } = ${get('bearer-guard/testing')}`,
    `const { instrument } = ${get('bearer-guard/otel')}`,
    `const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = ${get('@opentelemetry/sdk-metrics')}`,
    'const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)',
    'const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 })',
    'const meterProvider = new MeterProvider({ readers: [reader] })',
    'const stop = instrument({ meterProvider, tracerProvider: false })',
    'const issuer = await createTestIssuer()',
    "const verifier = createVerifier({ ...issuer.verifierOptions('keys'), logger: false })",
    'await verifier.verifyAccessToken(await issuer.sign())',
    'await verifier.authenticate(undefined).catch(() => {})',
    'await reader.forceFlush()',
    'const points = exporter.getMetrics().at(-1).scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === "bearer_guard.verifications").dataPoints',
    'stop()',
    'process.stdout.write(JSON.stringify(points.map((p) => [p.attributes.outcome, p.attributes.code ?? null, p.value]).sort()))',
    load === 'import' ? '' : '})()',
  ].filter((l) => l !== '').join('\n') + '\n'
}

/** Without msw installed, bearer-guard/testing still signs tokens the core accepts. */
const NO_MSW_RUNTIME = `import { createVerifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'

const issuer = await createTestIssuer()
const auth = await createVerifier(issuer.verifierOptions('keys')).verifyAccessToken(await issuer.sign({ sub: 'alice' }))
let msw = 'not called'
await issuer.mswHandlers().then(() => { msw = 'resolved' }, (e) => { msw = String(e.code ?? e.message) })
process.stdout.write(JSON.stringify({ subject: auth.subject, msw }))
`

export const FIXTURES: Record<'node' | 'lean' | 'edge', Fixture> = {
  node: {
    name: 'node',
    dependencies: versions(
      'express', 'fastify', 'koa', 'hono', 'next', 'react', 'react-dom', 'ioredis',
      '@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs',
      '@opentelemetry/api', '@opentelemetry/sdk-metrics', '@opentelemetry/sdk-trace-base', '@modelcontextprotocol/sdk',
    ),
    devDependencies: versions('@types/express', '@types/koa', '@types/node', 'msw', 'typescript', 'vitest'),
    files: {
      'probe.mjs': probe('import'),
      'otel.mjs': otelRuntime('import'),
      'otel.cjs': otelRuntime('require'),
      'nest.mjs': NEST_RUNTIME,
      'src/nest.mts': NEST,
      // Nest 12 is ESM-only: its users compile as ESM; decorators as Nest's own starter sets them
      'tsconfig.nest.json': tsconfig(['src/nest.mts'], {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      }),
      'probe.cjs': probe('require'),
      'src/consumer.mts': FULL,
      'src/consumer.cts': FULL,
      'src/consumer.ts': FULL,
      'tsconfig.nodenext.json': tsconfig(['src/consumer.mts'], { module: 'nodenext', moduleResolution: 'nodenext' }),
      'tsconfig.node16.json': tsconfig(['src/consumer.cts'], { module: 'node16', moduleResolution: 'node16' }),
      'tsconfig.node10.json': tsconfig(['src/consumer.ts'], { module: 'commonjs', moduleResolution: 'node' }),
      'tsconfig.bundler.json': tsconfig(['src/consumer.ts'], { module: 'esnext', moduleResolution: 'bundler' }),
      'test/route.test.ts': NEXT_ROUTE_TEST,
      'src/mcp-server.mts': MCP_SERVER,
      'tsconfig.mcp.json': tsconfig(['src/mcp-server.mts'], { module: 'nodenext', moduleResolution: 'nodenext' }),
    },
  },
  lean: {
    name: 'lean',
    dependencies: versions('express', 'fastify', 'koa', 'ioredis'),
    devDependencies: versions('@types/express', '@types/koa', '@types/node', 'typescript'),
    files: {
      'no-msw.mjs': NO_MSW_RUNTIME,
      'src/nodom.mts': module(CORE, NODE_KEYS, NODE_FRAMEWORKS),
      'src/nomsw.mts': module(CORE, OTEL_NO_API),
      // TypeScript's own \`tsc --init\` Node setup and @tsconfig/node20: no DOM lib
      'tsconfig.nodom.json': tsconfig(['src/nodom.mts'], { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2023'], types: ['node'] }),
      'tsconfig.nomsw.json': tsconfig(['src/nomsw.mts'], { module: 'nodenext', moduleResolution: 'nodenext' }),
    },
  },
  edge: {
    name: 'edge',
    dependencies: versions('hono'),
    devDependencies: versions('typescript'),
    files: {
      'src/worker.ts': module(CORE, WEB_KEYS, HONO, OTEL_NO_API, 'export default { fetch: hono.fetch }\n'),
      'tsconfig.json': tsconfig(['src/worker.ts'], { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] }),
    },
  },
}
