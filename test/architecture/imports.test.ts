/**
 * The house's import rules, checked by dependency-cruiser over src/ (type-only imports included):
 * no circle; the packages above the core (adapters, presets, testing, redis, and otel/mcp when they
 * come) import only the core; the core imports nothing above it; inside the core, keys/ is the
 * bottom layer, sources/ (the HTTP side) sits on keys/, and engine/ may use both; the stage folders
 * import only the shared leaf files of core/ (errors, limits, types, …) at run time, never the
 * pipeline files that compose them; limits.ts imports nothing. See docs/architecture.md.
 */
import { describe, expect, it } from 'vitest'
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'

/** The core's leaf files: what the stage folders may import from core/ itself. */
const CORE_LEAVES = '^src/core/(errors|limits|types|base64url|claim-path|extract|duration|diagnostics|resource)\\.ts$'

const rules: IForbiddenRuleType[] = [
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  {
    name: 'upper-layers-import-only-the-core',
    severity: 'error',
    from: { path: '^src/(adapters|presets|testing|redis|otel|mcp)/' },
    to: { path: '^src/', pathNot: ['^src/core/', '^src/$1/'] },
  },
  { name: 'core-imports-nothing-above-it', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/(?!core/)' } },
  {
    name: 'keys-are-the-bottom-layer',
    severity: 'error',
    from: { path: '^src/core/keys/' },
    to: { path: '^src/core/(engine|sources|stores|options)/' },
  },
  { name: 'sources-sit-below-the-engine', severity: 'error', from: { path: '^src/core/sources/' }, to: { path: '^src/core/(engine|stores|options)/' } },
  {
    name: 'stages-import-only-core-leaves',
    severity: 'error',
    from: { path: '^src/core/(engine|keys|sources|stores|options)/' },
    // the normalized options and the logger's types may be named (type-only: no zod, no cycle at run time)
    to: { path: '^src/core/[^/]+\\.ts$', pathNot: CORE_LEAVES, dependencyTypesNot: ['type-only'] },
  },
  { name: 'limits-is-a-leaf', severity: 'error', from: { path: '^src/core/limits\\.ts$' }, to: {} },
]

async function cruiseSrc(): Promise<ICruiseResult> {
  const tsConfig = extractTSConfig('tsconfig.json')
  const result = await cruise(
    ['src'],
    {
      validate: true,
      ruleSet: { forbidden: rules },
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      doNotFollow: { path: 'node_modules' },
      exclude: { path: 'node_modules' },
    },
    undefined,
    { tsConfig },
  )
  return result.output as ICruiseResult
}

describe('import rules of src/', () => {
  it('holds every rule (no circle, layers import downwards only, limits.ts is a leaf)', { timeout: 60_000 }, async () => {
    const result = await cruiseSrc()
    const verifier = result.modules.find((m) => m.source === 'src/core/verifier.ts')
    // the graph is real: the pipeline's stage imports resolve to files (a cruise that resolves nothing would pass vacuously)
    expect(verifier?.dependencies.map((d) => d.resolved)).toEqual(
      expect.arrayContaining(['src/core/engine/jws.ts', 'src/core/engine/claims.ts', 'src/core/engine/token-cache.ts']),
    )
    const unresolved = result.modules.flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source} → ${d.module}`))
    expect(unresolved).toEqual([])
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`)
    expect(violations).toEqual([])
  })
})
