/**
 * `npm run bench`: the micro benchmark, the HTTP benchmark, (when present) the revocation bench and the DPoP bench,
 * in one run; writes docs/performance.md.
 *
 * Environment: `BENCH_TARGET=dist` measures the built package (after `npm run build`); `BENCH_QUICK=1`
 * runs fewer, shorter rounds (a smoke test; numbers not for the docs); `BENCH_ONLY=micro|http`
 * runs one part; `BENCH_OUT=<path>` writes the report elsewhere;
 * `BENCH_NOTE=<text>` adds a note under the run's details (e.g. other work loading the machine).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { runHttpBench, type HttpResult } from './http.js'
import { runMicroBench, type MicroResult } from './micro.js'
import { runFloodBench } from './flood.js'
import { keepHandWritten, renderReport, type DpopRow, type FloodRow, type RevocationRow } from './report.js'
import { target } from './lib/target.js'

const quick = process.env.BENCH_QUICK === '1'
const only = process.env.BENCH_ONLY
const out = process.env.BENCH_OUT ?? fileURLToPath(new URL('../docs/performance.md', import.meta.url))
const log = (line: string): void => console.log(line)
const t0 = performance.now()
const loadAvg = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' / ')
const loadAtStart = loadAvg()

let micro: MicroResult | undefined
let http: HttpResult | undefined
let revocation: RevocationRow[] | undefined
let dpop: DpopRow[] | undefined
let flood: FloodRow[] | undefined

if (only !== 'http') {
  log(`micro benchmark (${target})`)
  // more, shorter rounds: a median over 9 is steadier on a machine whose speed drifts
  micro = await runMicroBench({ rounds: quick ? 2 : 9, sampleMs: quick ? 15 : 25, sameMs: quick ? 10 : 15, log })
  log(`micro: ${micro.seconds.toFixed(0)} s`)
}
if (only !== 'micro') {
  log(`HTTP benchmark (${target})`)
  http = await runHttpBench({
    // the machine's speed drifts over seconds: a ratio is taken per round, the servers' order rotates
    rounds: quick ? 1 : 3,
    duration: 1,
    connections: 50,
    freshTokens: quick ? { express: 3000, fastify: 6000 } : { express: 7000, fastify: 16000 },
    log,
  })
  log(`HTTP: ${http.seconds.toFixed(0)} s`)
}
if (!only && existsSync(fileURLToPath(new URL('./revocation.ts', import.meta.url)))) {
  try {
    const mod = (await import('./revocation.js')) as { runRevocationBench?: () => Promise<RevocationRow[]> }
    if (mod.runRevocationBench) {
      log('revocation bench')
      revocation = await mod.runRevocationBench()
    }
  } catch (error) {
    log(`revocation bench failed: ${(error as Error).message}`)
  }
}

if (!only) {
  try {
    const mod = (await import('./dpop.js')) as { runDpopBench: () => Promise<DpopRow[]> }
    log('DPoP bench')
    dpop = await mod.runDpopBench()
  } catch (error) {
    log(`DPoP bench failed: ${(error as Error).message}`)
  }
}

if (!only) {
  log('flood of one bad token')
  flood = await runFloodBench(quick ? 3 : 7)
}

const seconds = (performance.now() - t0) / 1000
const report = renderReport({
  micro,
  http,
  revocation,
  dpop,
  flood,
  seconds,
  target,
  quick,
  note: process.env.BENCH_NOTE,
  machine: {
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    load: `${loadAtStart} at the start, ${loadAvg()} at the end`,
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  },
})
writeFileSync(out, keepHandWritten(report, existsSync(out) ? readFileSync(out, 'utf8') : undefined))
log(`wrote ${out} (${seconds.toFixed(0)} s in all)`)
