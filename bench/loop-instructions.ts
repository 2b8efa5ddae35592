/**
 * Instructions per never-seen token in a tight loop, counted by valgrind's callgrind on the main
 * thread only: the contenders of bench/lib/peers.ts and the floor, in one process on one key.
 * Each is warmed on its own tokens (`WARM` each: under callgrind V8's background compiler is slow, so
 * optimised code arrives late in iterations), then each window of the list verifies `N` never-seen
 * tokens of its own; the counters are zeroed before and dumped after each window. The main thread's
 * count is the total less what other threads ran (concurrent marking, compilation): those move a
 * window's total by 5–10 %, while the main thread's count of the floor repeats to 0.1–2 % (the
 * signature arithmetic is the same instructions in every window). The collector's share of the main
 * thread (`Heap::CollectGarbage` and incremental marking steps) is printed apart: a major collection
 * landing in one window moved its main-thread count by 10–25 k per ES256 token, so contenders are
 * compared without it, and its column says what each allocates. The background compiler's work is
 * printed too: a window in which it still optimised the contender's code counted up to 15 k more
 * per ES256 token on the main thread (not yet optimised code), so repeat each contender and read the
 * medians printed at the end.
 *
 *   npm run bench:loop -- <alg> <ids, comma-separated, may repeat>
 *   e.g. N=3000 WARM=15000 npm run bench:loop -- HS256 floor,bg,bg-nocache,fastjwt,bg,bg-nocache,fastjwt,floor
 *
 * `floor` is `crypto.verify` (HMAC for HS256) on pre-decoded input; the other ids are those of
 * bench/lib/peers.ts. Needs valgrind; HS256 takes ~3 minutes for 11 windows, EdDSA ~8.
 * `KEEP=<dir>` keeps each window's dump there as `<window>-<id>.callgrind`, for callgrind_annotate.
 * `TOP=<n>` prints each window's `n` costliest functions (self instructions per token), optimised
 * JavaScript named: the child runs with `--perf-basic-prof`, and the addresses callgrind cannot name
 * are looked up in the `/tmp/perf-<pid>.map` that V8 writes.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startCallgrind } from './lib/callgrind.js'
import { createFixture, floorVerifier, predecode, signTokens, startJwksServer, type BenchAlg } from './lib/fixtures.js'
import { CONTENDERS, type VerifyFn } from './lib/peers.js'
import { median } from './lib/stats.js'

const [alg = 'HS256', list = 'floor,bg,bg-nocache,fastjwt'] = process.argv.slice(2) as [BenchAlg?, string?]
const ids = list.split(',')
const n = Number(process.env.N ?? 2000)
const warm = Number(process.env.WARM ?? 3000)
const top = Number(process.env.TOP ?? 0)

if (process.env.LOOP_CHILD === '1') await child()
else await parent()

/** Under callgrind: builds and warms every contender, then runs one window per line read on stdin. */
async function child(): Promise<void> {
  const f = createFixture(alg)
  const jwks = await startJwksServer([f])
  const windows = new Map<string, number>()
  for (const id of ids) windows.set(id, (windows.get(id) ?? 0) + 1)
  const built = new Map<string, { verify: VerifyFn; tokens: string[]; next: number }>()
  for (const [id, count] of windows) {
    const tokens = signTokens(f, warm + n * count)
    let verify: VerifyFn
    if (id === 'floor') {
      const check = floorVerifier(f)
      const decoded = new Map(tokens.map((t) => [t, predecode(t)]))
      verify = (t) => {
        if (!check(decoded.get(t)!)) throw new Error('the floor rejected a valid token')
      }
    } else {
      const contender = CONTENDERS.find((c) => c.id === id)
      if (!contender?.supports(alg)) throw new Error(`no contender "${id}" for ${alg}`)
      verify = await contender.create(f, jwks.jwksUri(alg))
    }
    built.set(id, { verify, tokens, next: warm })
  }
  for (const { verify, tokens } of built.values()) for (let i = 0; i < warm; i++) await verify(tokens[i]!)
  await jwks.close()
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  for (const id of ids) {
    const b = built.get(id)!
    process.stdout.write(`ready\n`)
    await lines.next()
    for (let i = b.next; i < b.next + n; i++) await b.verify(b.tokens[i]!)
    b.next += n
    process.stdout.write('done\n')
  }
}

