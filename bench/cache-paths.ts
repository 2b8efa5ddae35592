/**
 * What the verified-token cache costs a never-seen token, in a tight loop, measured as paired
 * differences (issue 20, target 2). Verifiers run in one process in alternating blocks of tokens;
 * each block of one is paired with the block of the other next to it, and the median of the
 * differences is reported with its interquartile range: a drift of this machine's speed (2× from
 * one second to the next) cancels in a pair, where it buries a few percent in a ratio of medians.
 *
 *   npm run bench:cache                                           # this tree
 *   BASELINE=/path/to/other/checkout node --import tsx bench/cache-paths.ts   # and that tree's src/
 *
 * Three parts:
 * - never-seen: a stream of new tokens (the cache under churn) against `cache: false`;
 * - mixed: a full cache (`MIX_MAX` tokens cached, default 2,000) serving `HITS` cached tokens and
 *   `FRESH` never-seen ones per block (default 100 and 100: hits keep the cache out of churn), cost per
 *   never-seen token against the baseline's (only with `BASELINE`).
 *
 * - isolated (`PART=isolated`): the cache's own path for a never-seen token (lookup, negative cache,
 *   admission) on its own, with `ALLOC` bytes allocated between tokens (default 0 and 4096: what a
 *   verification's garbage does to the CPU caches), against the same loop without the cache; with
 *   `BASELINE`, that tree's caches too.
 *
 * `FLUSH=1` writes 64 MB before each block (never-seen and isolated parts), as other verifiers do
 * between two samples of bench/micro.ts: the cache's tables start cold.
 *
 * Environment: `ALG` (HS256, or an asymmetric algorithm of bench/lib/fixtures.ts), `R` rounds
 * (default 120), `B` tokens per never-seen block (default 500), `PART` (never-seen, mixed,
 * isolated; default the first two).
 */
import { createFixture, signTokens, startJwksServer, type BenchAlg } from './lib/fixtures.js'
import { bearerGuardVerifier, type VerifyFn } from './lib/peers.js'
import { median, perOp } from './lib/stats.js'

type BearerGuard = Parameters<typeof bearerGuardVerifier>[0]

const alg = (process.env.ALG ?? 'HS256') as BenchAlg
const rounds = Number(process.env.R ?? 120)
const block = Number(process.env.B ?? 500)
const mixMax = Number(process.env.MIX_MAX ?? 2000)
const hits = Number(process.env.HITS ?? 100)
const fresh = Number(process.env.FRESH ?? 100)

const parts = (process.env.PART ?? 'never-seen,mixed').split(',')

const f = createFixture(alg)
const jwks = await startJwksServer([f])
const current: BearerGuard = await import('../src/index.js')
const baseline = process.env.BASELINE ? ((await import(`${process.env.BASELINE}/src/index.ts`)) as BearerGuard) : undefined

const make = (core: BearerGuard, cache: false | { max: number } | undefined): Promise<VerifyFn> => bearerGuardVerifier(core, f, jwks.jwksUri(alg), cache)

const flushBuffer = process.env.FLUSH === '1' ? new Uint8Array(64 << 20) : undefined

/** With `FLUSH=1`: writes a line of every 64 bytes of 64 MB, which evicts the CPU's caches. */
function flush(): void {
  if (flushBuffer) for (let j = 0; j < flushBuffer.length; j += 64) flushBuffer[j]!++
}

/** Median and interquartile range of paired differences, in ns. */
function paired(a: readonly number[], b: readonly number[], scale = 1): string {
  const d = a.map((x, i) => (x - (b[i] as number)) * 1000 * scale).sort((x, y) => x - y)
  const q = (p: number): string => (d[Math.floor(p * (d.length - 1))] as number).toFixed(0)
  return `${median(d).toFixed(0)} ns (IQR ${q(0.25)}..${q(0.75)})`
}

// never-seen tokens: cache on (defaults) against cache: false, per tree
if (parts.includes('never-seen')) {
  const contenders: [string, VerifyFn][] = [
    ['cache on', await make(current, undefined)],
    ['cache: false', await make(current, false)],
  ]
  if (baseline) contenders.push(['baseline, cache on', await make(baseline, undefined)], ['baseline, cache: false', await make(baseline, false)])
  const pool = signTokens(f, (rounds * block + 3000) * contenders.length)
  let at = 0
  const take = (n: number): string[] => pool.slice(at, (at += n))
  // past the churn detector's first window: the cache is in its steady state for a stream of new tokens
  for (const [, verify] of contenders) await perOp(verify, take(3000))
  const times = contenders.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const k = (i + r) % contenders.length
      const tokens = take(block)
      flush()
      times[k]!.push(await perOp(contenders[k]![1], tokens))
    }
  }
  console.log(`${alg}, never-seen tokens, ${rounds} rounds of ${block}${flushBuffer ? ', caches flushed before each block' : ''}: ${contenders.map(([name], i) => `${name} ${median(times[i]!).toFixed(2)} µs`).join(', ')}`)
  console.log(`  cache on − cache: false, paired: ${paired(times[0]!, times[1]!)}`)
  if (baseline) {
    console.log(`  baseline: cache on − cache: false, paired: ${paired(times[2]!, times[3]!)}`)
    console.log(`  cache on − baseline cache on, paired: ${paired(times[0]!, times[2]!)}`)
  }
}

