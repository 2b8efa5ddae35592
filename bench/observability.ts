/**
 * `npm run bench:observability`: the hot path's cost of the diagnostics channels (issue 17).
 *
 * Three states of one process, measured in interleaved rounds (the machine's speed drifts):
 *   - no subscriber: nothing subscribes to `bearer-guard:*` (the default);
 *   - one subscriber: a no-op `diagnostics_channel` subscriber on `bearer-guard:verify`;
 *   - OTel on: `instrument()` of bearer-guard/otel with the SDK's MeterProvider (a reader that is
 *     never collected during the run) and a tracer provider whose spans are dropped on end.
 * Workloads: the same token again (a cache hit) and never-seen RS256 tokens (a fresh signature
 * check), one verifier each, static keys (no network). Medians over rounds, µs per verification.
 * The numbers print with the load average: the machine is shared.
 *
 * `BENCH_BASE=<checkout>` adds a row for another checkout's sources (e.g. a worktree of the commit
 * before the channels: `git worktree add /tmp/base <commit>`), measured in the same rounds.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import os from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { AUDIENCE, createFixture, ISSUER, signToken, signTokens } from './lib/fixtures.js'
import { median, perOp, perOpRepeated } from './lib/stats.js'
import { loadBearerGuard, target } from './lib/target.js'

const quick = process.env.BENCH_QUICK === '1'
const rounds = quick ? 3 : 9
const distinctPerRound = quick ? 300 : 1500
const sameMs = quick ? 20 : 60

const { createVerifier } = await loadBearerGuard()
const { instrument } = (await import(target === 'dist' ? '../dist/otel.js' : '../src/otel/index.js')) as typeof import('../src/otel/index.js')

const rs = createFixture('RS256')
const options = { issuer: ISSUER, audience: AUDIENCE, keys: [rs.publicJwk!], algorithms: ['RS256' as const], logger: false as const }
const baseDir = process.env.BENCH_BASE
const createBase = baseDir
  ? ((await import(pathToFileURL(join(baseDir, 'src/index.ts')).href)) as typeof import('../src/index.js')).createVerifier
  : undefined
const token = signToken(rs)
const same = createVerifier(options)
await same.verifyAccessToken(token)
const sameBase = createBase?.(options)
await sameBase?.verifyAccessToken(token)

const states = [...(createBase ? (['before (BENCH_BASE)'] as const) : []), 'no subscriber', 'one subscriber', 'OTel on'] as const
type State = (typeof states)[number]

const noop = () => {}
const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop }
const verifyChannel = diagnosticsChannel.tracingChannel('bearer-guard:verify')
const dropSpans: SpanProcessor = { onStart: noop, onEnd: noop, forceFlush: async () => {}, shutdown: async () => {} }
const meterProvider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })],
})
const tracerProvider = new BasicTracerProvider({ spanProcessors: [dropSpans] })

function enter(state: State): () => void {
  if (state === 'one subscriber') {
    verifyChannel.subscribe(handlers)
    return () => verifyChannel.unsubscribe(handlers)
  }
  if (state === 'OTel on') return instrument({ meterProvider, tracerProvider })
  return noop
}

const sameUs = new Map<State, number[]>(states.map((s) => [s, []]))
const freshUs = new Map<State, number[]>(states.map((s) => [s, []]))
const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' / ')
const started = performance.now()

for (let round = 0; round < rounds; round++) {
  // rotate the order, so no state always runs first or last in a round
  const order = states.map((_, i) => states[(i + round) % states.length] as State)
  for (const state of order) {
    const leave = enter(state)
    try {
      const before = state === 'before (BENCH_BASE)'
      const sameVerifier = before ? sameBase! : same
      sameUs.get(state)!.push(await perOpRepeated((t: string) => sameVerifier.verifyAccessToken(t), token, sameMs, 2000))
      // a new verifier per sample: none of its tokens was seen by it before
      const fresh = (before ? createBase! : createVerifier)({ ...options, cache: false })
      const tokens = signTokens(rs, distinctPerRound)
      await fresh.verifyAccessToken(tokens[0] as string)
      freshUs.get(state)!.push(await perOp((t: string) => fresh.verifyAccessToken(t), tokens.slice(1)))
    } finally {
      leave()
    }
  }
}

const loadAtEnd = os.loadavg().map((l) => l.toFixed(2)).join(' / ')
const base = { same: median(sameUs.get('no subscriber')!), fresh: median(freshUs.get('no subscriber')!) }
console.log(`\nbearer-guard diagnostics on the hot path (${target}, Node ${process.version}, ${os.cpus().length} CPUs, ${rounds} rounds, ${((performance.now() - started) / 1000).toFixed(0)} s)`)
console.log(`load average (1/5/15 min): ${loadAtStart} at start, ${loadAtEnd} at end\n`)
console.log('| state | same token (cache hit) µs | × | never-seen RS256 token µs | × |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const state of states) {
  const s = median(sameUs.get(state)!)
  const f = median(freshUs.get(state)!)
  console.log(`| ${state} | ${s.toFixed(2)} | ${(s / base.same).toFixed(2)} | ${f.toFixed(1)} | ${(f / base.fresh).toFixed(2)} |`)
}
await meterProvider.shutdown()
