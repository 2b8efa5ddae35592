/**
 * The demo's opaque-token walk (`npm run demo`, after the JWT walk): a second system whose auth
 * service issues opaque access tokens (`ACCESS_TOKEN_FORMAT=opaque`) and whose resource services
 * introspect every token (`INTROSPECTION_CLIENT`, `INTROSPECTION_USE=always`) with bearer-guard's
 * `introspection` option. The same answers as with JWTs — identity, roles, 403 — and a revocation
 * that shows on the very next request: the revocation poll is slowed to a minute here, so what
 * refuses the token is the introspection answer, not the poll.
 *
 * Prints its own table (rows = steps, columns = frameworks) and returns 0 when every cell is as
 * expected, 1 otherwise.
 */
import { join } from 'node:path'
import { bearer, call, form, type Answer } from './http-client.js'
import { startSystem, tail, type Framework, type ProcessGroup } from './system.js'

/** The resource services' client at the auth service's /introspect (the demo's; never a real one). */
const CLIENT = { id: 'demo-resource-servers', secret: 'demo-only-introspection-secret' }

interface Step {
  label: string
  expected: number
  check?: (a: Answer) => string | undefined
}

const isUser = (name: string) => (a: Answer) => (a.body.username === name ? undefined : `username ${String(a.body.username)}`)

const STEPS = {
  aliceLogin: { label: 'alice logs in: an opaque access token', expected: 200, check: (a: Answer) => (String(a.body.access_token).includes('.') ? 'the token is a JWT' : undefined) },
  aliceMe: { label: '  … alice GET /users/me (introspected)', expected: 200, check: isUser('alice') },
  aliceAdmin: { label: '  … alice GET /admin/data (not admin)', expected: 403 },
  bobLogin: { label: 'bob logs in: an opaque access token', expected: 200 },
  bobAdmin: { label: '  … bob GET /admin/data', expected: 200 },
  unknown: { label: 'an opaque token the server never issued', expected: 401 },
  revoke: { label: 'bob POST /revoke (his opaque token)', expected: 200 },
  revokedAdmin: { label: "  … the very next request (use: 'always')", expected: 401 },
} satisfies Record<string, Step>

export interface OpaqueWalkOptions {
  frameworks: readonly Framework[]
  /** Where the auth service's database file goes. */
  dataDir: string
  /** Environment of every service (the demo's HS256 secret, with `--hs256`). */
  env?: Record<string, string>
  /** Extra environment of the Node services (the demo's `--src`). */
  nodeEnv?: Record<string, string>
  log?: (line: string) => void
}

/** Starts the opaque-token system in `group`, walks it against every framework, prints the table. */
export async function runOpaqueWalk(group: ProcessGroup, options: OpaqueWalkOptions): Promise<number> {
  const { frameworks, dataDir, env = {}, nodeEnv = {}, log = console.log } = options
  const { auth, apis } = await startSystem(group, {
    frameworks,
    nodeEnv,
    authEnv: {
      ...env,
      DATABASE_FILE: join(dataDir, 'opaque-auth.db'),
      ACCESS_TOKEN_FORMAT: 'opaque',
      INTROSPECTION_CLIENTS: `${CLIENT.id}:${CLIENT.secret}`,
      RATE_LIMIT_PER_MINUTE: '600',
    },
    resourceEnv: {
      ...env,
      INTROSPECTION_CLIENT: `${CLIENT.id}:${CLIENT.secret}`,
      INTROSPECTION_USE: 'always',
      REVOCATION_POLL_MS: '60000',
    },
  })
  log(`\nopaque tokens: auth service ${auth.url} (ACCESS_TOKEN_FORMAT=opaque) · resource services introspect (use: 'always')`)

  const results = new Map<Step, Map<Framework, string | undefined>>()
  const cells = new Map<Step, Map<Framework, number | undefined>>()
  async function expect(framework: Framework, step: Step, request: () => Promise<Answer>): Promise<Answer | undefined> {
    let answer: Answer | undefined
    let problem: string | undefined
    try {
      answer = await request()
      problem = answer.status !== step.expected ? `expected ${step.expected}, got ${answer.status} ${JSON.stringify(answer.body)}` : step.check?.(answer)
    } catch (error) {
      problem = (error as Error).message
    }
    if (!results.has(step)) results.set(step, new Map())
    if (!cells.has(step)) cells.set(step, new Map())
    results.get(step)!.set(framework, problem)
    cells.get(step)!.set(framework, answer?.status)
    return problem === undefined ? answer : undefined
  }

  async function walk(framework: Framework, api: string): Promise<void> {
    const login = (username: string) => call(`${auth.url}/token`, form({ username, password: `password_${username}` }))
    const alice = await expect(framework, STEPS.aliceLogin, () => login('alice'))
    const aliceAt = String(alice?.body.access_token)
    await expect(framework, STEPS.aliceMe, () => call(`${api}/users/me`, bearer(aliceAt)))
    await expect(framework, STEPS.aliceAdmin, () => call(`${api}/admin/data`, bearer(aliceAt)))
    const bob = await expect(framework, STEPS.bobLogin, () => login('bob'))
    const bobAt = String(bob?.body.access_token)
    await expect(framework, STEPS.bobAdmin, () => call(`${api}/admin/data`, bearer(bobAt)))
    await expect(framework, STEPS.unknown, () => call(`${api}/users/me`, bearer('never-issued-opaque-token-0123456789abcdef')))
    await expect(framework, STEPS.revoke, () => call(`${auth.url}/revoke`, form({ token: bobAt, token_type_hint: 'access_token', client_id: 'seed-client' })))
    // no retry, no wait: the introspection answer says inactive at once
    await expect(framework, STEPS.revokedAdmin, () => call(`${api}/admin/data`, bearer(bobAt)))
  }

  await Promise.all(frameworks.map((f) => walk(f, apis.get(f)!.url)))

  const steps = Object.values(STEPS) as Step[]
  const label = Math.max(...steps.map((s) => s.label.length)) + 2
  const width = 9
  log()
  log(['step'.padEnd(label), 'expect  ', ...frameworks.map((f) => f.padEnd(width))].join(''))
  log('-'.repeat(label + 8 + width * frameworks.length))
  let ok = true
  for (const step of steps) {
    const row = frameworks.map((f) => {
      const problem = results.get(step)?.get(f)
      const done = results.get(step)?.has(f) ?? false
      if (!done || problem !== undefined) ok = false
      return `${cells.get(step)?.get(f) ?? 'ERR'} ${done && problem === undefined ? '✓' : '✗'}`.padEnd(width)
    })
    log([step.label.padEnd(label), String(step.expected).padEnd(8), ...row].join(''))
  }
  if (!ok) {
    log('\nDeviations (opaque tokens):')
    for (const step of steps) {
      for (const f of frameworks) {
        const problem = results.get(step)?.get(f)
        if (problem !== undefined || !results.get(step)?.has(f)) log(`  ✗ ${f} · ${step.label.trim()}: ${problem ?? 'not run'}`)
      }
    }
    for (const s of group.services) log(`\n  last log lines of ${s.name}:\n${tail(s)}`)
  }
  log(ok ? '\nOpaque tokens gave the expected answers. ✓' : '\nOpaque tokens deviated. ✗')
  return ok ? 0 : 1
}

