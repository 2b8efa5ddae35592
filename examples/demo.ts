/**
 * `npm run demo`: the seed's whole system, end to end, against every framework.
 *
 * Starts the auth service and the six resource services (Express, Fastify, Koa, Hono, Next.js, NestJS) on
 * 127.0.0.1 with free ports, walks the seed's §四.3 scenario against each of them, prints one
 * table (rows = steps, columns = frameworks) and exits non-zero if any cell deviates. Then the MCP
 * server (examples/mcp-server) answers the MCP SDK's client, and a second system with opaque access
 * tokens is walked, introspected by every framework (examples/shared/opaque-walk.ts).
 *
 *   node --import tsx examples/demo.ts [--hs256] [--only express,koa] [--rebuild] [--src] [--verbose]
 *                                      [--browser]
 *
 *   --hs256     the seed's shared-secret mode (AUTH_SECRET_KEY) instead of ES256 + JWKS
 *   --only      a subset of frameworks
 *   --rebuild   run `next build` even if the Next.js app looks up to date
 *   --src       resolve `bearer-guard` to src/ instead of dist/ (Node services only; for development)
 *   --verbose   print the services' logs as they come
 *   --browser   then walk the browser app (examples/web) in Chromium against a cookie-mode system
 *
 * Needs `npm run build` first (the examples import the built package, as users do).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  buildNextIfNeeded,
  createProcessGroup,
  EXAMPLES,
  FRAMEWORKS,
  ROOT,
  sleep,
  startSystem,
  tail,
  type Framework,
} from './shared/system.js'
import { runOpaqueWalk } from './shared/opaque-walk.js'
import { dpopWalk } from './shared/dpop-walk.js'
import { bearer, call, form, type Answer } from './shared/http-client.js'
import { walkMcp } from './mcp-server/walk.js'
import { findChromium, runWalk, startBrowserSystem, startWalker } from './web/walk.js'
import { printMetricsSummary } from './shared/metrics-summary.js'

const { values: args } = parseArgs({
  options: {
    hs256: { type: 'boolean', default: false },
    only: { type: 'string' },
    rebuild: { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    browser: { type: 'boolean', default: false },
  },
})
const frameworks = (args.only ? args.only.split(',') : [...FRAMEWORKS]) as Framework[]
for (const f of frameworks) if (!FRAMEWORKS.includes(f)) fail(`unknown framework: ${f}`)

/** Lifetimes: long enough for every step, except the short-lived client's (the expiry step). */
const ACCESS_TOKEN_TTL = 300
const SHORT_TTL = 2
/** bearer-guard's default clock tolerance: a token is refused only this long after `exp`. */
const CLOCK_TOLERANCE = 5
/** Revocations reach the resource services within one poll. */
const POLL_MS = 200
const HS256_SECRET = 'demo-only-shared-secret-of-32+bytes!!' // the demo's; never a real one

// -- processes (examples/shared/system.ts) ----------------------------------------------------

