/**
 * Where a never-seen token's CPU time goes, native code included (issue 20): Linux `perf` samples
 * the whole process — OpenSSL, V8's runtime and builtins, the garbage collector, libc, the kernel's
 * network stack and the JIT-compiled JavaScript (`node --perf-basic-prof` names it) — where V8's own
 * profiler (bench/profile-http.ts) sees JavaScript frames and puts everything else under "(program)".
 *
 * Each part compares servers or processes given the same number of RS256 tokens, alternated over
 * rounds, pinned to CPU 0 (the load generator on CPU 1):
 * - `server`: bench/http-server.ts (Fastify, or Express with `FRAMEWORK=express`) under autocannon,
 *   never-seen tokens: the floor (bench/lib/floor.ts: only `crypto.verify`), bearer-guard (default
 *   options) and `cache: false`;
 * - `loop`: the same three in a tight loop in one process each (no HTTP), for comparison;
 * - `pool` and `same` (not in `both`): the server under a pool of 1,000 tokens cycled, or one token
 *   repeated (cache hits), against no auth and an empty hook instead of the floor.
 * Samples are put into buckets (by shared object and symbol) and printed as µs per request, with
 * the process's CPU time per request from /proc beside them.
 *
 * `node --import tsx bench/profile-native.ts [server|loop|both|pool|same]`; environment `N` (tokens
 * per run, default 10000), `R` (rounds, default 5), `N_LOOP` (tokens per run of the loop, default
 * 3 × N: a loop's token costs a third of a server's request, and each run should hold as many
 * samples), `F` (samples per second, default 4000), `FRAMEWORK`, `TOP` (symbols listed, default 25),
 * `BASELINE` (another checkout, e.g. a `git worktree`: its bearer-guard server runs in the server
 * part in place of `cache: false`, for an A/B of two versions), `MODES` (the servers compared, the
 * first the base: e.g. `floor,bg,fjwt` for @fastify/jwt beside bearer-guard). Needs `perf` (Debian: linux-perf)
 * with `kernel.perf_event_paranoid` ≤ 1 or root. Timer-based samples (`cpu-clock`): a VM without
 * hardware counters can run it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pinSelf, startServer, type Framework, type Mode as ServerMode, type Server } from './http.js'
import { AUDIENCE, createFixture, ISSUER, signTokens, startJwksServer } from './lib/fixtures.js'
import { floorKey, floorVerify } from './lib/floor.js'
import { cpuOf } from './lib/proc.js'
import { sendEach } from './lib/send.js'
import { median } from './lib/stats.js'
import { loadBearerGuard } from './lib/target.js'

/** bench/http-server.ts's servers, and `base`: its bg server from the BASELINE checkout. */
type Mode = ServerMode | 'base'
/** Parts `server` and `loop` by default: never-seen tokens, against the floor. */
const FRESH_MODES: readonly Mode[] = ['floor', 'bg', 'nocache']
/** Parts `pool` and `same`: cache hits, against no auth and an empty hook. */
const POOL_MODES: readonly Mode[] = ['none', 'noop', 'bg']
const LABEL: Record<Mode, string> = { none: 'no auth', noop: 'an empty hook', floor: 'floor', bg: 'bearer-guard', nocache: '`cache: false`', base: 'bearer-guard, BASELINE', peer: 'the peer (jose hook; Express: express-oauth2-jwt-bearer)', fjwt: '@fastify/jwt', min: 'the least a JWT check is' }
/**
 * `MODES=floor,bg,fjwt`: the servers of the server, pool and same parts, the first one the base of the
 * comparison (`fjwt`: @fastify/jwt, Fastify only; `base`: the BASELINE checkout's bearer-guard).
 */
