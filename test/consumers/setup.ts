/**
 * Global setup of the consumer matrix: packs the built package (scripts/pack.mjs), fetches the Node
 * binaries the runtime cells need and installs the fixture projects, then hands their paths to the
 * test files. An install that fails stops the run: no cell can be judged without it.
 */
import type { TestProject } from 'vitest/node'
import { FIXTURES } from './fixtures.js'
import { installFixture, nodeBinary, repoRoot, run } from './harness.js'

/** The Node versions every runtime cell runs on besides the current one: the last 20.x without `require(esm)`. */
export const OLD_NODE = '20.18.0'

declare module 'vitest' {
  export interface ProvidedContext {
    tarball: string
    fixtureDirs: Record<keyof typeof FIXTURES, string>
    nodes: Record<string, string>
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now()
  const tarball = process.env.BEARER_GUARD_TARBALL ?? (await packed())
  const nodes: Record<string, string> = { [process.version.slice(1)]: process.execPath }
  nodes[OLD_NODE] = await nodeBinary(OLD_NODE)
  const fixtureDirs = {} as Record<keyof typeof FIXTURES, string>
  for (const [key, fixture] of Object.entries(FIXTURES) as [keyof typeof FIXTURES, (typeof FIXTURES)[keyof typeof FIXTURES]][]) {
    fixtureDirs[key] = await installFixture(fixture, tarball)
  }
  project.provide('tarball', tarball)
  project.provide('fixtureDirs', fixtureDirs)
  project.provide('nodes', nodes)
  console.log(`consumers: ${tarball} installed in ${Object.keys(fixtureDirs).length} fixtures in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

/** `node scripts/pack.mjs`: the tarball npm would publish, in .tmp/pack/. */
async function packed(): Promise<string> {
  const r = await run(process.execPath, ['scripts/pack.mjs'], { cwd: repoRoot })
  if (r.code !== 0) throw new Error(`scripts/pack.mjs failed:\n${r.stderr}`)
  return r.stdout.trim()
}
