/**
 * A flood of one bad token (issue 20, target 4): the same RS256 token with a broken signature,
 * verified again and again, by a verifier with default options (the negative cache) and with
 * `cache: false` (a signature check per request), next to the cheapest refusal (a token that is not
 * a compact JWS: no signature checked, the same error made and rejected) and a cache hit of a good
 * token. Interleaved rounds, medians; each call awaited and its rejection caught.
 *
 * `node --import tsx bench/flood.ts`
 */
import { createFixture, signToken, AUDIENCE, ISSUER, startJwksServer } from './lib/fixtures.js'
import { median } from './lib/stats.js'
import type { FloodRow } from './report.js'
import { loadBearerGuard } from './lib/target.js'


export async function runFloodBench(rounds = 7): Promise<FloodRow[]> {
  const { createVerifier } = await loadBearerGuard()
  const f = createFixture('RS256')
  const jwks = await startJwksServer([f])
  try {
    const good = signToken(f)
    const [h, p, s] = good.split('.') as [string, string, string]
    const bad = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`
    const options = { issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.jwksUri('RS256'), algorithms: ['RS256' as const] }
    const on = createVerifier(options)
    const off = createVerifier({ ...options, cache: false })
    await Promise.all([on.warmUp(), off.warmUp()])
    const ignore = (): void => {}
    async function per(v: typeof on, token: string, n: number): Promise<number> {
      const t0 = performance.now()
      for (let i = 0; i < n; i++) await v.verifyAccessToken(token).catch(ignore)
      return ((performance.now() - t0) * 1000) / n
    }
    const cases: [string, () => Promise<number>][] = [
      ['the same bad-signature token, default options (negative cache)', () => per(on, bad, 20000)],
      ['the same bad-signature token, `cache: false` (a signature check each time)', () => per(off, bad, 2000)],
      ['the cheapest refusal: a token that is not a JWS (`a.b`)', () => per(on, `${h}.${p}`, 20000)],
      ['a good token, cache hit', () => per(on, good, 20000)],
    ]
    for (const [, run] of cases) await run() // warm-up
    const samples = cases.map(() => [] as number[])
    for (let r = 0; r < rounds; r++) for (let i = 0; i < cases.length; i++) samples[i]!.push(await cases[(i + r) % cases.length]![1]())
    // rotated order: sample i of round r belongs to case (i + r) % n
    const byCase = cases.map(() => [] as number[])
    for (let r = 0; r < rounds; r++) for (let i = 0; i < cases.length; i++) byCase[(i + r) % cases.length]!.push(samples[i]![r]!)
    return cases.map(([name], i) => ({ name, medianUs: median(byCase[i]!) }))
  } finally {
    await jwks.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await runFloodBench()) console.log(`${row.medianUs.toFixed(2).padStart(8)} µs  ${row.name}`)
}
