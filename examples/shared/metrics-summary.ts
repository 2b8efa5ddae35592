/**
 * The demo's metrics summary: each resource service's `GET /metrics` (Prometheus text, from
 * `bearer-guard/otel`; examples/shared/metrics.ts) read back and shown per framework — verifications
 * by outcome, the verified-token cache's hit ratio, and JWKS fetches.
 */

/** One framework's numbers. */
export interface MetricsSummary {
  /** Verifications by outcome (`valid`, `refused`, `unavailable`). */
  verifications: Record<string, number>
  /** Refusals by error code. */
  refusedBy: Record<string, number>
  cacheHits: number
  cacheMisses: number
  /** JWKS fetches by result (`fetched`, `failed`). */
  jwksFetches: Record<string, number>
}

/** A sample line of the text format: `name{label="v",…} value`. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** The samples of the Prometheus text format (comments skipped). */
export function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const m = SAMPLE.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1')
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return samples
}

/** The summary of one `/metrics` text. */
export function summarize(text: string): MetricsSummary {
  const summary: MetricsSummary = { verifications: {}, refusedBy: {}, cacheHits: 0, cacheMisses: 0, jwksFetches: {} }
  const add = (into: Record<string, number>, key: string, n: number) => (into[key] = (into[key] ?? 0) + n)
  for (const s of parsePrometheus(text)) {
    if (s.name === 'bearer_guard_verifications_total') {
      add(summary.verifications, s.labels.outcome ?? '?', s.value)
      if (s.labels.code) add(summary.refusedBy, s.labels.code, s.value)
    } else if (s.name === 'bearer_guard_cache_hits_total') summary.cacheHits += s.value
    else if (s.name === 'bearer_guard_cache_misses_total') summary.cacheMisses += s.value
    else if (s.name === 'bearer_guard_jwks_fetches_total') add(summary.jwksFetches, s.labels.result ?? '?', s.value)
  }
  return summary
}

const list = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '–'

/** One line per framework. */
export function formatSummary(framework: string, s: MetricsSummary): string {
  const lookups = s.cacheHits + s.cacheMisses
  const ratio = lookups === 0 ? '–' : `${Math.round((100 * s.cacheHits) / lookups)}% (${s.cacheHits}/${lookups})`
  return `  ${framework.padEnd(8)} verifications: ${list(s.verifications)} · refused by code: ${list(s.refusedBy)} · cache hits ${ratio} · JWKS fetches: ${list(s.jwksFetches)}`
}

/** Reads each service's `/metrics` and prints the summary (a service that does not answer is named). */
export async function printMetricsSummary(apis: ReadonlyMap<string, { url: string }>): Promise<void> {
  console.log('\nbearer-guard metrics (GET /metrics of each service):')
  for (const [framework, { url }] of apis) {
    try {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })
      if (!response.ok) throw new Error(`answered ${response.status}`)
      console.log(formatSummary(framework, summarize(await response.text())))
    } catch (error) {
      console.log(`  ${framework.padEnd(8)} /metrics unavailable: ${(error as Error).message}`)
    }
  }
}