const serverModes = process.env.MODES?.split(',').map((m) => {
  // own keys only: `toString` is in every object literal
  if (!Object.hasOwn(LABEL, m)) {
    console.error(`MODES: unknown server ${JSON.stringify(m)} (${Object.keys(LABEL).join(', ')})`)
    process.exit(2)
  }
  return m as Mode
})
if (serverModes && (serverModes.length < 2 || new Set(serverModes).size !== serverModes.length || (serverModes.includes('base') && !process.env.BASELINE))) {
  console.error('MODES: two servers or more, each once (`base` needs BASELINE=)')
  process.exit(2)
}
/** `BASELINE=<checkout>`: the server part runs that checkout's bearer-guard server beside this one's, in place of `cache: false`. */
const baseline = process.env.BASELINE
/**
 * JIT symbols for perf (/tmp/perf-<pid>.map). The flag also turns on V8's isolate log: into one file in
 * the run's temporary directory (`/dev/null` would make V8 write it to stdout).
 */
const perfNodeArgs = (dir: string): string[] => ['--perf-basic-prof', `--logfile=${join(dir, 'v8.log')}`, '--no-logfile-per-isolate']

/** Child mode: the tight loop, driven over IPC by the parent (`loop` part). */
if (process.argv[2] === '--loop-child') await loopChild(process.argv[3] as Mode)
else await main()

async function loopChild(mode: Mode): Promise<void> {
  const send = (m: unknown) => (process.send as (m: unknown) => void)(m)
  const jwksUri = process.env.JWKS_URI as string
  const { createVerifier } = await loadBearerGuard()
  const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri, algorithms: ['RS256'], ...(mode === 'nocache' ? { cache: false } : {}) })
  await v.warmUp()
  const key = await floorKey(jwksUri)
  const run = async (tokens: readonly string[]): Promise<void> => {
    for (const t of tokens) {
      if (mode === 'floor') {
        if (!floorVerify(key, t)) throw new Error('floor: bad signature')
      } else await v.verifyAccessToken(t)
    }
  }
  // `{ tokens }` stores the next run's tokens (outside the sampled window: the IPC message is megabytes
  // of JSON); `{ go: true }` verifies them
  let next: string[] = []
  process.on('message', (msg: { tokens?: string[]; go?: boolean }) => {
    if (msg.tokens) {
      next = msg.tokens
      send({ stored: true })
      return
    }
    void run(next).then(() => send({ done: true }), (e: unknown) => send({ error: String(e) }))
  })
  send({ ready: true })
}

interface Sampled {
  /** µs per request, by bucket. */
  buckets: Map<string, number>
  /** µs per request, by symbol. */
  symbols: Map<string, number>
  /** Process CPU (user + system) per request from /proc, µs. */
  cpu: number
}

