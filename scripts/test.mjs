#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, then one closing line
// "N passed, N failed, N skipped" (vitest tests + packaging checks + consumer matrix + the end-to-end demo).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'

const report = '.tmp/vitest-report.json'
const consumersReport = '.tmp/consumers-report.json'
mkdirSync('.tmp', { recursive: true })
rmSync(report, { force: true })
rmSync(consumersReport, { force: true })

// steps whose vitest JSON report counts each test (the other steps count as one check each)
const reports = { tests: report, consumers: consumersReport }
const steps = [
  ['build', 'npm', ['run', 'build', '--silent']],
  ['typecheck', 'npm', ['run', 'typecheck', '--silent']],
  ['tests', 'npx', ['vitest', 'run', '--coverage', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]],
  // publint and attw over the packed tarball (in .tmp/pack/, never the repo root)
  ['packaging', 'npm', ['run', 'check:packaging', '--silent']],
  // fixture projects install that tarball: import/require on Node 20.18 and now, tsc per setup, vitest + Next
  ['consumers', 'npx', ['vitest', 'run', '--config', 'test/consumers/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${consumersReport}`]],
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
  if (reports[name] && existsSync(reports[name])) {
    const r = JSON.parse(readFileSync(reports[name], 'utf8'))
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
