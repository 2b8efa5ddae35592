/**
 * HTTP benchmark: autocannon on loopback against Express and Fastify servers, each server in its own
 * process (bench/http-server.ts), RS256 tokens. Per round and framework: no auth, bearer-guard and
 * the peer middleware (Fastify: a hand-written jose hook and @fastify/jwt), with one token repeated, a
 * pool of 1,000 tokens cycled (1,000 active users: each token is seen many times), and tokens never
 * seen before (one per request) for bearer-guard, the floor and, on Fastify, @fastify/jwt.
 * Ratios are req/s over the same round's no-auth req/s; the table shows medians over rounds.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { createFixture, signToken, signTokens, startJwksServer, type AlgFixture } from './lib/fixtures.js'
import { cpuOf } from './lib/proc.js'
import { median } from './lib/stats.js'

export type Framework = 'express' | 'fastify'
/** bench/http-server.ts's servers, in the order the report lists them. */
export const MODES = ['none', 'noop', 'floor', 'min', 'bg', 'nocache', 'peer', 'fjwt'] as const
export type Mode = (typeof MODES)[number]
export type Tokens = 'same' | 'pool' | 'fresh'

export interface HttpOptions {
  rounds: number
  /** Seconds per run. */
  duration: number
  connections: number
  /**
   * Never-seen tokens signed per framework and round: more than a run can send, so that no token
   * repeats (a run that sends more reports the repeated share).
   */
  freshTokens: Record<Framework, number>
  frameworks?: readonly Framework[]
  /** The token loads to run (default: all three). */
  kinds?: readonly Tokens[]
  log?: (line: string) => void
}

export interface HttpCell {
  framework: Framework
  mode: Mode
  tokens: Tokens
  /** Median req/s. */
  rps: number
  /** Median of per-round ratios to no auth. */
  ratio: number
  /** The ratio of every round. */
  ratios: number[]
  /** Median p50 latency (ms). */
  p50: number
  /** Median server CPU per request (µs). */
  cpuUs: number
  /** Largest share of requests, over the rounds, that reused a token of the run (never-seen runs). */
  repeated: number
  /** Median of per-round no-auth CPU / this CPU: the req/s ratio if the server alone were the limit. */
  cpuRatio: number
  /** That CPU ratio of every round. */
  cpuRatios: number[]
  rounds: number
}

export interface HttpResult {
  cells: HttpCell[]
  notes: Record<string, string>
  connections: number
  duration: number
  freshTokens: Record<Framework, number>
  /** Servers ran on CPU 0 and autocannon on CPU 1. */
  pinned?: boolean
  seconds: number
}

const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url))

export interface Server {
  port: number
  note: string
  child: ChildProcess
}

/**
 * CPU pinning (Linux with taskset and 2+ CPUs): servers on CPU 0, this process (autocannon) on CPU 1,
 * so that client and server do not take turns on one CPU and migrate between runs: ratios scatter
 * less. `BENCH_PIN=0` turns it off.
 */
const pinning = ((): boolean => {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux' || os.cpus().length < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

export function pinSelf(cpus: string): void {
  if (pinning) execFileSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' })
}

/**
 * Starts a server of bench/http-server.ts (pinned to CPU 0 when pinning): `file` another checkout's
 * copy of it, `nodeArgs` more node options, `ipc` an IPC channel to it (bench/gc.ts's probe).
 */
export async function startServer(
  framework: Framework,
  mode: Mode,
  jwksUri: string,
  opts: { file?: string; nodeArgs?: readonly string[]; ipc?: boolean } = {},
): Promise<Server> {
  const args = ['--import', 'tsx', ...(opts.nodeArgs ?? []), opts.file ?? SERVER, framework, mode]
  const child = spawn(pinning ? 'taskset' : process.execPath, pinning ? ['-c', '0', process.execPath, ...args] : args, {
    env: { ...process.env, JWKS_URI: jwksUri, NODE_ENV: 'production' },
    stdio: opts.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`${framework}/${mode} server exited with ${code}`)))
  })
  const { port, note } = JSON.parse(line) as { port: number; note: string }
  return { port, note, child }
}

interface Load {
  /** Requests beyond the number of distinct tokens given, as a share of all. */
  repeated: number
  rps: number
  p50: number
  total: number
  /** Server CPU (user + system) per request, µs; NaN where /proc is missing. */
  cpuUs: number
}