/** The bucket of one sampled symbol (shared object and name as `perf report` prints them). */
function bucketOf(dso: string, sym: string): string {
  if (dso.startsWith('[kernel')) return 'kernel (network stack, scheduling, page faults)'
  if (/^libc\.|\/libc\./.test(dso)) return 'libc (malloc, free, syscalls)'
  // irregexp's compiled code (perf names it `RegExp:<source>`; fast-jwt checks base64url with one)
  if (sym.includes('RegExp:')) return 'V8: regular expressions (compiled)'
  if (sym.includes('JS:')) {
    if (/node_modules\/(fast-jwt|@fastify\/jwt|jose)\//.test(sym)) return 'JavaScript: the peer (@fastify/jwt, fast-jwt, jose)'
    if (/\/src\/|bearer-guard\/dist\//.test(sym)) return 'JavaScript: bearer-guard'
    if (/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify|fast-|express|router|body-parser|finalhandler|send)/.test(sym)) return 'JavaScript: the framework'
    if (/ node:/.test(sym)) return 'JavaScript: Node (http, streams, events)'
    return 'JavaScript: other'
  }
  if (/\b(__bn|bn_|BN_)/.test(sym)) return 'OpenSSL: RSA arithmetic'
  if (/(sha256|sha512|OPENSSL_|EVP_|ERR_|CRYPTO_|ossl_|OBJ_|do_name|lookup_translation|evp_|pthread_rwlock|RSA_|rsa_|ASN1|asn1)/.test(sym)) return 'OpenSSL: hashing, lookups, glue'
  if (/(Scaveng|Heap::|MarkCompact|Sweeper|Evacuat|Marking|MemoryAllocator|MemoryChunk|PagedSpace|NewSpace|SemiSpace|RecordWrite|Remembered|SlotSet|GCTracer|ArrayBufferSweeper|Minor)/.test(sym)) return 'V8: garbage collection, write barrier'
  if (sym.includes('Builtins_')) return 'V8: builtins (ICs, calls, await)'
  if (/JsonParser|Builtin_JsonParse|Strtod|StringToDouble/.test(sym)) return 'V8: JSON.parse'
  if (/Transition|PreventExtensions|ObjectFreeze|GetDerivedMap|Map::/.test(sym)) return 'V8: hidden classes (freeze, new shapes)'
  if (sym.includes('v8::')) return 'V8: runtime (strings, objects, other)'
  if (/node::|llhttp|uv_|uv__/.test(sym)) return 'Node C++, llhttp, libuv'
  return `other (${dso})`
}

/** Runs `perf report` on a recording and sums its samples per bucket and symbol, µs per request. */
function report(file: string, hz: number, requests: number): Omit<Sampled, 'cpu'> {
  const out = execFileSync('perf', ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '-F', 'sample,dso,sym', '--stdio'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const buckets = new Map<string, number>()
  const symbols = new Map<string, number>()
  const us = 1e6 / hz / requests
  for (const line of out.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^\s*(\d+)\s+(\[JIT\] tid \d+|\S+)\s+(.*)$/.exec(line)
    if (!m) continue
    const n = Number(m[1]) * us
    const dso = m[2] as string
    const sym = (m[3] as string).trim()
    const bucket = bucketOf(dso, sym)
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + n)
    const name = sym.replace(/^\[[.k]\] /, '').replace(/file:\/\/\/\S*?\/(src|node_modules)\//, '$1/')
    symbols.set(name, (symbols.get(name) ?? 0) + n)
  }
  return { buckets, symbols }
}

/** Records `pid` with perf while `work` runs; the result per request. */
async function sample(pid: number, hz: number, dir: string, name: string, requests: number, work: () => Promise<void>): Promise<Sampled> {
  const file = join(dir, `${name}.data`)
  const rec = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(hz), '-p', String(pid), '-o', file], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 300)) // perf attaches
  const c0 = cpuOf(pid)
  await work()
  const cpu = (cpuOf(pid) - c0) / requests
  rec.kill('SIGINT')
  await new Promise((r) => rec.once('exit', r))
  return { ...report(file, hz, requests), cpu }
}

function perfUsable(): string | undefined {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' })
  } catch {
    return 'perf is not installed (Debian: apt-get install linux-perf)'
  }
  const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))
  if (paranoid > 1 && process.getuid?.() !== 0) return `kernel.perf_event_paranoid is ${paranoid}: run as root or set it to 1`
  return undefined
}

/** Per key, the median over runs (a run without the key counts 0): this machine's speed drifts between runs. */
function medians(a: Map<string, number>[]): Map<string, number> {
  const keys = new Set(a.flatMap((m) => [...m.keys()]))
  return new Map([...keys].map((k) => [k, median(a.map((m) => m.get(k) ?? 0))]))
}

