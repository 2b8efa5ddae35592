/**
 * Fresh signatures on libuv's threadpool (issue 20): what `crypto.verify` with a callback costs the
 * event loop, next to the synchronous call, per never-seen token, as a server meets them: `C`
 * verifications in flight (requests waiting on their token), each started as the previous finishes.
 *
 * Per algorithm and mode: wall time per token (the throughput) and the event loop's busy time per
 * token (`performance.eventLoopUtilization().active`: what other requests cannot use). Run it as is
 * (every CPU) and under `taskset -c 0` (one CPU: no spare core for the pool).
 *
 *   node --import tsx bench/threadpool.ts            # ALGS=RS256,ES256,EdDSA C=32 ROUNDS=5
 *   taskset -c 0 node --import tsx bench/threadpool.ts
 *
 * `raw`: node:crypto alone (pre-decoded input, one KeyObject). `bearer-guard`: `verifyAccessToken`
 * with default options, and with `threadpool: true`.
 */
import crypto from 'node:crypto'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { AUDIENCE, ISSUER, createFixture, predecode, signTokens, startJwksServer, type BenchAlg } from './lib/fixtures.js'
import { median } from './lib/stats.js'
import { loadBearerGuard } from './lib/target.js'

const algs = (process.env.ALGS ?? 'RS256,ES256,EdDSA').split(',') as BenchAlg[]
const inFlight = Number(process.env.C ?? 32)
const rounds = Number(process.env.ROUNDS ?? 5)
const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
const { createVerifier } = await loadBearerGuard()

type Run = (i: number) => Promise<unknown> | unknown

/** Runs `n` verifications, `inFlight` at a time for asynchronous ones: µs per token of wall time and of loop busy time. */
async function drive(n: number, run: Run, sync: boolean): Promise<{ wall: number; busy: number }> {
  const elu0 = performance.eventLoopUtilization()
  const t0 = performance.now()
  if (sync) {
    for (let i = 0; i < n; i++) run(i)
  } else {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < n) await run(next++)
    }
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker))
  }
  const wall = performance.now() - t0
  const elu = performance.eventLoopUtilization(elu0)
  return { wall: (wall * 1000) / n, busy: (elu.active * 1000) / n }
}

console.log(`${cpus} CPU(s) available, ${inFlight} in flight, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ${rounds} rounds (medians)`)
for (const alg of algs) {
  const f = createFixture(alg)
  const n = alg === 'RS256' ? 4000 : 1000
  const server = await startJwksServer([f])
  const key = crypto.createPublicKey({ key: f.publicJwk as crypto.JsonWebKey, format: 'jwk' })
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const keyArg = (alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key) as crypto.KeyObject
  const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], jwksUri: server.jwksUri(alg) }
  const plain = createVerifier(options)
  let pooled: typeof plain | undefined
  try {
    pooled = createVerifier({ ...options, threadpool: true } as typeof options)
  } catch {
    // a build without the option: the raw rows alone
  }
  await Promise.all([plain.warmUp(), pooled?.warmUp()])
  const modes: [string, boolean, (tokens: string[]) => Run][] = [
    ['raw, sync', true, (tokens) => { const d = tokens.map(predecode); return (i) => crypto.verify(digest, d[i]!.data, keyArg, d[i]!.sig) }],
    ['raw, threadpool', false, (tokens) => {
      const d = tokens.map(predecode)
      return (i) => new Promise((resolve, reject) => crypto.verify(digest, d[i]!.data, keyArg, d[i]!.sig, (e, ok) => (e ? reject(e) : resolve(ok))))
    }],
    ['bearer-guard', false, (tokens) => (i) => plain.verifyAccessToken(tokens[i]!)],
  ]
  if (pooled) modes.push(['bearer-guard, threadpool: true', false, (tokens) => (i) => pooled.verifyAccessToken(tokens[i]!)])
  const results = new Map<string, { wall: number[]; busy: number[] }>()
  for (let r = -1; r < rounds; r++) {
    for (let m = 0; m < modes.length; m++) {
      const [name, sync, make] = modes[(m + Math.max(r, 0)) % modes.length]!
      const run = make(signTokens(f, n))
      const x = await drive(n, run, sync)
      if (r < 0) continue // the first round warms up
      const e = results.get(name) ?? { wall: [], busy: [] }
      e.wall.push(x.wall)
      e.busy.push(x.busy)
      results.set(name, e)
    }
  }
  for (const [name] of modes) {
    const e = results.get(name)!
    console.log(`${alg} ${name.padEnd(32)} ${median(e.wall).toFixed(1).padStart(6)} µs/token wall  ${median(e.busy).toFixed(1).padStart(6)} µs/token of event loop`)
  }
  await server.close()
}
