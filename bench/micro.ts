/**
 * Micro benchmark: one verification at a time, in this process, against the node:crypto floor.
 *
 * For each algorithm: one pool of never-seen tokens, sliced per round, so no verifier (they are
 * built once and kept across rounds) ever sees a pool token twice; and one token repeated. Each
 * contender's distinct-token time is divided by the mean of the floor measured on the same slice
 * right before and right after it (which cancels a drift of the machine's speed); the table shows
 * medians over rounds.
 *
 * Three controls keep one contender's sample from paying for another's (issue 20, measured in
 * docs/performance.md, "The tight loop's controls"): the order is shuffled each round (seeded; a
 * rotation kept each contender behind the same neighbour in every round), each sample starts from a
 * full garbage collection (else it collects the garbage the contender before it left: jose and
 * express-oauth2-jwt-bearer allocate many times what a verification needs), and the verifier runs
 * on a few never-seen tokens untimed right before its sample (its code and data cold after the floor).
 */
import crypto from 'node:crypto'
import v8 from 'node:v8'
import vm from 'node:vm'
import {
  ALGS,
  createFixture,
  floorVerifier,
  predecode,
  signToken,
  signTokens,
  startJwksServer,
  type AlgFixture,
  type BenchAlg,
} from './lib/fixtures.js'
import { CONTENDERS, type VerifyFn } from './lib/peers.js'
import { median, perOp, perOpRepeated } from './lib/stats.js'

export interface MicroOptions {
  rounds: number
  /** Floor time per distinct-token sample, per contender and round (ms). */
  sampleMs: number
  /** Time per same-token sample (ms). */
  sameMs: number
  algs?: readonly BenchAlg[]
  contenders?: readonly string[]
  log?: (line: string) => void
}

export interface MicroCell {
  alg: BenchAlg
  contender: string
  /** Median µs per verification. */
  distinctUs: number
  sameUs: number
  /** Median of the per-round ratios to the floor. */
  distinctRatio: number
  /** The distinct-token ratio of every round (their spread shows the machine's noise). */
  distinctRatios: number[]
  sameRatio: number
  rounds: number
}

export interface MicroResult {
  floorUs: Record<string, number>
  /** Tokens per distinct sample, per algorithm. */
  sample: Record<string, number>
  cells: MicroCell[]
  labels: Record<string, string>
  /**
   * bearer-guard's own µs per never-seen token (median over rounds): a verifier (default options) on
   * the round's slice while `crypto.verify` answers at once. Asymmetric algorithms only.
   */
  ownUs: Record<string, number>
  seconds: number
}

