/**
 * Instructions per never-seen token in a tight loop, counted by valgrind's callgrind on the main
 * thread only: the contenders of bench/lib/peers.ts and the floor, in one process on one key.
 * Each is warmed on its own tokens (`WARM` each: under callgrind V8's background compiler is slow, so
 * optimised code arrives late in iterations), then each window of the list verifies `N` never-seen
 * tokens of its own; the counters are zeroed before and dumped after each window. The main thread's
 * count is the total less what other threads ran (concurrent marking, compilation): those move a
 * window's total by 5–10 %, while the main thread's count of the floor repeats to 0.1–2 % (the
 * signature arithmetic is the same instructions in every window).
 *
 *   npm run bench:loop -- <alg> <ids, comma-separated, may repeat>
 *   e.g. N=3000 WARM=15000 npm run bench:loop -- HS256 floor,bg,bg-nocache,fastjwt,bg,bg-nocache,fastjwt,floor
 *
 * `floor` is `crypto.verify` (HMAC for HS256) on pre-decoded input; the other ids are those of
 * bench/lib/peers.ts. Needs valgrind; HS256 takes ~3 minutes for 11 windows, EdDSA ~8.
 */
import { execFileSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startCallgrind } from './lib/callgrind.js'
import { createFixture, floorVerifier, predecode, signTokens, startJwksServer, type BenchAlg } from './lib/fixtures.js'
import { CONTENDERS, type VerifyFn } from './lib/peers.js'

const [alg = 'HS256', list = 'floor,bg,bg-nocache,fastjwt'] = process.argv.slice(2) as [BenchAlg?, string?]
const ids = list.split(',')
const n = Number(process.env.N ?? 2000)
const warm = Number(process.env.WARM ?? 3000)

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
    env: { ...process.env, LOOP_CHILD: '1', NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const out = createInterface({ input: cg.child.stdout! })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => {
    const r = await out.next()
    if (r.done) throw new Error('the loop under callgrind exited early')
    return r.value as string
  }
  console.log(`${alg}: ${n} never-seen tokens per window after ${warm} per contender; instructions per token, main thread (other threads):`)
  let floor: number | undefined
  try {
    for (const id of ids) {
      await next()
      cg.zero()
      cg.child.stdin!.write('go\n')
      await next()
      const { events, path } = cg.dump()
      const total = events.Ir as number
      // what threads other than the main one ran: start_thread's inclusive count
      const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', path], { encoding: 'utf8', maxBuffer: 1 << 28 })
      const others = Number(/^\s*([\d,]+) \([^)]*\)\s+\S*pthread_create\.c:start_thread/m.exec(annotated)?.[1]?.replace(/,/g, '') ?? 0)
      const main = (total - others) / n
      if (id === 'floor') floor ??= main
      const over = floor !== undefined && id !== 'floor' ? ` (+${((main - floor) / 1000).toFixed(1)} k over the floor)` : ''
      console.log(`  ${id.padEnd(14)} ${(main / 1000).toFixed(1)} k${over}   (${(others / n / 1000).toFixed(1)} k)`)
    }
  } finally {
    cg.close()
  }
}
