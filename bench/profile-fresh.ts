/**
 * Where a fresh verification's time goes: one verifier per cache setting, distinct never-seen tokens,
 * the per-call cost of `verifyAccessToken` (cache on and `cache: false`) next to the node:crypto floor
 * on the same tokens, in interleaved blocks, as wall time and as this process's CPU time (steadier
 * when other work shares the machine). Medians over the blocks.
 *
 *   ALG=RS256 N=3000 node --import tsx bench/profile-fresh.ts
 *   ALG=HS256 PROFILE=/tmp/fresh.cpuprofile node --import tsx bench/profile-fresh.ts   # CPU profile of the measured loops only
 *   ALG=RS256 STUB=1 node --import tsx bench/profile-fresh.ts   # crypto.verify answers true: bearer-guard's own work alone
 *
 * Env: ALG (default HS256), N tokens per slice (default 20000), ROUNDS (default 5), BLOCK tokens per
 * block (default 500), ONLY=on|off, PROFILE=<file>, STUB=1 (asymmetric algorithms only).
 */
import crypto from 'node:crypto'
import { createFixture, floorVerifier, predecode, signTokens, startJwksServer, ISSUER, AUDIENCE, type BenchAlg } from './lib/fixtures.js'
import { median } from './lib/stats.js'
import { loadBearerGuard } from './lib/target.js'

const alg = (process.env.ALG ?? 'HS256') as BenchAlg
const n = Number(process.env.N ?? 20000)
const rounds = Number(process.env.ROUNDS ?? 5)
const only = process.env.ONLY

const f = createFixture(alg)
const server = await startJwksServer([f])
const { createVerifier } = await loadBearerGuard()

async function make(cache: boolean): Promise<(t: string) => Promise<unknown>> {
  const common = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], ...(cache ? {} : { cache: false as const }) }
  const v = alg === 'HS256' ? createVerifier({ ...common, secret: new Uint8Array(f.secret as Buffer) }) : createVerifier({ ...common, jwksUri: server.jwksUri(alg) })
  await v.warmUp()
  return (t) => v.verifyAccessToken(t)
}

const floor = floorVerifier(f)
// STUB=1: while a verifier runs, crypto.verify (the same module object bearer-guard gets from
// process.getBuiltinModule) answers true without verifying; the floor still verifies
const realVerify = crypto.verify
let stubbed = false
if (process.env.STUB === '1') {
  ;(crypto as { verify: unknown }).verify = (...args: Parameters<typeof crypto.verify>) => (stubbed ? true : realVerify(...args))
}
const contenders: [string, (t: string) => Promise<unknown>][] = []
if (!only || only === 'on') contenders.push(['cache on', await make(true)])
if (!only || only === 'off') contenders.push(['cache: false', await make(false)])

// each (round, contender) gets its own never-seen slice; the floor runs on the same slice first
const slices = rounds * Math.max(1, contenders.length)
const tokens = signTokens(f, n * slices + 2000)
const warm = tokens.slice(n * slices)
for (const [, fn] of contenders) for (const t of warm) await fn(t)
const decoded = tokens.map(predecode)

// PROFILE=<file>: a CPU profile of the measured loops only (not of signing and warm-up)
const session = process.env.PROFILE ? new (await import('node:inspector')).Session() : undefined
const post = (method: string, params?: object): Promise<any> =>
  new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r))))
if (session) {
  session.connect()
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 50 })
  await post('Profiler.start')
}

// Interleaved blocks: floor, then each contender, on fresh slices of BLOCK tokens; wall and CPU time
// (process.cpuUsage: what this process burnt, less disturbed by other work on a shared machine).
const ns = (): bigint => process.hrtime.bigint()
const cpu = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}
const block = Number(process.env.BLOCK ?? 500)
const res = new Map<string, number[]>()
const push = (k: string, v: number): void => void (res.get(k) ?? res.set(k, []).get(k)!).push(v)
for (let lo = 0; lo + block <= n * slices; ) {
  const fl0 = ns()
  const fc0 = cpu()
  for (let i = lo; i < lo + block; i++) if (!floor(decoded[i]!)) throw new Error('floor rejected')
  const flc = (cpu() - fc0) / block
  const fl = Number(ns() - fl0) / 1000 / block
  push('floor wall', fl)
  push('floor cpu', flc)
  for (const [name, fn] of contenders) {
    if (lo + block > n * slices) break
    stubbed = process.env.STUB === '1'
    const t0 = ns()
    const c0 = cpu()
    for (let i = lo; i < lo + block; i++) await fn(tokens[i]!)
    const c = (cpu() - c0) / block
    const us = Number(ns() - t0) / 1000 / block
    stubbed = false
    lo += block
    push(`${name} wall`, us)
    push(`${name} cpu`, c)
    push(`${name} wall ratio`, us / fl)
    push(`${name} cpu ratio`, c / flc)
  }
}
if (session) {
  const { profile } = await post('Profiler.stop')
  ;(await import('node:fs')).writeFileSync(process.env.PROFILE!, JSON.stringify(profile))
}
for (const [k, v] of res) console.log(`${k.padEnd(24)} ${median(v).toFixed(2)}${k.endsWith('ratio') ? '×' : ' µs'}  (${v.length} blocks)`)
await server.close()