/**
 * One autocannon run. Requests are pre-built per connection (no per-request `setupRequest`, which
 * made the client, not the server, the bottleneck): one token → every connection sends it; several
 * → each connection cycles its own disjoint slice, so with `amount` equal to the number of tokens
 * every token is sent exactly once.
 */
async function load(server: Server, tokens: readonly string[], opts: { duration?: number; amount?: number; connections: number }): Promise<Load> {
  const port = server.port
  const cpu0 = cpuOf(server.child.pid)
  const per = Math.max(1, Math.floor(tokens.length / opts.connections))
  const request = (token: string) => ({ method: 'GET' as const, path: '/orders', headers: { authorization: `Bearer ${token}` } })
  let client = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration }),
    requests: [request(tokens[0] as string)],
    setupClient: (c: { setRequests(r: unknown[]): void }) => {
      if (tokens.length === 1) return
      const k = client++
      c.setRequests(tokens.slice(k * per, (k + 1) * per).map(request))
    },
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  const cpuUs = (cpuOf(server.child.pid) - cpu0) / result.requests.total
  const repeated = tokens.length > 1 ? Math.max(0, result.requests.total - per * opts.connections) / result.requests.total : 0
  return { rps: result.requests.total / result.duration, p50: result.latency.p50, total: result.requests.total, cpuUs, repeated }
}

