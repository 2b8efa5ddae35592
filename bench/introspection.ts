/**
 * A cached introspected token against a cached JWT: what a request costs once the answer (or the
 * verification) is in the verifier's cache — for an opaque token, the SHA-256 of the token, the LRU
 * lookup and the clock check; for a JWT, the verified-token cache. Also the floor (an awaited
 * `Promise.resolve`: what any `verifyAccessToken` call costs at least).
 *
 * Run alone: `node --import tsx bench/introspection.ts`. No network: the test issuer answers the
 * single introspection call through its `fetch`.
 */
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { createVerifier } from '../src/core/verifier.js'
import { createTestIssuer } from '../src/testing/index.js'
import { median } from './lib/stats.js'

export interface IntrospectionBenchResult {
  name: string
  /** Median nanoseconds per `verifyAccessToken` call over the rounds. */
  medianNs: number
}

const BATCH = 2_000
const ROUNDS = 300

/** Median ns per awaited call over many short batches (a preempted batch lands in the tail). */
async function measure(call: () => Promise<unknown>): Promise<number> {
  const samples: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < BATCH; i++) await call()
    samples.push(Number(process.hrtime.bigint() - start) / BATCH)
  }
  return median(samples)
}

export async function runIntrospectionBench(): Promise<IntrospectionBenchResult[]> {
  const issuer = await createTestIssuer({ algorithm: 'ES256', audience: 'orders-api' })
  const base = { ...issuer.verifierOptions('keys'), logger: false as const }
  const jwtVerifier = createVerifier(base)
  const opaqueVerifier = createVerifier({ ...base, introspection: issuer.introspectionOptions({ cacheMaxAge: '1h' }) })
  const jwt = await issuer.sign({ scope: 'orders:read', roles: ['user'] }, { expiresIn: '1h' })
  const opaque = issuer.opaque({ scope: 'orders:read', roles: ['user'] }, { expiresIn: '1h' })

  // fill both caches, and check that the opaque token is served from the cache (one call in all)
  await jwtVerifier.verifyAccessToken(jwt)
  await opaqueVerifier.verifyAccessToken(opaque)
  const floor = () => Promise.resolve(1)
  const cachedJwt = () => jwtVerifier.verifyAccessToken(jwt)
  const cachedOpaque = () => opaqueVerifier.verifyAccessToken(opaque)
  for (const warm of [floor, cachedJwt, cachedOpaque]) await measure(warm)
  const before = issuer.introspectionRequests

  const results = [
    { name: 'floor: an awaited Promise.resolve', medianNs: await measure(floor) },
    { name: 'cached JWT (ES256), verifyAccessToken', medianNs: await measure(cachedJwt) },
    { name: 'cached introspected opaque token, verifyAccessToken', medianNs: await measure(cachedOpaque) },
  ]
  if (issuer.introspectionRequests !== before) throw new Error('the opaque token was introspected again: the bench is not measuring the cache')
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  const results = await runIntrospectionBench()
  console.log(`load average before: ${load}; after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log('| path | median per call |')
  console.log('| --- | --- |')
  for (const r of results) console.log(`| ${r.name} | ${r.medianNs.toFixed(0)} ns |`)
}