// never-seen tokens among hits of a full cache: this tree against the baseline
if (baseline && parts.includes('mixed')) {
  const contenders: [string, VerifyFn][] = [
    ['this tree', await make(current, { max: mixMax })],
    ['baseline', await make(baseline, { max: mixMax })],
  ]
  const hot = signTokens(f, mixMax)
  // each hot token verified three times: cached (on its second verification once the cache is full)
  for (const [, verify] of contenders) for (let i = 0; i < 3; i++) await perOp(verify, hot)
  const news = signTokens(f, fresh * rounds * contenders.length)
  let at = 0
  let h = 0
  const times = contenders.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const k = (i + r) % contenders.length
      const tokens: string[] = []
      for (let j = 0; j < Math.max(hits, fresh); j++) {
        if (j < hits) tokens.push(hot[h++ % hot.length] as string)
        if (j < fresh) tokens.push(news[at++] as string)
      }
      times[k]!.push(await perOp(contenders[k]![1], tokens))
    }
  }
  console.log(`${alg}, ${hits} hits and ${fresh} never-seen tokens per block, full cache of ${mixMax}: ${contenders.map(([name], i) => `${name} ${median(times[i]!).toFixed(2)} µs per request`).join(', ')}`)
  console.log(`  this tree − baseline, per block divided by its never-seen tokens (hits included), paired: ${paired(times[0]!, times[1]!, (hits + fresh) / fresh)}`)
}

// the cache's own path, on its own
if (parts.includes('isolated')) {
  interface Caches {
    TokenCache: new (max: number) => {
      get(token: string, hash?: number): unknown
      admit(token: string, entry: unknown, notAfterMs: number, maxAgeMs: number, hash?: number): unknown
    }
    RejectionCache: new () => { get(token: string, hash?: number): unknown }
    tokenHash?: (token: string) => number
  }
  const trees: [string, Caches][] = [['this tree', (await import('../src/core/engine/token-cache.js')) as unknown as Caches]]
  if (process.env.BASELINE) trees.push(['baseline', (await import(`${process.env.BASELINE}/src/core/engine/token-cache.ts`)) as Caches])
  const key = { retired: false }
  const notAfter = Date.now() + 3_600_000
  for (const alloc of (process.env.ALLOC ?? '0,4096').split(',').map(Number)) {
    let sink = 0
    const garbage = (): void => {
      if (alloc === 0) return
      const a = new Array<number>(alloc >> 3)
      for (let k = 0; k < a.length; k += 8) a[k] = k
      sink ^= a.length
    }
    const loops: [string, (token: string) => unknown][] = [['no cache', (t) => (garbage(), t.charCodeAt(t.length - 1))]]
    for (const [name, mod] of trees) {
      const cache = new mod.TokenCache(10_000)
      const rejections = new mod.RejectionCache()
      const hashOf = mod.tokenHash
      loops.push([
        name,
        (t) => {
          garbage()
          // as the verifier calls it: one hash where the tree takes one
          const hash = hashOf?.(t)
          return cache.get(t, hash) ?? rejections.get(t, hash) ?? cache.admit(t, { token: t, key, until: 0 }, notAfter, 600_000, hash)
        },
      ])
    }
    const n = 1000
    const warm = 20_000
    const tokens = signTokens(f, n * rounds * loops.length + warm * loops.length)
    let at = 0
    // past the churn detector's first window, and the compiler's tiers (with 5,000 the first rounds
    // of a short run still measured ~4× the steady state)
    for (const [, loop] of loops) for (let k = 0; k < warm; k++) loop(tokens[at++] as string)
    const times = loops.map(() => [] as number[])
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < loops.length; i++) {
        const k = (i + r) % loops.length
        const loop = loops[k]![1]
        flush()
        const start = process.hrtime.bigint()
        for (let j = 0; j < n; j++) loop(tokens[at++] as string)
        times[k]!.push(Number(process.hrtime.bigint() - start) / 1000 / n)
      }
    }
    // keeps the garbage observable, so that it is made
    if (sink === -1) console.log(sink)
    console.log(`the cache's own path, never-seen tokens, ${alloc} bytes allocated between them${flushBuffer ? ', caches flushed before each block' : ''}:`)
    for (let i = 1; i < loops.length; i++) console.log(`  ${loops[i]![0]} − no cache, paired: ${paired(times[i]!, times[0]!)}`)
  }
}

await jwks.close()
