// Cache on vs cache: false on never-seen tokens, tight loop, interleaved rounds (issue 20, target 2).
// `ALG=RS256 node --import tsx bench/cache-admission.ts`; `HITS=200` verifies one token that many
// times before each measured slice (never-seen tokens among cached ones: the cache is not churning).
// `ALG=HS256` takes the shared secret. Env: N tokens per slice (1500), R rounds (9).
import { createVerifier } from '../src/index.js' // measures src/
import { createFixture, signTokens, AUDIENCE, ISSUER, startJwksServer } from './lib/fixtures.js'
import os from 'node:os'
const alg = (process.env.ALG ?? 'RS256') as 'RS256'
const f = createFixture(alg)
const jwks = await startJwksServer([f])
const N = Number(process.env.N ?? 1500), R = Number(process.env.R ?? 9), HITS = Number(process.env.HITS ?? 0)
const pool = signTokens(f, N * R * 2 + 4000)
const common = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] }
const opts = (alg as string) === 'HS256' ? { ...common, secret: new Uint8Array(f.secret as Buffer) } : { ...common, jwksUri: jwks.jwksUri(alg) }
const on = createVerifier(opts); await on.warmUp()
const off = createVerifier({ ...opts, cache: false }); await off.warmUp()
let at = 0
const take = (n: number) => pool.slice(at, (at += n))
const hot = take(1)[0] as string
for (const t of take(2000)) await on.verifyAccessToken(t)
for (const t of take(2000)) await off.verifyAccessToken(t)
const res = { on: [] as number[], off: [] as number[], ratio: [] as number[] }
for (let r = 0; r < R; r++) {
  const m: Record<string, number> = {}
  for (const [k, v] of (r % 2 ? [['off', off], ['on', on]] : [['on', on], ['off', off]]) as [string, typeof on][]) {
    for (let i = 0; i < HITS; i++) await v.verifyAccessToken(hot)
    const ts = take(N)
    const t0 = performance.now()
    for (const t of ts) await v.verifyAccessToken(t)
    m[k] = ((performance.now() - t0) * 1000) / N
  }
  res.on.push(m.on!); res.off.push(m.off!); res.ratio.push(m.on! / m.off!)
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!
console.log(`${alg} never-seen${HITS ? ` after ${HITS} hits` : ''}, tight loop: cache on ${med(res.on).toFixed(1)} µs, cache off ${med(res.off).toFixed(1)} µs, on/off ${med(res.ratio).toFixed(3)} (rounds ${Math.min(...res.ratio).toFixed(2)}–${Math.max(...res.ratio).toFixed(2)}); load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
await jwks.close()