export async function runHttpBench(options: HttpOptions): Promise<HttpResult> {
  const log = options.log ?? (() => {})
  const t0 = performance.now()
  const frameworks = options.frameworks ?? (['express', 'fastify'] as const)
  const fixture: AlgFixture = createFixture('RS256')
  const jwks = await startJwksServer([fixture])
  const same = [signToken(fixture)]
  const pool = signTokens(fixture, 1000)
  // every never-seen token is signed now: signing during the runs would load the client
  const freshSets = new Map<string, string[]>()
  for (const fw of frameworks) {
    for (let r = 0; r < options.rounds; r++) freshSets.set(`${fw}/${r}`, signTokens(fixture, options.freshTokens[fw]))
  }
  const WARM_FRESH = 1200
  const result: HttpResult = {
    cells: [],
    notes: {},
    connections: options.connections,
    duration: options.duration,
    freshTokens: options.freshTokens,
    seconds: 0,
  }
  const servers = new Map<string, Server>()
  const allCpus = `0-${os.cpus().length - 1}`
  pinSelf('1')
  try {
    const freshOnly = options.kinds && !options.kinds.some((k) => k !== 'fresh')
    // Fastify has a second peer: @fastify/jwt, the plugin its documentation points to (fast-jwt underneath)
    const peers = (fw: Framework): Mode[] => (fw === 'fastify' ? ['fjwt'] : [])
    // and, under never-seen tokens, the least a JWT check is (`min`): how near the floor any check gets
    const least = (fw: Framework): Mode[] => (fw === 'fastify' ? ['min'] : [])
    for (const fw of frameworks) {
      const modes: Mode[] = freshOnly ? ['none', 'floor', ...least(fw), 'bg', 'nocache', ...peers(fw)] : ['none', 'noop', 'floor', ...least(fw), 'bg', 'nocache', 'peer', ...peers(fw)]
      for (const mode of modes) {
        const server = await startServer(fw, mode, jwks.jwksUri('RS256'))
        servers.set(`${fw}/${mode}`, server)
        if (server.note) result.notes[`${fw}/${mode}`] = server.note
        // warm-up: JIT (cache hits and full verifications), JWKS, keep-alive sockets
        await load(server, pool, { duration: 0.5, connections: options.connections })
        await load(server, signTokens(fixture, WARM_FRESH), { amount: WARM_FRESH, connections: options.connections })
      }
    }
    const samples = new Map<string, { rps: number[]; ratio: number[]; p50: number[]; cpu: number[]; cpuRatio: number[]; repeated: number[] }>()
    const add = (key: string, l: Load, base: Load): void => {
      let s = samples.get(key)
      if (!s) samples.set(key, (s = { rps: [], ratio: [], p50: [], cpu: [], cpuRatio: [], repeated: [] }))
      s.repeated.push(l.repeated)
      s.rps.push(l.rps)
      s.ratio.push(l.rps / base.rps)
      s.p50.push(l.p50)
      s.cpu.push(l.cpuUs)
      s.cpuRatio.push(base.cpuUs / l.cpuUs)
    }
    for (let r = 0; r < options.rounds; r++) {
      for (const fw of frameworks) {
        const run = (mode: Mode, tokens: readonly string[], amount?: number) =>
          load(servers.get(`${fw}/${mode}`)!, tokens, { duration: options.duration, amount, connections: options.connections })
        const fresh = freshSets.get(`${fw}/${r}`) as string[]
        // each kind of token load has its own no-auth baseline: the client's work per request depends
        // on it (one pre-built request, or many), and the client shares the CPUs with the server
        const plan: [Tokens, readonly string[], Mode[], number?][] = [
          ['same', same, ['noop', 'bg', 'peer', ...peers(fw)]],
          ['pool', pool, ['noop', 'bg', 'peer', ...peers(fw)]],
          // the no-auth server reads the same never-seen tokens; it has no cache to remember them.
          // The floor (crypto.verify only) and `cache: false` beside bearer-guard, same tokens
          // (each server sees each token once: they are separate processes)
          // timed runs, not `amount`: autocannon's duration of a run that stops on a count is too coarse
          // for req/s. A run that outruns its tokens reports the share it reused (a reused token is a
          // cache hit for bearer-guard, a full check for the floor and `cache: false`)
          // and for Fastify @fastify/jwt (the fastest peer's distance from the same floor) and `min`
          ['fresh', fresh, ['floor', ...least(fw), 'bg', 'nocache', ...peers(fw)]],
        ]
        const line = [`round ${r + 1} ${fw}:`]
        for (const [kind, tokens, modes, amount] of plan) {
          if (options.kinds && !options.kinds.includes(kind)) continue
          // the order rotates each round, so no server always runs first (the machine's speed drifts)
          const all: Mode[] = ['none', ...modes]
          const order = all.map((_, i) => all[(i + r) % all.length] as Mode)
          const loads = new Map<Mode, Load>()
          for (const mode of order) loads.set(mode, await run(mode, tokens, amount))
          const none = loads.get('none') as Load
          add(`${fw}/none/${kind}`, none, none)
          line.push(`${kind}: none ${none.rps.toFixed(0)}/s`)
          for (const mode of modes) {
            const l = loads.get(mode) as Load
            add(`${fw}/${mode}/${kind}`, l, none)
            line.push(`${mode} ${(l.rps / none.rps).toFixed(2)} (cpu ${(none.cpuUs / l.cpuUs).toFixed(2)})`)
          }
        }
        log(line.join('  '))
      }
    }
    for (const [key, s] of samples) {
      const [framework, mode, tokens] = key.split('/') as [Framework, Mode, Tokens]
      result.cells.push({
        framework,
        mode,
        tokens,
        rps: median(s.rps),
        ratio: median(s.ratio),
        ratios: s.ratio,
        p50: median(s.p50),
        cpuUs: median(s.cpu),
        cpuRatio: median(s.cpuRatio),
        cpuRatios: s.cpuRatio,
        repeated: Math.max(...s.repeated),
        rounds: s.rps.length,
      })
    }
  } finally {
    for (const s of servers.values()) s.child.kill('SIGTERM')
    await jwks.close()
    pinSelf(allCpus)
  }
  result.pinned = pinning
  result.seconds = (performance.now() - t0) / 1000
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runHttpBench({
    rounds: Number(process.env.ROUNDS ?? 2),
    duration: Number(process.env.DURATION ?? 2),
    connections: 50,
    freshTokens: { express: 8000, fastify: 24000 },
    frameworks: process.env.FRAMEWORKS ? (process.env.FRAMEWORKS.split(',') as Framework[]) : undefined,
    kinds: process.env.KINDS ? (process.env.KINDS.split(',') as Tokens[]) : undefined,
    log: console.log,
  })
  for (const c of r.cells) {
    console.log(c.framework, c.mode, c.tokens, c.rps.toFixed(0), c.ratio.toFixed(2), `p50 ${c.p50}ms`, `cpu ${c.cpuUs.toFixed(1)}µs ${c.cpuRatio.toFixed(2)}`)
  }
  console.log(`http: ${r.seconds.toFixed(1)} s`)
}