const group = createProcessGroup({ verbose: args.verbose })
const services = group.services
/** The browser walk (`--browser`) runs on a second system, started once the first has stopped. */
const browserGroup = createProcessGroup({ verbose: args.verbose })
/** The opaque-token walk (examples/shared/opaque-walk.ts) runs on its own system too. */
const opaqueGroup = createProcessGroup({ verbose: args.verbose })
const stopAll = () => Promise.all([group.stopAll(), browserGroup.stopAll(), opaqueGroup.stopAll()]).then(() => {})
/** The auth service's SQLite file lives here; removed at the end. */
let dataDir: string | undefined
const removeDataDir = () => dataDir && rmSync(dataDir, { recursive: true, force: true })

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping services…`)
    void stopAll()
      .then(removeDataDir)
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  })
}

function fail(message: string): never {
  console.error(`demo: ${message}`)
  process.exit(2)
}

// -- HTTP helpers ---------------------------------------------------------------------------


interface Tokens {
  access_token: string
  refresh_token: string
}
const tokensOf = (a: Answer) => a.body as unknown as Tokens

// -- the scenario ---------------------------------------------------------------------------

interface Step {
  label: string
  expected: number
  /** Extra check on the body; returns a problem or undefined. */
  check?: (a: Answer) => string | undefined
}
interface Cell {
  status: number | undefined
  ok: boolean
  problem?: string
}

const steps: Step[] = []
const results = new Map<string, Map<Framework, Cell>>()

function step(label: string, expected: number, check?: Step['check']): Step {
  let s = steps.find((x) => x.label === label)
  if (!s) steps.push((s = { label, expected, check }))
  return s
}

function record(framework: Framework, s: Step, answer: Answer | Error): Answer | undefined {
  const row = results.get(s.label) ?? new Map<Framework, Cell>()
  results.set(s.label, row)
  if (answer instanceof Error) {
    row.set(framework, { status: undefined, ok: false, problem: answer.message })
    return undefined
  }
  const problem =
    answer.status !== s.expected
      ? `expected ${s.expected}, got ${answer.status} ${JSON.stringify(answer.body)}`
      : s.check?.(answer)
  row.set(framework, { status: answer.status, ok: !problem, problem })
  return answer
}

async function expect(
  framework: Framework,
  s: Step,
  request: () => Promise<Answer>,
): Promise<Answer | undefined> {
  try {
    return record(framework, s, await request())
  } catch (error) {
    return record(framework, s, error as Error)
  }
}

/** Revocation reaches resource services within one poll: retry briefly until the answer is final. */
async function eventually(
  request: () => Promise<Answer>,
  expected: number,
  withinMs = 3000,
): Promise<Answer> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const answer = await request()
    if (answer.status === expected || Date.now() > deadline) return answer
    await sleep(POLL_MS / 2)
  }
}

const describes = (text: string) => (a: Answer) =>
  a.body.error_description === text
    ? undefined
    : `error_description ${JSON.stringify(a.body.error_description)}, expected "${text}"`
const isUser = (name: string) => (a: Answer) =>
  a.body.username === name ? undefined : `username ${String(a.body.username)}`

const S = {
  publicRoot: step('GET / (public)', 200),
  noToken: step('GET /users/me without a token', 401),
  aliceLogin: step('alice logs in (POST /token)', 200),
  bobLogin: step('bob logs in (POST /token)', 200),
  aliceMe: step('alice GET /users/me', 200, isUser('alice')),
  aliceAdmin: step('alice GET /admin/data (not admin)', 403),
  bobAdmin: step('bob GET /admin/data', 200),
  shortLogin: step(`alice logs in, ${SHORT_TTL} s token (client short-lived)`, 200),
  shortFresh: step('  … GET /users/me at once', 200, isUser('alice')),
  shortExpired: step('  … GET /users/me after expiry', 401, describes('token expired')),
  refresh: step('  … POST /refresh_token → new pair', 200),
  refreshedMe: step('  … GET /users/me with the new token', 200, isUser('alice')),
  reuse: step(
    '  … old refresh token reused → rejected',
    401,
    describes('refresh token reuse detected, session revoked'),
  ),
  familyRefresh: step('  … new refresh token (family revoked)', 401),
  familyAccess: step('  … new access token (family revoked)', 401, describes('token revoked')),
  revoke: step('bob POST /revoke (his access token)', 200),
  revokedAdmin: step('  … bob GET /admin/data with it', 401, describes('token revoked')),
  rotatedOld: step('after key rotation: token signed before', 200),
  rotatedNew: step('after key rotation: token signed after', 200),
}

/** DPoP (RFC 9449): a bound token with its proof; stolen as Bearer, or with a replayed proof (shared/dpop-walk.ts). */
const walkDpop = dpopWalk({ step, expect, call })

async function scenario(
  framework: Framework,
  api: string,
  auth: string,
): Promise<{ oldToken?: string }> {
  const login = (username: string, clientId = 'seed-client') =>
    call(`${auth}/token`, form({ username, password: `password_${username}`, client_id: clientId }))

  await expect(framework, S.publicRoot, () => call(`${api}/`))
  await expect(framework, S.noToken, () => call(`${api}/users/me`))

  const alice = await expect(framework, S.aliceLogin, () => login('alice'))
  const bob = await expect(framework, S.bobLogin, () => login('bob'))
  if (!alice || !bob) return {}
  const aliceAt = tokensOf(alice).access_token
  const bobAt = tokensOf(bob).access_token
  await expect(framework, S.aliceMe, () => call(`${api}/users/me`, bearer(aliceAt)))
  await expect(framework, S.aliceAdmin, () => call(`${api}/admin/data`, bearer(aliceAt)))
  await expect(framework, S.bobAdmin, () => call(`${api}/admin/data`, bearer(bobAt)))

  // the seed's step 5: a token that expires in a few seconds, then the refresh
  const short = await expect(framework, S.shortLogin, () => login('alice', 'short-lived'))
  if (short) {
    const first = tokensOf(short)
    await expect(framework, S.shortFresh, () => call(`${api}/users/me`, bearer(first.access_token)))
    const exp = JSON.parse(Buffer.from(first.access_token.split('.')[1]!, 'base64url').toString())
      .exp as number
    await sleep(Math.max(0, (exp + CLOCK_TOLERANCE + 1) * 1000 - Date.now()))
    await expect(framework, S.shortExpired, () =>
      call(`${api}/users/me`, bearer(first.access_token)),
    )

    const refreshWith = (token: string) =>
      call(`${auth}/refresh_token`, { ...form({ client_id: 'short-lived' }), ...withBearer(token) })
    const refreshed = await expect(framework, S.refresh, () => refreshWith(first.refresh_token))
    if (refreshed) {
      const second = tokensOf(refreshed)
      await expect(framework, S.refreshedMe, () =>
        call(`${api}/users/me`, bearer(second.access_token)),
      )
      // reuse detection: the first refresh token comes back → the whole family is revoked
      await expect(framework, S.reuse, () => refreshWith(first.refresh_token))
      await expect(framework, S.familyRefresh, () => refreshWith(second.refresh_token))
      await expect(framework, S.familyAccess, () =>
        eventually(() => call(`${api}/users/me`, bearer(second.access_token)), 401),
      )
    }
  }

  // RFC 7009: revoke bob's access token; resource services refuse it before it expires
  await expect(framework, S.revoke, () =>
    call(
      `${auth}/revoke`,
      form({ token: bobAt, token_type_hint: 'access_token', client_id: 'seed-client' }),
    ),
  )
  await expect(framework, S.revokedAdmin, () =>
    eventually(() => call(`${api}/admin/data`, bearer(bobAt)), 401),
  )
  return { oldToken: aliceAt }
}

/** Form body plus a bearer header, for the seed's /refresh_token. */
function withBearer(token: string): RequestInit {
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    },
  }
}

async function afterRotation(
  framework: Framework,
  api: string,
  auth: string,
  oldToken: string,
): Promise<void> {
  await expect(framework, S.rotatedOld, () => call(`${api}/users/me`, bearer(oldToken)))
  const fresh = await call(`${auth}/token`, form({ username: 'alice', password: 'password_alice' }))
  const token = tokensOf(fresh).access_token ?? ''
  await expect(framework, S.rotatedNew, async () => {
    if (kidOf(token) === kidOf(oldToken))
      throw new Error(`still signed with the old key ${kidOf(token)}`)
    return call(`${api}/users/me`, bearer(token))
  })
}

const kidOf = (jwt: string): unknown =>
  JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString() || '{}').kid

// -- output ---------------------------------------------------------------------------------

function printTable(skipped: Set<string>): boolean {
  const label = Math.max(...steps.map((s) => s.label.length)) + 2
  const expectCol = 'expect'.length + 2
  const width = 9
  const line = (cells: string[]) => cells.join('')
  console.log()
  console.log(
    line([
      'step'.padEnd(label),
      'expect'.padEnd(expectCol),
      ...frameworks.map((f) => f.padEnd(width)),
    ]),
  )
  console.log('-'.repeat(label + expectCol + width * frameworks.length))
  let allOk = true
  for (const s of steps) {
    if (skipped.has(s.label)) {
      console.log(
        line([
          s.label.padEnd(label),
          '—'.padEnd(expectCol),
          ...frameworks.map(() => '—'.padEnd(width)),
        ]),
      )
      continue
    }
    const row = results.get(s.label)
    const cells = frameworks.map((f) => {
      const cell = row?.get(f)
      if (!cell) {
        allOk = false
        return 'skip ✗'.padEnd(width)
      }
      if (!cell.ok) allOk = false
      return `${cell.status ?? 'ERR'} ${cell.ok ? '✓' : '✗'}`.padEnd(width)
    })
    console.log(line([s.label.padEnd(label), String(s.expected).padEnd(expectCol), ...cells]))
  }
  return allOk
}

function printProblems(): void {
  for (const s of steps) {
    for (const [framework, cell] of results.get(s.label) ?? []) {
      if (cell.problem) console.log(`  ✗ ${framework} · ${s.label.trim()}: ${cell.problem}`)
    }
  }
}

// -- main -----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const distReady = existsSync(join(ROOT, 'dist', 'index.js'))
  if (!distReady && !args.src)
    fail('dist/ is missing: run `npm run build` first (or `npm run demo`, which does)')
  if (frameworks.includes('next')) {
    if (!distReady) fail('the Next.js app needs dist/: run `npm run build`')
    await buildNextIfNeeded({ rebuild: args.rebuild })
  }

  dataDir = mkdtempSync(join(tmpdir(), 'bearer-guard-demo-'))
  const secretEnv: Record<string, string> = args.hs256 ? { AUTH_SECRET_KEY: HS256_SECRET } : {}
  const srcEnv: Record<string, string> = args.src
    ? { TSX_TSCONFIG_PATH: join(EXAMPLES, 'tsconfig.json') }
    : {}

  let code: number
  try {
    const { auth, apis, mcp } = await startSystem(group, {
      frameworks,
      mcp: true,
      nodeEnv: srcEnv,
      authEnv: {
        ...secretEnv,
        DATABASE_FILE: join(dataDir, 'auth.db'),
        ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
        SHORT_ACCESS_TOKEN_TTL: String(SHORT_TTL),
        RATE_LIMIT_PER_MINUTE: '600', // the demo logs in many times from one address
      },
      resourceEnv: { ...secretEnv, REVOCATION_POLL_MS: String(POLL_MS) },
    })

    const keys = args.hs256 ? 'HS256 shared secret' : 'ES256 keys from discovery + JWKS'
    const revocations = process.env.REDIS_URL ? 'Redis (REDIS_URL)' : `polled every ${POLL_MS} ms`
    console.log(`\nauth service ${auth.url} · ${keys} · revocations ${revocations}`)
    for (const [f, s] of apis) console.log(`  ${f.padEnd(8)} ${s.url}`)
    console.log(
      `walking the scenario (the expiry step waits ~${SHORT_TTL + CLOCK_TOLERANCE + 1} s)…`,
    )

    const phase1 = await Promise.all(frameworks.map((f) => scenario(f, apis.get(f)!.url, auth.url)))
    await Promise.all(frameworks.map((f) => walkDpop(f, apis.get(f)!.url, auth.url)))

    const skipped = new Set<string>()
    if (args.hs256) {
      // one shared secret: nothing to rotate without redeploying every service
      skipped.add(S.rotatedOld.label).add(S.rotatedNew.label)
    } else {
      auth.child.kill('SIGUSR2') // the auth service rotates: `next` key (already published) starts signing
      await sleep(300)
      await Promise.all(
        frameworks.map((f, i) =>
          afterRotation(f, apis.get(f)!.url, auth.url, phase1[i]!.oldToken ?? ''),
        ),
      )
    }

    const tableOk = printTable(skipped)
    await printMetricsSummary(apis)
    const ok = (await mcpStep(auth.url, `${mcp!.url}/mcp`)) && tableOk
    if (!ok) {
      console.log('\nDeviations:')
      printProblems()
      for (const s of services) console.log(`\n  last log lines of ${s.name}:\n${tail(s)}`)
    }
    console.log(ok ? '\nAll steps gave the expected answers. ✓' : '\nSome steps deviated. ✗')
    code = ok ? 0 : 1
  } finally {
    await group.stopAll()
  }
  try {
    code = Math.max(code, await runOpaqueWalk(opaqueGroup, { frameworks, dataDir, env: secretEnv, nodeEnv: srcEnv }))
  } finally {
    await opaqueGroup.stopAll()
  }
  try {
    if (args.browser) code = Math.max(code, await browserPhase(secretEnv, srcEnv))
    return code
  } finally {
    await stopAll()
    removeDataDir()
  }
}

/** The MCP step: the SDK's client against the MCP server example (examples/mcp-server/walk.ts). */
async function mcpStep(authUrl: string, resource: string): Promise<boolean> {
  console.log(`\nMCP server ${resource} (the MCP SDK's client):`)
  const checks = await walkMcp(authUrl, resource)
  for (const c of checks) console.log(`  ${c.problem ? '✗' : '✓'} ${c.title}${c.problem ? `: ${c.problem}` : ''}`)
  return checks.every((c) => !c.problem)
}

