/**
 * Garbage collection inside an HTTP server under never-seen tokens, after the server has cached a
 * pool of tokens (issue 20): what each server's young collections cost per request, and how much its
 * old generation grows per request. Each server of bench/http-server.ts runs pinned to CPU 0 with
 * bench/lib/gc-probe.ts loaded; it first serves a pool of 1,000 tokens for `WARM_POOL` seconds (a
 * cache fills, as with active users), then `WARM` never-seen tokens; then, in `ROUNDS` rounds
 * (servers alternated), `N` never-seen tokens each.
 *
 *   node --import tsx bench/gc.ts [fastify|express] [modes of bench/http-server.ts; default floor,bg,nocache]
 *
 * `BASELINE=<path of another checkout>` adds that tree's `bg` server (an A/B of two versions).
 * Counts and bytes are steadier than req/s on this machine; the CPU column is the server's
 * user + system time per request (/proc), for scale.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pinSelf, startServer, type Framework, type Mode, type Server as Started } from './http.js'
import { createFixture, signTokens, startJwksServer } from './lib/fixtures.js'
import type { GcStats } from './lib/gc-probe.js'
import { sendEach } from './lib/send.js'
import { cpuOf } from './lib/proc.js'
import { median } from './lib/stats.js'

const [framework = 'fastify', modeList = 'floor,bg,nocache'] = process.argv.slice(2) as [Framework?, string?]
const n = Number(process.env.N ?? 4000)
const rounds = Number(process.env.ROUNDS ?? 3)
const warm = Number(process.env.WARM ?? 2000)
const warmPool = Number(process.env.WARM_POOL ?? 1)
const CONNECTIONS = 50
const PROBE = fileURLToPath(new URL('./lib/gc-probe.ts', import.meta.url))

const specs: { label: string; file?: string; mode: Mode }[] = modeList.split(',').map((mode) => ({ label: mode, mode: mode as Mode }))
if (process.env.BASELINE) specs.push({ label: 'bg (baseline)', file: join(process.env.BASELINE, 'bench/http-server.ts'), mode: 'bg' })

const fixture = createFixture('RS256')
const jwks = await startJwksServer([fixture])
pinSelf('1')

interface Server extends Started {
  label: string
}

async function start(spec: (typeof specs)[number]): Promise<Server> {
  const started = await startServer(framework, spec.mode, jwks.jwksUri('RS256'), { file: spec.file, nodeArgs: ['--import', PROBE], ipc: true })
  return { ...started, label: spec.label }
}

function gcStats(server: Server): Promise<GcStats> {
  return new Promise((resolve) => {
    const onMessage = (message: { gcStats?: GcStats }) => {
      if (!message.gcStats) return
      server.child.off('message', onMessage)
      resolve(message.gcStats)
    }
    server.child.on('message', onMessage)
    server.child.send('gc-stats')
  })
}

const pool = signTokens(fixture, 1000)
const servers: Server[] = []
try {
  for (const spec of specs) {
    const server = await start(spec)
    servers.push(server)
    // a pool of active users (every token seen many times: cached), then never-seen tokens (JIT)
    const until = performance.now() + warmPool * 1000
    while (performance.now() < until) await sendEach(server.port, pool, CONNECTIONS)
    await sendEach(server.port, signTokens(fixture, warm), CONNECTIONS)
  }
  const rows = new Map<string, { minorMs: number[]; minors: number[]; majorMs: number[]; old: number[]; cpu: number[] }>()
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(i + r) % servers.length] as Server
      const tokens = signTokens(fixture, n)
      await gcStats(server)
      const cpu0 = cpuOf(server.child.pid)
      const { total } = await sendEach(server.port, tokens, CONNECTIONS)
      const cpu = (cpuOf(server.child.pid) - cpu0) / total
      const s = await gcStats(server)
      const k = 1000 / total
      const row = rows.get(server.label) ?? { minorMs: [], minors: [], majorMs: [], old: [], cpu: [] }
      row.minors.push(s.minor * k)
      row.minorMs.push(s.minorMs * k)
      row.majorMs.push(s.majorMs * k)
      row.old.push((s.oldGrowth * k) / 1e6)
      row.cpu.push(cpu)
      rows.set(server.label, row)
      console.log(`round ${r + 1} ${server.label}: ${s.minor} young collections, ${s.minorMs.toFixed(1)} ms; ${s.major} old, ${s.majorMs.toFixed(1)} ms; old generation +${(s.oldGrowth / 1e6).toFixed(1)} MB; cpu ${cpu.toFixed(1)} µs/request`)
    }
  }
  console.log(`\n${framework}, RS256, ${n} never-seen tokens per round after a cached pool of 1,000; medians of ${rounds} rounds, per 1,000 requests:\n`)
  console.log('| server | young collections | their time | old-generation collections\' time | old generation grew by | server CPU per request |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const [label, row] of rows) {
    console.log(
      `| ${label} | ${median(row.minors).toFixed(1)} | ${median(row.minorMs).toFixed(1)} ms | ${median(row.majorMs).toFixed(1)} ms | ${median(row.old).toFixed(2)} MB | ${median(row.cpu).toFixed(0)} µs |`,
    )
  }
} finally {
  for (const server of servers) server.child.kill('SIGTERM')
  await jwks.close()
}