/** `x` with its sign, `+` included. */
function signed(x: number, digits: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`
}

/** Prints one part's table: every mode of `runs`, and bearer-guard (or the second mode) against the first. */
function print(title: string, runs: Map<Mode, Sampled[]>, top: number): void {
  const modes = [...runs.keys()]
  const base = modes[0] as Mode
  const med = new Map([...runs].map(([mode, s]) => [mode, { buckets: medians(s.map((x) => x.buckets)), symbols: medians(s.map((x) => x.symbols)), cpu: median(s.map((x) => x.cpu)) }]))
  const baseMed = med.get(base)!
  // the server compared with the base, bucket by bucket: bearer-guard, or the second one listed
  const cmp = (base !== 'bg' && runs.has('bg') ? 'bg' : modes[1]) as Mode
  const cmpMed = med.get(cmp)!
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`\n### ${title}\n`)
  console.log(`| bucket, µs per request (median of ${runs.get(base)!.length} runs) | ${modes.map((m) => LABEL[m]).join(' | ')} | ${LABEL[cmp]} − ${LABEL[base]} |`)
  console.log(`| --- | ${modes.map(() => '---:').join(' | ')} | ---: |`)
  const keys = [...new Set([...med.values()].flatMap((m) => [...m.buckets.keys()]))].sort((a, b) => (cmpMed.buckets.get(b) ?? 0) - (baseMed.buckets.get(b) ?? 0) - ((cmpMed.buckets.get(a) ?? 0) - (baseMed.buckets.get(a) ?? 0)))
  for (const k of keys) {
    const d = (cmpMed.buckets.get(k) ?? 0) - (baseMed.buckets.get(k) ?? 0)
    if (Math.abs(d) < 0.05 && modes.every((m) => (med.get(m)!.buckets.get(k) ?? 0) < 0.5)) continue
    console.log(`| ${k} | ${modes.map((m) => (med.get(m)!.buckets.get(k) ?? 0).toFixed(2)).join(' | ')} | ${signed(d, 2)} |`)
  }
  console.log(`| sum of the medians | ${modes.map((m) => total(med.get(m)!.buckets).toFixed(1)).join(' | ')} | ${signed(total(cmpMed.buckets) - total(baseMed.buckets), 1)} |`)
  console.log(`| **CPU time from /proc** (median) | ${modes.map((m) => med.get(m)!.cpu.toFixed(1)).join(' | ')} | ${signed(cmpMed.cpu - baseMed.cpu, 1)} |`)
  console.log(`| CPU time per run | ${modes.map((m) => runs.get(m)!.map((x) => x.cpu.toFixed(0)).join(', ')).join(' | ')} | |`)
  for (const m of modes.slice(1)) {
    // each round runs every server once, back to back: a ratio inside a round cancels a drift of the machine's speed
    const rounds = runs.get(m)!.map((x, r) => runs.get(base)![r]!.cpu / x.cpu).sort((a, b) => a - b)
    console.log(
      `\n${LABEL[base]}'s CPU time per request over ${LABEL[m]}'s: **${(baseMed.cpu / med.get(m)!.cpu).toFixed(2)}** of the medians; ` +
        `**${median(rounds).toFixed(2)}** the median of the rounds' ratios (${rounds[0]!.toFixed(2)}–${rounds[rounds.length - 1]!.toFixed(2)})`,
    )
  }
  console.log(`\nSymbols that grew most, ${LABEL[cmp]} − ${LABEL[base]} (µs per request):\n`)
  const syms = [...new Set([...baseMed.symbols.keys(), ...cmpMed.symbols.keys()])]
    .map((k) => [k, (cmpMed.symbols.get(k) ?? 0) - (baseMed.symbols.get(k) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
  for (const [k, d] of syms) console.log(`  ${d.toFixed(2).padStart(6)}  ${(baseMed.symbols.get(k) ?? 0).toFixed(2).padStart(6)} → ${(cmpMed.symbols.get(k) ?? 0).toFixed(2).padEnd(6)} ${k.slice(0, 110)}`)
}

async function main(): Promise<void> {
  const unusable = perfUsable()
  if (unusable) {
    console.error(`bench/profile-native.ts: ${unusable}`)
    process.exit(2)
  }
  const part = process.argv[2] ?? 'both'
  if (!['server', 'loop', 'both', 'pool', 'same'].includes(part)) {
    console.error(`bench/profile-native.ts: unknown part ${part} (server, loop, both, pool or same)`)
    process.exit(2)
  }
  const N = Number(process.env.N ?? 10000)
  const R = Number(process.env.R ?? 5)
  const NL = Number(process.env.N_LOOP ?? 3 * N)
  const hz = Number(process.env.F ?? 4000)
  const top = Number(process.env.TOP ?? 25)
  const framework = (process.env.FRAMEWORK ?? 'fastify') as Framework
  const dir = mkdtempSync(join(tmpdir(), 'bg-perf-'))
  const fixture = createFixture('RS256')
  const jwks = await startJwksServer([fixture])
  const jwksUri = jwks.jwksUri('RS256')
  const children: ChildProcess[] = []
  pinSelf('1')
  try {
    if (part === 'server' || part === 'both' || part === 'pool' || part === 'same') {
      const pool = part === 'pool' ? signTokens(fixture, 1000) : part === 'same' ? signTokens(fixture, 1) : undefined
      const modes: readonly Mode[] = serverModes ?? (pool ? POOL_MODES : baseline ? ['floor', 'bg', 'base'] : FRESH_MODES)
      // a pool of 1,000 tokens cycled (each connection its slice of 20, as bench/http.ts), or one
      // token repeated: cache hits
      const tokensOf = (n: number): string[] =>
        pool ? Array.from({ length: n }, (_, i) => pool[((Math.floor(i / (n / 50)) * 20 + (i % 20)) % pool.length)] as string) : signTokens(fixture, n)
      const servers = new Map<Mode, Server>()
      for (const mode of modes) {
        const s =
          mode === 'base'
            ? await startServer(framework, 'bg', jwksUri, { nodeArgs: perfNodeArgs(dir), file: join(baseline as string, 'bench/http-server.ts') })
            : await startServer(framework, mode, jwksUri, { nodeArgs: perfNodeArgs(dir) })
        children.push(s.child)
        servers.set(mode, s)
        await sendEach(s.port, signTokens(fixture, 8000), 50) // JIT, JWKS, sockets; fills the cache's seen filter
        if (pool) for (let k = 0; k < 3; k++) await sendEach(s.port, tokensOf(1000), 50) // seen, then cached
      }
      const runs = new Map<Mode, Sampled[]>(modes.map((m) => [m, []]))
      for (let r = 0; r < R; r++) {
        for (let i = 0; i < modes.length; i++) {
          const mode = modes[(i + r) % modes.length] as Mode
          const s = servers.get(mode)!
          const tokens = tokensOf(N)
          runs.get(mode)!.push(await sample(s.child.pid!, hz, dir, `server-${mode}-${r}`, N, async () => void (await sendEach(s.port, tokens, 50))))
        }
      }
      print(`${framework} server, ${part === 'pool' ? 'a pool of 1,000 RS256 tokens cycled' : part === 'same' ? 'one RS256 token repeated' : 'never-seen RS256 tokens'} (${N} per run, ${R} rounds, ${hz} samples/s)`, runs, top)
    }
    if (part === 'loop' || part === 'both') {
      const runs = new Map<Mode, Sampled[]>(FRESH_MODES.map((m) => [m, []]))
      const self = fileURLToPath(import.meta.url)
      const procs = new Map<Mode, ChildProcess>()
      for (const mode of FRESH_MODES) {
        const child = spawn('taskset', ['-c', '0', process.execPath, ...perfNodeArgs(dir), '--import', 'tsx', self, '--loop-child', mode], {
          env: { ...process.env, JWKS_URI: jwksUri },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        children.push(child)
        procs.set(mode, child)
        await next(child)
        child.send({ tokens: signTokens(fixture, 8000) })
        await next(child)
        child.send({ go: true })
        await next(child)
      }
      for (let r = 0; r < R; r++) {
        for (let i = 0; i < FRESH_MODES.length; i++) {
          const mode = FRESH_MODES[(i + r) % FRESH_MODES.length] as Mode
          const child = procs.get(mode)!
          child.send({ tokens: signTokens(fixture, NL) })
          await next(child)
          runs.get(mode)!.push(
            await sample(child.pid!, hz, dir, `loop-${mode}-${r}`, NL, async () => {
              child.send({ go: true })
              await next(child)
            }),
          )
        }
      }
      print(`tight loop, never-seen RS256 tokens (${NL} per run, ${R} rounds, ${hz} samples/s)`, runs, top)
    }
  } finally {
    for (const c of children) {
      rmSync(`/tmp/perf-${c.pid}.map`, { force: true })
      c.kill('SIGTERM')
    }
    await jwks.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The loop child's next message; an error message rejects. */
function next(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { error?: string }): void => {
      child.off('exit', onExit)
      if (m.error) reject(new Error(m.error))
      else resolve()
    }
    const onExit = (code: number | null): void => {
      child.off('message', onMessage)
      reject(new Error(`loop child exited with ${code}`))
    }
    child.once('message', onMessage)
    child.once('exit', onExit)
  })
}
