/**
 * Cost of a DPoP request next to a bearer one: `verifier.authenticateRequest` with the same cached
 * ES256 access token, as `Authorization: Bearer` (an unbound token) and as `Authorization: DPoP`
 * with a fresh ES256 proof each time (a bound token; every check of RFC 9449 §4.3, the memory
 * replay store). The budget (issue 14): at most one extra signature verification plus ~10 µs. The
 * signature alone (`crypto.verify` of one proof) is measured beside them, so the DPoP overhead net
 * of that verification is read off the same run.
 *
 * Run alone: `node --import tsx bench/dpop.ts`. The bench runner imports `runDpopBench()`.
 */
import crypto from 'node:crypto'
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import { createMemoryReplayStore, createVerifier, type AuthRequest } from '../src/index.js'
import { median } from './lib/stats.js'

export interface DpopBenchRow {
  name: string
  /** Median µs per request over the rounds. */
  medianUs: number
}

const URL_ = 'https://api.example.com/orders'
const ROUNDS = 15
const BATCH = 2000

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

function sign(key: crypto.KeyObject, header: object, claims: object): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

export async function runDpopBench(): Promise<DpopBenchRow[]> {
  const issuerKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const clientKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = clientKeys.publicKey.export({ format: 'jwk' }) as Record<string, string>
  const jkt = crypto.createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url')
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: 'https://issuer.example', aud: 'api', sub: 'alice', iat: now, exp: now + 3600 }
  const header = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' }
  const bearer = sign(issuerKeys.privateKey, header, claims)
  const bound = sign(issuerKeys.privateKey, header, { ...claims, cnf: { jkt } })
  const ath = crypto.createHash('sha256').update(bound).digest('base64url')
  const proofHeader = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } }
  const proofs = (n: number) =>
    Array.from({ length: n }, () => sign(clientKeys.privateKey, proofHeader, { htm: 'GET', htu: URL_, iat: now, jti: crypto.randomUUID(), ath }))

  const publicJwk = { ...(issuerKeys.publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'ES256' }
  const options = { issuer: 'https://issuer.example', audience: 'api', keys: publicJwk, logger: false as const }
  const request = (authorization: string, dpop?: string): AuthRequest => ({ method: 'GET', url: URL_, headers: { authorization, dpop } })

  async function perRequest(run: (i: number) => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint()
    for (let i = 0; i < BATCH; i++) await run(i)
    return Number(process.hrtime.bigint() - start) / 1000 / BATCH
  }

  const bearerUs: number[] = []
  const dpopUs: number[] = []
  const verifyUs: number[] = []
  for (let round = 0; round < ROUNDS + 1; round++) {
    const verifier = createVerifier({ ...options, dpop: { replay: createMemoryReplayStore({ max: BATCH * 2 }) } })
    const batch = proofs(BATCH)
    const bearerReq = request(`Bearer ${bearer}`)
    // one request each first: the tokens are in the cache and the proof key's import is done
    await verifier.authenticateRequest(bearerReq)
    await verifier.authenticateRequest(request(`DPoP ${bound}`, proofs(1)[0]))
    const b = await perRequest(() => verifier.authenticateRequest(bearerReq))
    const d = await perRequest((i) => verifier.authenticateRequest(request(`DPoP ${bound}`, batch[i])))
    const parts = batch.map((p) => p.split('.'))
    const v = await perRequest(async (i) => {
      const [h, c, s] = parts[i] as [string, string, string]
      return crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key: clientKeys.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
    })
    if (round === 0) continue // warm-up
    bearerUs.push(b)
    dpopUs.push(d)
    verifyUs.push(v)
  }
  const overhead = dpopUs.map((d, i) => d - (bearerUs[i] as number) - (verifyUs[i] as number))
  return [
    { name: 'bearer request (ES256 token, cached)', medianUs: median(bearerUs) },
    { name: 'DPoP request (the same, bound; a fresh ES256 proof each)', medianUs: median(dpopUs) },
    { name: 'one ES256 signature verification (crypto.verify of a proof)', medianUs: median(verifyUs) },
    { name: 'DPoP overhead net of that verification (per round, median)', medianUs: median(overhead) },
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const before = os.loadavg().map((l) => l.toFixed(2)).join(' / ')
  const rows = await runDpopBench()
  console.log('| request | µs (median) |')
  console.log('| --- | ---: |')
  for (const r of rows) console.log(`| ${r.name} | ${r.medianUs.toFixed(1)} |`)
  console.log(`load average ${before} before, ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} after; ${os.cpus().length} CPUs, Node ${process.version}`)
}