async function parent(): Promise<void> {
  const cg = startCallgrind(fileURLToPath(import.meta.url), [alg, list], {
    env: { ...process.env, LOOP_CHILD: '1', NODE_ENV: 'production', ...(top > 0 ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof`.trim() } : {}) },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const out = createInterface({ input: cg.child.stdout! })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => {
    const r = await out.next()
    if (r.done) throw new Error('the loop under callgrind exited early')
    return r.value as string
  }
  console.log(`${alg}: ${n} never-seen tokens per window after ${warm} per contender; instructions per token on the main thread without the collector (in brackets: over the floor), the collector's main-thread work, other threads:`)
  let floor: number | undefined
  const windows: { id: string; mutator: number; gc: number }[] = []
  const k = (x: number): string => `${(x / 1000).toFixed(1)} k`
  try {
    const keep = process.env.KEEP
    if (keep) mkdirSync(keep, { recursive: true })
    for (const [window, id] of ids.entries()) {
      await next()
      cg.zero()
      cg.child.stdin!.write('go\n')
      await next()
      const { events, path } = cg.dump()
      if (keep) copyFileSync(path, `${keep}/${window + 1}-${id}.callgrind`)
      const total = events.Ir as number
      const counts = annotate(path, true)
      // inclusive counts of the functions matching `pattern`, summed
      const inclusive = (pattern: RegExp): number => {
        let sum = 0
        for (const [fn, cost] of counts) if (pattern.test(fn)) sum += cost
        return sum
      }
      // what threads other than the main one ran (start_thread), and how much of it was compiling
      const others = inclusive(/pthread_create\.c:start_thread/) / n
      const compiling = inclusive(/OptimizingCompileDispatcher::CompileTask::Run|MaglevConcurrentDispatcher::JobTask::Run/) / n
      const main = total / n - others
      // the collector's work on the main thread: its collections and its incremental marking steps (an
      // approximation: should one nest in the other, a window's count is taken twice, hence the medians)
      const gc = inclusive(/v8::internal::Heap::CollectGarbage\(|v8::internal::IncrementalMarking::Step\(/) / n
      const mutator = main - gc
      windows.push({ id, mutator, gc })
      if (id === 'floor') floor ??= mutator
      const over = floor !== undefined && id !== 'floor' ? ` (+${k(mutator - floor)})` : ''
      console.log(`  ${id.padEnd(14)} ${k(mutator).padStart(9)}${over.padEnd(11)}  GC ${k(gc).padStart(7)}   others ${k(others).padStart(7)}${compiling > 0 ? `, compiling ${k(compiling)}` : ''}`)
      if (top > 0) for (const [name, cost] of costliest(path, cg.child.pid!, main * n, top)) console.log(`      ${(cost / n).toFixed(0).padStart(7)}  ${name}`)
    }
    // each contender's median window over the floor's: the main thread without the collector, and with it
    const floors = windows.filter((w) => w.id === 'floor')
    if (floors.length > 0) {
      const base = median(floors.map((w) => w.mutator))
      const baseAll = median(floors.map((w) => w.mutator + w.gc))
      console.log(`medians of the windows over the floor's (${k(base)}; ${k(baseAll)} with the collector): without the collector, with it`)
      for (const id of new Set(ids)) {
        if (id === 'floor') continue
        const own = windows.filter((w) => w.id === id)
        const over = median(own.map((w) => w.mutator)) - base
        const overAll = median(own.map((w) => w.mutator + w.gc)) - baseAll
        console.log(`  ${id.padEnd(14)} +${k(over)}, +${k(overAll)}   (${own.length} windows)`)
      }
    }
  } finally {
    cg.close()
    // --perf-basic-prof also leaves V8 logs of the child's isolates in the working directory
    if (top > 0) for (const f of readdirSync('.')) if (f.startsWith('isolate-') && f.endsWith(`-${cg.child.pid}-v8.log`)) rmSync(f)
    if (top > 0) rmSync(`/tmp/perf-${cg.child.pid}.map`, { force: true })
  }
}

/**
 * A dump's `top` costliest functions by self instructions (all threads), optimised JavaScript named
 * from V8's perf map. Entries callgrind attributes most of the main thread's count to (the event
 * loop, JIT frames it cannot unwind) are left out: they are not one function's work.
 */
function costliest(dump: string, pid: number, mainTotal: number, top: number): [string, number][] {
  const map = `/tmp/perf-${pid}.map`
  const code: [number, number, string][] = []
  if (existsSync(map)) {
    for (const line of readFileSync(map, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line)
      if (m) code.push([parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[3]!])
    }
    code.sort((a, b) => a[0] - b[0])
  }
  const name = (address: number): string | undefined => {
    let lo = 0
    let hi = code.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (code[mid]![0] <= address) lo = mid + 1
      else hi = mid - 1
    }
    const c = code[hi]
    return c && address < c[0] + c[1] ? c[2] : undefined
  }
  const self = new Map<string, number>()
  for (const [fn, cost] of annotate(dump, false)) {
    // roots whose "self" cost callgrind fills with what it cannot attribute, and other threads' roots
    if (cost * 2 > mainTotal || fn === 'PROGRAM TOTALS' || /start_thread|clone\.S:clone/.test(fn)) continue
    const address = /^\?\?\?:0x([0-9a-f]+)$/.exec(fn)
    const named = address ? (name(parseInt(address[1]!, 16)) ?? 'unnamed code') : fn
    self.set(named, (self.get(named) ?? 0) + cost)
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
}

/** Each function's count in a dump, per callgrind_annotate (`inclusive` or self), its object file left out. */
function annotate(dump: string, inclusive: boolean): [string, number][] {
  const text = execFileSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 1 << 28 })
  return [...text.matchAll(/^\s*([\d,]+) \([^)]*\)\s+(\S.*?)(?: \[[^\]]*\])?$/gm)].map((m) => [m[2]!, Number(m[1]!.replace(/,/g, ''))])
}
