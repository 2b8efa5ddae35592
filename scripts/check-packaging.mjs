#!/usr/bin/env node
// `npm run check:packaging`: publint (strict) and arethetypeswrong (every resolution mode, node10
// included) over the tarball `npm pack` makes, packed into .tmp/pack/ (never the repo root, where a
// user's own bearer-guard-*.tgz may lie).
//
// One attw finding is accepted, by file: FalseExportDefault for dist/adapters/fastify.cjs. Its
// `module.exports` is the plugin function, and the function carries itself as `.default` (and every
// named export), so the `export default` of its types holds at runtime too; the consumer matrix
// (test/consumers/) requires and imports it to prove it. attw cannot see a property set at runtime.
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pack, root } from './pack.mjs'

const ACCEPTED = [{ kind: 'FalseExportDefault', implementationFileName: '/node_modules/bearer-guard/dist/adapters/fastify.cjs' }]

const tarball = pack()
const bin = (name) => `${root}/node_modules/.bin/${name}`

const publint = spawnSync(bin('publint'), ['run', tarball, '--strict'], { stdio: 'inherit' })
if (publint.status !== 0) process.exit(publint.status ?? 1)

// attw exits before a pipe drains: its JSON report goes to a file
const report = join(root, '.tmp', 'pack', 'attw.json')
const fd = openSync(report, 'w')
spawnSync(bin('attw'), [tarball, '--format', 'json'], { stdio: ['ignore', fd, 'inherit'] })
closeSync(fd)
let analysis
try {
  analysis = JSON.parse(readFileSync(report, 'utf8')).analysis
} catch {
  console.error(`attw failed: no JSON report in ${report}`)
  process.exit(1)
}
const problems = analysis.problems
const unexpected = problems.filter(
  (p) => !ACCEPTED.some((a) => Object.entries(a).every(([k, v]) => p[k] === v)),
)
if (unexpected.length > 0) {
  spawnSync(bin('attw'), [tarball], { stdio: 'inherit' })
  console.error(`attw: ${unexpected.length} problem(s):\n${JSON.stringify(unexpected, null, 2)}`)
  process.exit(1)
}
const entrypoints = Object.keys(analysis.entrypoints)
console.log(`attw: ${entrypoints.length} entrypoints resolve in node10, node16 (CJS and ESM) and bundler` +
  (problems.length ? ` (accepted: ${problems.map((p) => `${p.kind} ${p.implementationFileName ?? ''}`).join(', ')})` : ''))
