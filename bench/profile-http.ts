/**
 * A CPU profile of one HTTP server under never-seen tokens (issue 20: where bearer-guard's own work
 * goes inside a server). The server runs pinned to CPU 0 under `node --cpu-prof`, autocannon in
 * this process on CPU 1 (as bench/http.ts does), one new RS256 token per request; then the profile's
 * self time is summed per function and per file and printed.
 *
 * `node --import tsx bench/profile-http.ts [fastify|express] [bg|nocache|floor|none]`; `SAME=1`: one token repeated
 * Environment: `TOKENS` (default 30000: signed before the run, one per request), `PROFILE_DIR`
 * (default `.tmp/profile-http`), `TOP` (rows printed, default 25).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { createFixture, signTokens, startJwksServer } from './lib/fixtures.js'
import { sendEach } from './lib/send.js'

const [framework = 'fastify', mode = 'bg'] = process.argv.slice(2)
const count = Number(process.env.TOKENS ?? 30000)
const dir = process.env.PROFILE_DIR ?? '.tmp/profile-http'
const top = Number(process.env.TOP ?? 25)
const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url))

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  startTime: number
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
const fixture = createFixture('RS256')
const jwks = await startJwksServer([fixture])
// `SAME=1`: one token repeated (the cache-hit path) instead of a new one per request
const tokens = process.env.SAME === "1" ? Array.from({ length: count }, ((t) => () => t)(signTokens(fixture, 1)[0] as string)) : signTokens(fixture, count)
const warm = process.env.SAME === '1' ? tokens.slice(0, 3000) : signTokens(fixture, 3000)
execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' })
const child = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', SERVER, framework, mode], {
  env: { ...process.env, JWKS_URI: jwks.jwksUri('RS256'), NODE_ENV: 'production' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
const { port } = JSON.parse(line) as { port: number }

const run = (list: string[]) => sendEach(port, list, 50)

await run(warm)
const load0 = os.loadavg()[0]
// the profile's clock is the monotonic clock in µs, as hrtime: only samples inside the run count
const from = Number(process.hrtime.bigint() / 1000n)
const measured = await run(tokens)
const to = Number(process.hrtime.bigint() / 1000n)
child.kill('SIGTERM')
await new Promise((resolve) => child.once('exit', resolve))
await jwks.close()

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
if (!file) throw new Error(`no profile in ${dir}`)
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
let at = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  at += dt
  if (at < from || at > to) continue
  const id = profile.samples[i] as number
  self.set(id, (self.get(id) ?? 0) + dt)
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fn = new Map<string, number>()
const files = new Map<string, number>()
const short = (url: string): string => url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '').replace(/^.*node_modules\//, 'node_modules/')
for (const [id, us] of self) {
  const { callFrame } = byId.get(id) as ProfileNode
  const where = callFrame.url ? short(callFrame.url) : '(native)'
  const name = `${callFrame.functionName || '(anonymous)'} ${where}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`
  fn.set(name, (fn.get(name) ?? 0) + us)
  const group = where.startsWith('node_modules/') ? where.split('/').slice(0, where.split('/')[1]?.startsWith('@') ? 3 : 2).join('/') : where
  files.set(group, (files.get(group) ?? 0) + us)
}
const perReq = (us: number): string => `${(us / measured.total).toFixed(2)} µs/req`
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)} %`
console.log(`${framework}/${mode}: ${measured.total} never-seen requests, ${measured.rps.toFixed(0)} req/s under the profiler; load average ${load0?.toFixed(2)} before the run; profile ${join(dir, file)}`)
console.log(`samples inside the measured run: ${(total / 1000).toFixed(0)} ms of ${((to - from) / 1000).toFixed(0)} ms (warm-up of ${warm.length} requests and start-up excluded)`)
// the same self time in a few buckets: what bearer-guard's code costs per request, next to the RSA work
const bucket = new Map<string, number>()
for (const [id, us] of self) {
  const { callFrame } = byId.get(id) as ProfileNode
  const url = callFrame.url
  const name = callFrame.functionName
  const b =
    name === '(idle)' ? 'idle (waiting for the client)'
    : name === '(garbage collector)' ? 'garbage collector'
    : url.includes('/src/') ? 'bearer-guard (src/)'
    : url.includes('node:internal/crypto') || name === 'verifyOneShot' ? 'node:crypto (the RSA verification)'
    : url.includes('node_modules/fastify') || url.includes('node_modules/find-my-way') || url.includes('node_modules/express') || url.includes('node_modules/router') ? 'the framework'
    : /node:(_http|net|internal\/stream|internal\/streams|events|internal\/process|internal\/timers|buffer|internal\/buffer)/.test(url) || name === 'writev' || name === 'writeUtf8String' || name === 'writeBuffer' ? 'node http, streams, events, ticks'
    : name === '(program)' ? '(program): V8 and native glue'
    : 'other'
  bucket.set(b, (bucket.get(b) ?? 0) + us)
}
console.log('\nself time by part (µs per request over the measured run):')
for (const [name, us] of [...bucket].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us).padStart(7)}  ${perReq(us).padStart(14)}  ${name}`)
console.log('\ntop self time, by function:')
for (const [name, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(7)}  ${perReq(us).padStart(14)}  ${name}`)
console.log('\nself time, by file or package:')
for (const [name, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(7)}  ${perReq(us).padStart(14)}  ${name}`)
