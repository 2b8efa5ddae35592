/** Renders docs/performance.md from one benchmark run. */
import { MODES, type HttpCell, type HttpResult } from './http.js'
import { ALGS, type BenchAlg } from './lib/fixtures.js'
import { fmtRatio, fmtUs, median } from './lib/stats.js'
import type { MicroCell, MicroResult } from './micro.js'

export interface FloodRow {
  name: string
  medianUs: number
}

export interface RevocationRow {
  name: string
  medianNs: number
}

/** A row of bench/dpop.ts: µs per request. */
export interface DpopRow {
  name: string
  medianUs: number
}

export interface ReportInput {
  micro?: MicroResult
  http?: HttpResult
  revocation?: RevocationRow[]
  flood?: FloodRow[]
  dpop?: DpopRow[]
  seconds: number
  target: string
  quick: boolean
  machine: { cpu: string; memory: string; os: string; node: string; load: string; date: string }
  /** Free text from `BENCH_NOTE` (e.g. other work loading the machine during the run). */
  note?: string
}

const ORDER = ['bg', 'bg-nocache', 'fastjwt', 'fastjwt-cache', 'aws', 'jose', 'jose-remote', 'auth0']

interface Target {
  what: string
  goal: string
  measured: string
  held: boolean | undefined
}

/** Marks of the part of docs/performance.md written by hand, which `npm run bench` carries over. */
export const HAND_WRITTEN_START = '<!-- hand-written: start (kept by npm run bench) -->'
export const HAND_WRITTEN_END = '<!-- hand-written: end -->'

/**
 * The report with the hand-written part of the previous one (between the two marks) appended as it
 * was: studies measured by hand (profiles, A/B runs) live in the same file as the generated tables.
 */
export function keepHandWritten(report: string, previous: string | undefined): string {
  const start = previous?.indexOf(HAND_WRITTEN_START) ?? -1
  const end = start === -1 ? -1 : (previous as string).indexOf(HAND_WRITTEN_END, start)
  if (start === -1 || end === -1) return report
  return `${report.trimEnd()}\n\n${(previous as string).slice(start, end + HAND_WRITTEN_END.length)}\n`
}

