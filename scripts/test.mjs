#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, then one closing line
// "N passed, N failed, N skipped" (vitest tests + packaging checks + the end-to-end demo).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'

const report = '.tmp/vitest-report.json'
mkdirSync('.tmp', { recursive: true })
rmSync(report, { force: true })

const steps = [
  ['build', 'npm', ['run', 'build', '--silent']],
  ['typecheck', 'npm', ['run', 'typecheck', '--silent']],
  ['tests', 'npx', ['vitest', 'run', '--coverage', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]],
  ['packaging', 'npm', ['run', 'check:packaging', '--silent']],
  ['demo', 'node', ['--import', 'tsx', 'examples/demo.ts']],
]

let passed = 0
let failed = 0
let skipped = 0
const failedSteps = []
for (const [name, cmd, args] of steps) {
  const started = Date.now()
  console.log(`\n▶ ${name}: ${cmd} ${args.join(' ')}`)
  const { status } = spawnSync(cmd, args, { stdio: 'inherit', env: process.env })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (name === 'tests' && existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'))
    passed += r.numPassedTests
    failed += r.numFailedTests
    skipped += r.numPendingTests + r.numTodoTests
    if (status !== 0 && r.numFailedTests === 0) failed += 1 // e.g. the coverage threshold
  } else if (status === 0) passed += 1
  else failed += 1
  console.log(`${status === 0 ? '✓' : '✗'} ${name} (${seconds} s)`)
  if (status !== 0) {
    failedSteps.push(name)
    if (name === 'build') break // nothing after it can run
  }
}
if (failedSteps.length) console.log(`\nfailed steps: ${failedSteps.join(', ')}`)
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed === 0 && failedSteps.length === 0 ? 0 : 1)