export async function runMicroBench(options: MicroOptions): Promise<MicroResult> {
  const log = options.log ?? (() => {})
  const t0 = performance.now()
  const algs = options.algs ?? ALGS
  const contenders = CONTENDERS.filter((c) => !options.contenders || options.contenders.includes(c.id))
  const fixtures = algs.map(createFixture)
  const server = await startJwksServer(fixtures)
  const result: MicroResult = { floorUs: {}, sample: {}, cells: [], labels: {}, ownUs: {}, seconds: 0 }
  for (const c of contenders) result.labels[c.id] = c.label
  try {
    for (const f of fixtures) await benchAlg(f, server.jwksUri(f.alg))
  } finally {
    await server.close()
  }
  result.seconds = (performance.now() - t0) / 1000
  return result

  async function benchAlg(f: AlgFixture, jwksUri: string): Promise<void> {
    const floor = floorVerifier(f)
    // size the samples from a quick floor estimate
    const probe = signTokens(f, 50).map(predecode)
    await perOp(floor, probe)
    const estimate = await perOp(floor, [...probe, ...probe, ...probe, ...probe])
    const n = Math.max(200, Math.min(4000, Math.round((options.sampleMs * 1000) / estimate)))
    // enough warm-up lookups for a cache to settle into its policy for this workload (bearer-guard
    // decides over windows of 1,024 lookups whether tokens repeat)
    const warmCount = 1100
    const ts = performance.now()
    const pool = signTokens(f, options.rounds * n + warmCount + options.rounds * contenders.length * PREROLL)
    const decoded = pool.map(predecode)
    const same = signToken(f)
    log(`${f.alg}: ${pool.length} tokens signed in ${((performance.now() - ts) / 1000).toFixed(1)} s, ${n} per sample`)
    result.sample[f.alg] = n

    const active = contenders.filter((c) => c.supports(f.alg))
    // two instances per contender, one per workload: a stream of distinct tokens, and one token
    // repeated (mixing them in one cache would measure neither)
    const distinctVerifiers = new Map<string, VerifyFn>()
    const sameVerifiers = new Map<string, VerifyFn>()
    for (const c of active) {
      for (const map of [distinctVerifiers, sameVerifiers]) {
        const verify = await c.create(f, jwksUri)
        // sanity: a valid token verifies (a contender that rejects would look very fast)
        if (map === sameVerifiers) await verify(same)
        map.set(c.id, verify)
      }
    }
    // warm-up: JIT and caches in their steady state, on tokens the samples never use
    const warm = pool.slice(options.rounds * n, options.rounds * n + warmCount)
    const warmDecoded = decoded.slice(options.rounds * n, options.rounds * n + warmCount)
    // pre-roll: a few never-seen tokens per sample, verified right before it untimed
    const preroll = pool.slice(options.rounds * n + warmCount)
    let prerolled = 0
    assertFloor(floor, warmDecoded)
    for (const c of active) {
      await perOp(distinctVerifiers.get(c.id) as VerifyFn, warm)
      await perOpRepeated(sameVerifiers.get(c.id) as VerifyFn, same, 5)
    }

    // bearer-guard's own work: one more default verifier, warm (real crypto), then measured on each
    // round's slice with crypto.verify answering at once (the module object the verifier also uses)
    const ownVerifier = f.alg === 'HS256' || !active.some((c) => c.id === 'bg') ? undefined : await CONTENDERS.find((c) => c.id === 'bg')!.create(f, jwksUri)
    if (ownVerifier) await perOp(ownVerifier, warm)
    const own: number[] = []

    const samples = new Map<string, { d: number[]; s: number[]; dr: number[]; sr: number[] }>()
    const floors: number[] = []
    for (let r = 0; r < options.rounds; r++) {
      const slice = pool.slice(r * n, (r + 1) * n)
      const sliceDecoded = decoded.slice(r * n, (r + 1) * n)
      // a new order each round (a seeded shuffle): no contender always runs first, last, or after
      // the same neighbour (a rotation kept every contender behind the same one in every round)
      const order = shuffled(active, r + 1)
      for (const c of order) {
        const verify = distinctVerifiers.get(c.id) as VerifyFn
        // each sample starts from a collected heap: the garbage of the contender before is not
        // collected in this one's time (its own garbage is)
        settle()
        // floor, verifier, floor on the same slice, each in a tight loop: the verifier's time is
        // divided by the mean of the floors around it, which cancels a drift of the machine's speed
        const floorBefore = await perOp(floor, sliceDecoded)
        // the verifier's code and data back in the CPU's caches after the floor (untimed, on
        // never-seen tokens of its own)
        await perOp(verify, preroll.slice(prerolled, (prerolled += PREROLL)))
        const d = await perOp(verify, slice)
        const floorUs = (floorBefore + (await perOp(floor, sliceDecoded))) / 2
        const s = await perOpRepeated(sameVerifiers.get(c.id) as VerifyFn, same, options.sameMs)
        floors.push(floorUs)
        let entry = samples.get(c.id)
        if (!entry) samples.set(c.id, (entry = { d: [], s: [], dr: [], sr: [] }))
        entry.d.push(d)
        entry.s.push(s)
        entry.dr.push(d / floorUs)
        entry.sr.push(s / floorUs)
      }
      if (ownVerifier) {
        const realVerify = crypto.verify
        ;(crypto as { verify: unknown }).verify = () => true
        try {
          settle()
          own.push(await perOp(ownVerifier, slice))
        } finally {
          ;(crypto as { verify: unknown }).verify = realVerify
        }
      }
    }
    result.floorUs[f.alg] = median(floors)
    if (own.length) result.ownUs[f.alg] = median(own)
    for (const c of active) {
      const e = samples.get(c.id)!
      const cell: MicroCell = {
        alg: f.alg,
        contender: c.id,
        distinctUs: median(e.d),
        sameUs: median(e.s),
        distinctRatio: median(e.dr),
        distinctRatios: e.dr,
        sameRatio: median(e.sr),
        rounds: e.d.length,
      }
      result.cells.push(cell)
      log(`  ${f.alg} ${c.id.padEnd(14)} distinct ${cell.distinctUs.toFixed(1).padStart(7)} µs ${cell.distinctRatio.toFixed(2)}×   same ${cell.sameUs.toFixed(2).padStart(7)} µs ${cell.sameRatio.toFixed(3)}×`)
    }
    log(`  ${f.alg} floor ${result.floorUs[f.alg]!.toFixed(1)} µs`)
  }
}

/** Never-seen tokens verified right before each timed sample, untimed. */
const PREROLL = 16

/**
 * A full garbage collection. V8 exposes `gc()` to contexts made after `--expose-gc` is set, so the
 * bench needs no node flag; without it the samples would measure something else, so it throws.
 */
const settle: () => void = (() => {
  v8.setFlagsFromString('--expose-gc')
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined')
  if (typeof gc !== 'function') throw new Error('bench/micro.ts: V8 did not expose gc() (--expose-gc)')
  return gc as () => void
})()

/**
 * `items` in an order fixed by `seed`: Fisher–Yates over mulberry32 (a linear congruential
 * generator's low bits repeat with short periods, and its first outputs from small seeds are alike:
 * both kept some contenders in one position in every round).
 */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

function assertFloor(floor: (d: ReturnType<typeof predecode>) => boolean, inputs: ReturnType<typeof predecode>[]): void {
  for (const d of inputs) if (!floor(d)) throw new Error('floor verifier rejected a valid token')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(process.env.ROUNDS ?? 3)
  const algs = process.env.ALGS?.split(',') as BenchAlg[] | undefined
  const contenders = process.env.ONLY?.split(',')
  const r = await runMicroBench({ rounds, sampleMs: 40, sameMs: 30, algs, contenders, log: console.log })
  console.log(`micro: ${r.seconds.toFixed(1)} s`)
}