export function renderReport(input: ReportInput): string {
  const { micro, http, machine } = input
  const lines: string[] = []
  const push = (...l: string[]) => lines.push(...l)
  push(
    '# Performance',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts). Do not edit by hand: re-run the benchmark (the part between the hand-written marks at the end is carried over). -->',
    '',
    'What one verification costs in bearer-guard and in its peers, measured in one process and one',
    'run against the floor: `node:crypto` verifying a pre-decoded signature. The machine is small and',
    'shared, so absolute numbers move from run to run; ratios are taken inside each round and the',
    'tables show their medians. Compare numbers within this page only.',
    '',
    `- **Run:** ${machine.date}, ${input.seconds.toFixed(0)} s in all${input.quick ? ' — **quick mode: smoke-test numbers**' : ''}`,
    `- **Machine:** ${machine.cpu}, ${machine.memory}, ${machine.os}; load average ${machine.load}`,
    `- **Node:** ${machine.node}; bearer-guard measured from \`${input.target === 'dist' ? 'dist/ (built package)' : 'src/ through tsx'}\``,
    '- **Reproduce:** `npm run bench` (or `npm run build && BENCH_TARGET=dist npm run bench`)',
    ...(input.note ? [`- **Note:** ${input.note}`] : []),
    '',
  )

  const targets: Target[] = []
  if (micro) renderMicro(micro, push, targets)
  if (http) renderHttp(http, push, targets)
  if (input.revocation?.length) {
    push(
      '## Revocation check',
      '',
      'bench/revocation.ts: one `isRevoked` call per verification (the Redis store answers from its local',
      'mirror; no network on the hot path).',
      '',
      '| store | ns per check (median) |',
      '| --- | ---: |',
      ...input.revocation.map((r) => `| ${r.name} | ${r.medianNs.toFixed(0)} |`),
      '',
    )
  }
  if (input.dpop?.length) {
    push(
      '## DPoP request next to a bearer one',
      '',
      'bench/dpop.ts: `authenticateRequest` with the same cached ES256 token, as `Bearer` and as `DPoP` with a',
      'fresh ES256 proof per request (every RFC 9449 check, the memory replay store). Budget (issue 14): one',
      'extra signature verification plus ~10 µs.',
      '',
      '| request | µs (median) |',
      '| --- | ---: |',
      ...input.dpop.map((r) => `| ${r.name} | ${r.medianUs.toFixed(1)} |`),
      '',
    )
  }
  if (input.flood?.length) {
    const [neg, off, cheapest, hit] = input.flood
    push(
      '## A flood of one bad token',
      '',
      'bench/flood.ts: the same RS256 token with a broken signature, again and again (each call awaited,',
      'its rejection caught), against the cheapest refusal (no signature checked: the error is made and',
      'rejected all the same) and a cache hit.',
      '',
      '| calls | µs per call (median) |',
      '| --- | ---: |',
      ...input.flood.map((r) => `| ${r.name} | ${r.medianUs.toFixed(2)} |`),
      '',
    )
    if (neg && off && cheapest && hit) {
      targets.push({
        what: 'a flood of one bad token (issue 20, target 4)',
        goal: '≤ 1.25× the cheapest refusal, not a signature check',
        measured: `${neg.medianUs.toFixed(2)} µs vs ${cheapest.medianUs.toFixed(2)} µs (a signature check: ${off.medianUs.toFixed(1)} µs; a cache hit: ${hit.medianUs.toFixed(2)} µs)`,
        held: neg.medianUs <= 1.25 * cheapest.medianUs,
      })
    }
  }
  if (targets.length) {
    push(
      '## Targets (issues 6 and 20)',
      '',
      '| target | goal | this run | held |',
      '| --- | --- | --- | :---: |',
      ...targets.map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.held === undefined ? '—' : t.held ? 'yes' : '**no**'} |`),
      '',
    )
  }
  if (micro) push(...analysis(micro, http))
  push(...method(micro, http))
  return `${lines.join('\n')}\n`
}

/**
 * What the targets that are not held would take: bearer-guard's own time per token (its time less
 * the floor's, in the same rounds), and what is known to be in it (measured with
 * bench/profile-fresh.ts, whose STUB=1 mode answers crypto.verify at once).
 */
function analysis(micro: MicroResult, http?: HttpResult): string[] {
  const algs = ALGS.filter((a) => micro.floorUs[a] !== undefined)
  const rows = algs.flatMap((alg) => {
    const bg = cellOf(micro, alg, 'bg')
    const floor = micro.floorUs[alg]
    if (!bg || floor === undefined) return []
    const derived = (bg.distinctRatio - 1) * floor
    const direct = micro.ownUs[alg]
    const goal = alg === 'HS256' ? 2 : 1.25
    const budget = (goal - 1) * floor
    return [`| ${alg} | ${fmtUs(floor)} µs | ${direct === undefined ? '—' : `${fmtUs(direct)} µs`} | ${fmtUs(derived)} µs | ${fmtUs(budget)} µs |`]
  })
  const out = [
    '## Where the time goes',
    '',
    "bearer-guard's own time per never-seen token, measured directly: a verifier with default options on",
    "each round's slice while `crypto.verify` answers at once (asymmetric algorithms; median over rounds).",
    'Next to it, the same derived from the table above (median ratio − 1, times the floor: noisier, as the',
    "machine's noise is multiplied by the floor). A ratio target leaves a budget: 0.25 of the floor for",
    "the asymmetric algorithms, 1× the floor for HS256 (whose own time includes computing the MAC, which",
    "the floor's `createHmac` also does).",
    '',
    "| algorithm | floor | own time, measured | own time, derived | budget for the target |",
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'The own time does not depend on the algorithm, but for decoding a longer signature.',
    '`bench/profile-fresh.ts` (`STUB=1` answers `crypto.verify` at once; `PROFILE=<file>` writes a CPU',
    'profile) puts about a quarter of it in `JSON.parse` of the ~360-byte payload, then base64url',
    'decoding (payload, signature, the signing input as bytes), the claim checks, roles and scopes,',
    'deep-freezing the context (cached contexts are shared between requests), and allocation (GC). Each',
    'is a check or a guarantee, and none is large enough alone to close the gap. RSA 2048 leaves a budget',
    'of about as much as the own time, and the ratio adds more: the derived own time exceeds the measured',
    "one because bearer-guard's work between two RSA operations evicts what the floor's tight loop keeps",
    'in the CPU caches, which every verifier pays (fast-jwt too), and because a verifier that also serves',
    'cached tokens shares its compiled code between both paths (with no repeated-token runs in between,',
    'cache on and `cache: false` measured alike in a separate test). HS256\'s floor is',
    'a few microseconds, and `JSON.parse` alone takes about a third of it: the work bearer-guard does per',
    'token is most of the budget (fast-jwt, which returns the parsed payload as is, uses more of it).',
    '',
  ]
  if (http?.cells.some((c) => c.tokens === 'fresh')) {
    out.push(
      'Over HTTP, a never-seen token costs the server more than the micro benchmark shows: sampled with',
      '`perf` (`npm run bench:native`, native code included), bearer-guard\'s own code took ~2.9× its',
      'tight-loop time inside the Fastify server (~9 µs against ~3 µs per token; its code and data are cold',
      'after the HTTP stack, the kernel and RSA in between), and the request\'s other work ~3 µs more beside',
      'it; the RSA arithmetic itself took the same time. That bounds the never-seen column well below the',
      'pool column, for every verifier that does the work on the event loop, @fastify/jwt (fast-jwt, fewer',
      'checks) included: this run\'s ratios of both to the floor are in the targets table, and every',
      'earlier measurement is in the hand-written part below ("Target status").',
      '',
    )
  }
  return out
}

function cellOf(micro: MicroResult, alg: BenchAlg, id: string): MicroCell | undefined {
  return micro.cells.find((c) => c.alg === alg && c.contender === id)
}

function renderMicro(micro: MicroResult, push: (...l: string[]) => void, targets: Target[]): void {
  const algs = ALGS.filter((a) => micro.floorUs[a] !== undefined)
  const ids = ORDER.filter((id) => micro.cells.some((c) => c.contender === id))
  const header = `| per verification | ${algs.join(' | ')} |`
  const rule = `| --- | ${algs.map(() => '---:').join(' | ')} |`
  const floorRow = `| **node:crypto floor** (\`crypto.verify\` / HMAC on pre-decoded input) | ${algs.map((a) => `${fmtUs(micro.floorUs[a]!)} µs`).join(' | ')} |`
  const row = (id: string, pick: (c: MicroCell) => [number, number]) =>
    `| ${id === 'bg' ? `**${micro.labels[id]}**` : micro.labels[id]} | ${algs
      .map((a) => {
        const c = cellOf(micro, a, id)
        if (!c) return '—'
        const [ratio, us] = pick(c)
        const text = `${fmtRatio(ratio)} (${fmtUs(us)} µs)`
        return id === 'bg' ? `**${text}**` : text
      })
      .join(' | ')} |`
  push(
    '## One verification (micro benchmark)',
    '',
    `Ratio to the floor of the same round (median of ${micro.cells[0]?.rounds ?? 0} rounds), then median µs. RS256/PS256: RSA`,
    '2048; ES256: P-256; EdDSA: Ed25519; HS256: 43-byte secret. Tokens carry ~360 bytes of claims',
    '(iss, sub, two audiences, iat, exp, azp, scope, roles, tenant, jti) and a `kid`.',
    '',
    '### Distinct tokens, never seen before',
    '',
    `Each round verifies a fresh slice of a pool signed at start (${algs.map((a) => `${a} ${micro.sample[a]}`).join(', ')} per`,
    'round and verifier); verifiers are built once and kept, so no verifier sees a pool token twice.',
    '',
    header,
    rule,
    floorRow,
    ...ids.map((id) => row(id, (c) => [c.distinctRatio, c.distinctUs])),
    '',
    '### One token, repeated',
    '',
    'The same valid token verified again and again (what caches are for). Ratio to the same floor.',
    '',
    header,
    rule,
    floorRow,
    ...ids.map((id) => row(id, (c) => [c.sameRatio, c.sameUs])),
    '',
  )

  for (const alg of algs) {
    const bg = cellOf(micro, alg, 'bg')
    const off = cellOf(micro, alg, 'bg-nocache')
    if (!bg || !off) continue
    // within noise: the two are measured in the same rounds, a few percent apart is noise
    targets.push({
      what: `the cache does not slow distinct tokens, ${alg}`,
      goal: 'cache on ≤ cache off (+5 % noise)',
      measured: `${fmtRatio(bg.distinctRatio)} vs ${fmtRatio(off.distinctRatio)}`,
      held: bg.distinctRatio <= off.distinctRatio * 1.05,
    })
  }
  // issue 20: the tight-loop targets are relative to the fastest peer of the same run
  for (const alg of algs) {
    const bg = cellOf(micro, alg, 'bg')
    if (!bg) continue
    const fast = ['fastjwt', 'fastjwt-cache'].map((id) => cellOf(micro, alg, id)).filter((c): c is MicroCell => !!c)
    const best = Math.min(...fast.map((c) => c.distinctRatio))
    targets.push({
      what: `distinct tokens, ${alg}: level with fast-jwt or ahead (its best configuration)`,
      goal: 'bearer-guard ≤ best fast-jwt',
      measured: `${fmtRatio(bg.distinctRatio)} vs ${fmtRatio(best)} (rounds ${spread(bg.distinctRatios, fmtRatio)})`,
      held: bg.distinctRatio <= best,
    })
    const aws = cellOf(micro, alg, 'aws')
    if (aws) {
      const ahead = aws.distinctRatio / bg.distinctRatio
      targets.push({
        what: `distinct tokens, ${alg}: ahead of aws-jwt-verify`,
        goal: '≥ 1.15× faster',
        measured: `${ahead.toFixed(2)}× (${fmtRatio(aws.distinctRatio)} vs ${fmtRatio(bg.distinctRatio)})`,
        held: ahead >= 1.15,
      })
    }
    const slow = ['jose', 'jose-remote', 'auth0'].map((id) => cellOf(micro, alg, id)).filter((c): c is MicroCell => !!c)
    const leastAhead = Math.min(...slow.map((c) => c.distinctRatio / bg.distinctRatio))
    targets.push({
      what: `distinct tokens, ${alg}: ahead of jose and express-oauth2-jwt-bearer`,
      goal: '≥ 2× faster than each',
      measured: `${leastAhead.toFixed(2)}× (least)`,
      held: leastAhead >= 2,
    })
  }
  const rs = cellOf(micro, 'RS256', 'bg')
  if (rs) targets.push({ what: 'same token, RS256', goal: '≤ 0.12× RS256 floor', measured: fmtRatio(rs.sameRatio), held: rs.sameRatio <= 0.12 })
  const hs = cellOf(micro, 'HS256', 'bg')
  if (hs) targets.push({ what: 'same token, HS256', goal: '≤ 1× HS256 floor', measured: fmtRatio(hs.sameRatio), held: hs.sameRatio <= 1 })
}

const MIDDLEWARE: Record<string, Record<string, string>> = {
  express: {
    none: 'no auth',
    noop: 'an async middleware calling `next()` (any middleware\'s cost)',
    floor: '**floor**: a middleware doing only `crypto.verify` of the pre-split token',
    bg: 'bearer-guard (`bearer-guard/express`)',
    nocache: 'bearer-guard, `cache: false`',
    peer: 'express-oauth2-jwt-bearer',
  },
  fastify: {
    none: 'no auth',
    noop: 'an empty async `preHandler` (any hook\'s cost)',
    floor: '**floor**: a `preHandler` doing only `crypto.verify` of the pre-split token',
    min: 'the least a JWT check is: the floor + parse header and payload, `alg`, `kid`, `iss`, `aud`, `exp`, `nbf` (a lower bound, not a verifier)',
    bg: 'bearer-guard (`bearer-guard/fastify`)',
    nocache: 'bearer-guard, `cache: false`',
    peer: 'hand-written jose preHandler',
    fjwt: '@fastify/jwt (fast-jwt; the key as PEM, no JWKS)',
  },
}

function renderHttp(http: HttpResult, push: (...l: string[]) => void, targets: Target[]): void {
  const get = (fw: string, mode: string, tokens: string): HttpCell | undefined =>
    http.cells.find((c) => c.framework === fw && c.mode === mode && c.tokens === tokens)
  const fws = [...new Set(http.cells.map((c) => c.framework))]
  const show = (c: HttpCell | undefined) =>
    c
      ? c.mode === 'none'
        ? `${c.rps.toFixed(0)}/s`
        : `${c.ratio.toFixed(2)} (${c.rps.toFixed(0)}/s, cpu ${c.cpuRatio.toFixed(2)}${c.tokens === 'fresh' && c.repeated > 0 ? `, ${(c.repeated * 100).toFixed(0)} % reused` : ''})`
      : ''
  push(
    '## Over HTTP (autocannon, loopback, RS256)',
    '',
    `${http.connections} connections, ${http.duration} s per run, ${http.cells[0]?.rounds ?? 0} rounds; every server in its own process, autocannon in the`,
    `bench process${http.pinned ? ' (servers pinned to CPU 0, autocannon to CPU 1)' : ''}. Cell: req/s relative to the no-auth server under the same token load in the same`,
    'round (median), then median req/s, then "cpu": the no-auth server\'s CPU time per request divided',
    'by this server\'s (the req/s ratio the server alone would allow: the client shares the 2 CPUs).',
    '',
    '- **same**: one token repeated. **pool**: 1,000 tokens, each connection cycling 20 of them (1,000',
    '  active users: every token is seen many times, so a cache serves almost all of them).',
    `- **never seen**: a new token per request (${Object.entries(http.freshTokens).map(([k, v]) => `${k} ${v}`).join(', ')} signed per round, each connection`,
    '  sending its own slice; every bearer-guard request is a full verification). For bearer-guard, the',
    '  floor and, on Fastify, @fastify/jwt (the fastest peer there, fast-jwt underneath) and the least a',
    '  JWT check is (`min`: the floor plus parsing and six claim comparisons, a lower bound); the other peers',
    '  cache nothing, so their pool column is already their never-seen cost. A cell notes the share of',
    '  requests that had to reuse a token when a run outran the tokens signed for it.',
    '',
    '| server | middleware | same | pool of 1,000 | never seen |',
    '| --- | --- | ---: | ---: | ---: |',
  )
  for (const fw of fws) {
    for (const mode of MODES) {
      if (!http.cells.some((c) => c.framework === fw && c.mode === mode)) continue
      const label = MIDDLEWARE[fw]?.[mode] ?? mode
      const note = http.notes[`${fw}/${mode}`]
      void note
      push(`| ${fw} | ${label} | ${show(get(fw, mode, 'same'))} | ${show(get(fw, mode, 'pool'))} | ${show(get(fw, mode, 'fresh'))} |`)
    }
  }
  push('')
  const goals: Record<string, { same: number; distinct: number }> = {
    fastify: { same: 0.9, distinct: 0.9 },
    express: { same: 0.9, distinct: 0.8 },
  }
  for (const fw of fws) {
    const g = goals[fw]
    if (!g) continue
    const same = get(fw, 'bg', 'same')
    const pool = get(fw, 'bg', 'pool')
    const fresh = get(fw, 'bg', 'fresh')
    // what an empty middleware/hook already costs in the same round: the framework's own floor
    const noop = (tokens: string): string => {
      const c = get(fw, 'noop', tokens)
      return c ? `; an empty ${fw === 'express' ? 'middleware' : 'hook'}: ${c.ratio.toFixed(2)}` : ''
    }
    const r2 = (x: number): string => x.toFixed(2)
    if (same) targets.push({ what: `HTTP ${fw}, same token`, goal: `≥ ${g.same} of no auth`, measured: `${r2(same.ratio)} (rounds ${spread(same.ratios, r2)}; cpu ${r2(same.cpuRatio)}${noop('same')})`, held: same.ratio >= g.same })
    if (pool) targets.push({ what: `HTTP ${fw}, pool of 1,000 tokens (cycled)`, goal: `≥ ${g.distinct} of no auth`, measured: `${r2(pool.ratio)} (rounds ${spread(pool.ratios, r2)}; cpu ${r2(pool.cpuRatio)}${noop('pool')})`, held: pool.ratio >= g.distinct })
    // issue 20: never-seen tokens against the floor (crypto.verify only) of the same round
    const floor = get(fw, 'floor', 'fresh')
    const nocache = get(fw, 'nocache', 'fresh')
    const perRound = (a: HttpCell, b: HttpCell): number[] => a.ratios.map((x, i) => x / (b.ratios[i] as number))
    // the same in CPU time per request: the floor's CPU over this server's, per round (the client's share drops out)
    const cpuPerRound = (a: HttpCell, b: HttpCell): number[] => a.cpuRatios.map((x, i) => x / (b.cpuRatios[i] as number))
    if (fresh && floor) {
      const rs = perRound(fresh, floor)
      const m = median(rs)
      // beside it, against the same floor in the same rounds: the fastest peer (how far the field
      // gets) and the least a JWT check is (how near the floor any verifier can get)
      const beside = (mode: string, label: string): string => {
        const c = get(fw, mode, 'fresh')
        return c ? `; ${label} ${r2(median(perRound(c, floor)))}, cpu ${r2(median(cpuPerRound(c, floor)))}` : ''
      }
      targets.push({
        what: `HTTP ${fw}, never-seen tokens`,
        goal: '≥ 0.9 of the floor',
        measured: `${r2(m)} (rounds ${spread(rs, r2)}; cpu ${r2(median(cpuPerRound(fresh, floor)))}; ${r2(fresh.ratio)} vs ${r2(floor.ratio)} of no auth${beside('fjwt', '@fastify/jwt')}${beside('min', 'the least JWT check')})`,
        held: m >= 0.9,
      })
    } else if (fresh) {
      targets.push({ what: `HTTP ${fw}, never-seen tokens`, goal: `≥ ${g.distinct} of no auth`, measured: `${r2(fresh.ratio)} (rounds ${spread(fresh.ratios, r2)}; cpu ${r2(fresh.cpuRatio)})`, held: fresh.ratio >= g.distinct })
    }
    if (fresh && nocache) {
      const rs = perRound(fresh, nocache)
      const m = median(rs)
      targets.push({ what: `HTTP ${fw}, the cache does not slow never-seen tokens`, goal: 'cache on ≥ cache off (−5 % noise)', measured: `${r2(m)} (rounds ${spread(rs, r2)})`, held: m >= 0.95 })
    }
  }
}

function method(micro?: MicroResult, http?: HttpResult): string[] {
  const out = ['## Method', '']
  if (micro) {
    out.push(
      '- **Micro** (bench/micro.ts): one verification at a time, each awaited (sync APIs are called',
      '  directly). Per algorithm, every verifier is built once, warmed (keys fetched and imported, JIT,',
      '  caches in their steady state) on tokens the samples never use, then measured in rounds, in a',
      '  new (seeded, shuffled) order each round. Each sample starts from a full garbage collection, so',
      '  that it does not collect the garbage of the verifier before it (its own it does), then the',
      '  floor runs on the round\'s slice, the verifier on 16 never-seen tokens untimed (its code and',
      '  data back in the CPU\'s caches), on the slice, and the floor again; each ratio is taken against',
      '  the mean of the two floors (cancelling a drift of the machine\'s speed). Floor: `crypto.verify` with a `KeyObject`',
      '  (RSA-PSS with the digest-length salt, ECDSA with `ieee-p1363`), HS256: `createHmac` with a',
      '  `KeyObject` + `timingSafeEqual`, all on pre-decoded bytes.',
      '- **Verifiers** (bench/lib/peers.ts), each checking issuer, audience and algorithm: bearer-guard',
      '  `createVerifier({ issuer, audience, algorithms, jwksUri })` (HS256: `secret`), warm, default',
      '  options; fast-jwt `createVerifier` with the PEM key, `allowedIss`, `allowedAud`; aws-jwt-verify',
      '  `JwtVerifier` with the JWKS given to `cacheJwks` (it has no PS* and no HS*); jose 6 `jwtVerify`',
      '  with an imported key, and with `createRemoteJWKSet` after `reload()`; express-oauth2-jwt-bearer',
      '  `auth()` called with a minimal Express-like request (headers, host, protocol, url, `is()`,',
      '  `get()`), resolved from its `next()`. JWKS are served on 127.0.0.1.',
    )
  }
  if (http) {
    out.push(
      '- **HTTP** (bench/http.ts, bench/http-server.ts): GET /orders answering `{ ok, sub }`. Requests are',
      '  pre-built per connection (a per-request `setupRequest` made autocannon the bottleneck). The',
      '  never-seen tokens are signed before the runs. A run with a non-2xx answer fails the benchmark.',
      '  @fastify/jwt gets the JWKS\' RSA key as PEM at start (no JWKS fetcher; fast-jwt\'s cache off, its',
      '  default) and `allowedIss`, `allowedAud`, RS256; a `preHandler` awaits `request.jwtVerify()`.',
      '  Two CPUs serve both autocannon and the server, and other work ran on the machine: Fastify can',
      '  answer faster than one autocannon process can ask, so its req/s ratios are bounded by the',
      '  client; the "cpu" figure is the server-side view.',
    )
  }
  out.push('')
  return out
}

/** `lowest–highest` of the per-round values: how far the noise moved them. */
function spread(values: readonly number[], fmt: (v: number) => string): string {
  if (values.length === 0) return '—'
  return `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`
}
