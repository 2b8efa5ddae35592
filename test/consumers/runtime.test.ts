/**
 * Plain Node, no bundler: every subpath of the installed tarball loads with `import` and with
 * `require`, on the current Node and on Node 20.18 (before `require(esm)`), and the core verifies a
 * token; `require('bearer-guard/fastify')` is the plugin itself; bearer-guard/testing works without msw.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { OLD_NODE } from './setup.js'
import { run } from './harness.js'

type Probe = Record<string, { ok: boolean; keys?: string[]; type?: string; error?: string }>

const dirs = inject('fixtureDirs')
const nodes = inject('nodes')
const versions = Object.keys(nodes)
const results = new Map<string, Probe>()

async function probe(version: string, file: 'probe.mjs' | 'probe.cjs'): Promise<Probe> {
  const r = await run(nodes[version] as string, [file], { cwd: dirs.node })
  if (r.code !== 0) throw new Error(`node ${version} ${file} exited ${r.code}:\n${r.stderr}`)
  return JSON.parse(r.stdout) as Probe
}

beforeAll(async () => {
  for (const version of versions) {
    for (const file of ['probe.mjs', 'probe.cjs'] as const) results.set(`${version} ${file}`, await probe(version, file))
  }
})

const subpaths = (): string[] => Object.keys(results.values().next().value ?? {}).filter((k) => !k.startsWith('#'))

/**
 * NestJS 12 is ESM-only (`"type": "module"`): before `require(esm)` (Node 20.19) no CommonJS code can
 * load it, bearer-guard/nestjs included. That failure is Nest's, and only that one is expected.
 */
const nestNeedsRequireEsm = (version: string, file: string) => file === 'probe.cjs' && version === OLD_NODE

describe.each(versions)('Node %s', (version) => {
  it.each([
    ['import', 'probe.mjs'],
    ['require', 'probe.cjs'],
  ] as const)('%s of every subpath works and the core verifies a token', (_how, file) => {
    const result = results.get(`${version} ${file}`) as Probe
    const expected = (s: string) => s === 'bearer-guard/nestjs' && nestNeedsRequireEsm(version, file)
    const failures = Object.entries(result).filter(([s, r]) => !r.ok && !expected(s)).map(([s, r]) => `${s}: ${r.error ?? 'failed'}`)
    expect(subpaths().length).toBeGreaterThanOrEqual(10)
    expect(failures).toEqual([])
    if (nestNeedsRequireEsm(version, file)) {
      expect(result['bearer-guard/nestjs']).toEqual({ ok: false, error: expect.stringMatching(/^ERR_REQUIRE_ESM: .*@nestjs/) })
    }
  })

  it('require and import give the same names for every subpath', () => {
    const esm = results.get(`${version} probe.mjs`) as Probe
    const cjs = results.get(`${version} probe.cjs`) as Probe
    for (const s of subpaths()) {
      if (s === 'bearer-guard/nestjs' && nestNeedsRequireEsm(version, 'probe.cjs')) continue
      expect(cjs[s]?.keys, s).toEqual(esm[s]?.keys)
    }
  })

  it('bearer-guard/nestjs guards a real Nest 12 app: 401 without a token, 403 without the role, 200 with it', async () => {
    const r = await run(nodes[version] as string, ['nest.mjs'], { cwd: dirs.node })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ statuses: [401, 403, 200] })
  })

  it.each(['otel.mjs', 'otel.cjs'])('bearer-guard/otel records verifications through the OpenTelemetry SDK (%s)', async (file) => {
    const r = await run(nodes[version] as string, [file], { cwd: dirs.node })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual([
      ['refused', 'missing_token', 1],
      ['valid', null, 1],
    ])
  })

  it("require('bearer-guard/fastify') is the plugin function itself, carrying the named exports", () => {
    const cjs = (results.get(`${version} probe.cjs`) as Probe)['bearer-guard/fastify']
    expect(cjs?.type).toBe('function')
    expect(cjs?.keys).toEqual(expect.arrayContaining(['default', 'bearerGuard', 'requireAuth', 'requireRole', 'requireScopes', 'requireClaims']))
  })
})

it(`tests on Node ${OLD_NODE} and on the current Node`, () => {
  expect(versions).toContain(OLD_NODE)
  expect(versions).toContain(process.version.slice(1))
})

it.each(versions)('bearer-guard/testing signs tokens without msw installed (Node %s)', async (version) => {
  const r = await run(nodes[version] as string, ['no-msw.mjs'], { cwd: dirs.lean })
  expect(r.stderr).toBe('')
  const out = JSON.parse(r.stdout) as { subject: string; msw: string }
  expect(out.subject).toBe('alice')
  expect(out.msw).toBe('ERR_MODULE_NOT_FOUND') // only mswHandlers() needs msw
})