// -- the browser walk (--browser) -----------------------------------------------------------

/**
 * `--browser`: the web app (examples/web) in the system's Chromium, against a second system whose
 * auth service hands refresh tokens out as an HttpOnly cookie (examples/web/walk.ts). Skipped, with
 * a warning, when there is no Chromium.
 */
async function browserPhase(
  secretEnv: Record<string, string>,
  srcEnv: Record<string, string>,
): Promise<number> {
  const chromium = findChromium()
  if (!chromium.found) {
    console.warn(
      `\n⚠ --browser: no Chromium at ${chromium.path} (apt-get install chromium, or set ` +
        'CHROMIUM_PATH): the browser walk was SKIPPED',
    )
    return 0
  }
  const shots = mkdtempSync(join(tmpdir(), 'bearer-guard-browser-'))
  const browserData = mkdtempSync(join(dataDir!, 'browser-'))
  const system = await startBrowserSystem(browserGroup, {
    dataDir: browserData,
    frameworks,
    env: secretEnv,
    nodeEnv: srcEnv,
  })
  console.log(`\nbrowser walk: the web app at ${system.authUrl}/app/ in ${chromium.path}`)
  console.log(`  screenshots: ${shots}`)
  const walker = await startWalker(system, { executablePath: chromium.path, shots })
  try {
    const ok = await runWalk(walker, (title, error) => {
      console.log(`  ${error ? '✗' : '✓'} ${title}`)
      if (error) console.log(`      ${error.message.split('\n').join('\n      ')}`)
    })
    console.log(
      ok ? '\nThe browser client behaved as the design says. ✓' : '\nThe browser walk failed. ✗',
    )
    if (!ok) {
      for (const s of browserGroup.services) {
        console.log(`\n  last log lines of ${s.name}:\n${tail(s)}`)
      }
    }
    return ok ? 0 : 1
  } finally {
    await walker.close()
  }
}

main().then(
  (code) => process.exit(code),
  async (error: Error) => {
    console.error(`demo: ${error.message}`)
    await stopAll()
    process.exit(2)
  },
)
