/**
 * Instructions per never-seen request inside an HTTP server, counted by valgrind's callgrind: a
 * count that does not move with the machine's speed (this shared 2-CPU VM changes speed by 2× from
 * one second to the next, which makes req/s A/B runs of a few percent unreadable). Each server of
 * bench/http-server.ts runs under callgrind; autocannon sends it `WARM` never-seen RS256 tokens
 * (JIT, caches), the counters are zeroed, then `N` more are sent and the counters dumped. The count
 * covers every thread of the server (GC helpers included) and all of its code: node's HTTP stack,
 * the framework, bearer-guard, the RSA verification.
 *
 *   node --import tsx bench/instructions.ts [fastify|express] [modes of bench/http-server.ts, comma-separated; default floor,bg]
 *
 * Each row is compared with the first (the floor for never-seen tokens, no auth with `SAME=1`).
 *
 * Environment: `N` (default 1500), `WARM` (default 3000), `SAME=1` sends one token again and again
 * (the cache-hit path, against `none` and `noop` rather than `floor`), `POOL=1` cycles a pool of 1,000
 * tokens (1,000 active users: cache hits on many entries), `CACHE=1` adds callgrind's cache
 * simulation (L1 and last-level misses; about twice as slow), `BASELINE=<path of another checkout>`
 * adds that tree's `bg` server (an A/B of two versions in one run). Needs `valgrind` (Debian's
 * package); 1–3 minutes per server.
 */
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startCallgrind } from './lib/callgrind.js'
import { createFixture, signTokens, startJwksServer } from './lib/fixtures.js'
import { sendEach } from './lib/send.js'

const [framework = 'fastify', modeList = 'floor,bg'] = process.argv.slice(2)
const n = Number(process.env.N ?? 1500)
const warm = Number(process.env.WARM ?? 3000)
const cacheSim = process.env.CACHE === '1'
const same = process.env.SAME === '1'
const pool = process.env.POOL === '1'
const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url))

const servers: { label: string; file: string; mode: string }[] = modeList.split(',').map((mode) => ({ label: mode, file: SERVER, mode }))
if (process.env.BASELINE) servers.push({ label: 'bg (baseline)', file: join(process.env.BASELINE, 'bench/http-server.ts'), mode: 'bg' })

const fixture = createFixture('RS256')
const jwks = await startJwksServer([fixture])

/** `count` tokens: new ones, with `SAME=1` one token `count` times, with `POOL=1` a pool of 1,000 cycled. */
function tokens(count: number): string[] {
  if (pool) {
    const tokens = (poolTokens ??= signTokens(fixture, 1000))
    return Array.from({ length: count }, (_, i) => tokens[i % tokens.length] as string)
  }
  if (!same) return signTokens(fixture, count)
  const token = (sameToken ??= signTokens(fixture, 1)[0] as string)
  return Array.from({ length: count }, () => token)
}
let sameToken: string | undefined
let poolTokens: string[] | undefined

/** Per request: each event callgrind counted over the measured requests. */
async function measure(file: string, mode: string): Promise<Record<string, number>> {
  const cg = startCallgrind(file, [framework, mode], {
    env: { ...process.env, JWKS_URI: jwks.jwksUri('RS256'), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'ignore'],
    cacheSim,
  })
  const child = cg.child
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
    })
    const { port } = JSON.parse(line) as { port: number }
    await sendEach(port, tokens(warm), 20, 300)
    cg.zero()
    const { total } = await sendEach(port, tokens(n), 20, 300)
    const { events } = cg.dump()
    return Object.fromEntries(Object.entries(events).map(([name, count]) => [name, count / total] as const))
  } finally {
    cg.close()
  }
}

console.log(`${framework}: ${n} ${pool ? 'requests with a pool of 1,000 RS256 tokens' : same ? 'requests with one RS256 token' : 'never-seen RS256 requests'} per server after ${warm} to warm up; per request:`)
const rows: { label: string; counts: Record<string, number> }[] = []
for (const s of servers) {
  const counts = await measure(s.file, s.mode)
  rows.push({ label: s.label, counts })
  // never-seen tokens are compared with the floor (crypto.verify alone), one token with no auth
  const baseLabel = rows[0]?.label ?? ''
  const floor = rows[0]?.counts.Ir
  const over = floor !== undefined && s.label !== baseLabel ? ` (${((counts.Ir as number) - floor) / 1000 >= 0 ? '+' : ''}${(((counts.Ir as number) - floor) / 1000).toFixed(1)} k over ${baseLabel})` : ''
  const misses = cacheSim ? `, L1 instruction misses ${counts.I1mr?.toFixed(0)}, L1 data misses ${((counts.D1mr ?? 0) + (counts.D1mw ?? 0)).toFixed(0)}, last-level misses ${((counts.ILmr ?? 0) + (counts.DLmr ?? 0) + (counts.DLmw ?? 0)).toFixed(0)}` : ''
  console.log(`  ${s.label.padEnd(14)} ${((counts.Ir as number) / 1000).toFixed(1)} k instructions${over}${misses}`)
}
await jwks.close()
