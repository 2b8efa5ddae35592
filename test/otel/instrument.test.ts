/**
 * `bearer-guard/otel`: the metrics and spans `instrument()` records, read from the OpenTelemetry
 * SDK's in-memory exporters.
 */
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { DURATION_BUCKETS_US, instrument, type Uninstrument } from 'bearer-guard/otel'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { introspectEnd, introspectStart } from '../../src/core/diagnostics.js'
import { rejection } from '../helpers/rejection.js'

let issuer: TestIssuer
let metricExporter: InMemoryMetricExporter
let reader: PeriodicExportingMetricReader
let meterProvider: MeterProvider
let spanExporter: InMemorySpanExporter
let tracerProvider: BasicTracerProvider
let uninstrument: Uninstrument | undefined

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', kid: 'k1' })
})

beforeEach(() => {
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  meterProvider = new MeterProvider({ readers: [reader] })
  spanExporter = new InMemorySpanExporter()
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
})

afterEach(async () => {
  uninstrument?.()
  uninstrument = undefined
  await meterProvider.shutdown()
  await tracerProvider.shutdown()
})

function verifier(overrides: Record<string, unknown> = {}, from: TestIssuer = issuer) {
  return createVerifier(from.verifierOptions('jwks', { jwks: { fetch: from.fetch }, logger: false, ...overrides }))
}

/** The data points of each metric, by name, after a collection. */
async function collect(): Promise<Map<string, { attributes: Record<string, unknown>; value: unknown }[]>> {
  await reader.forceFlush()
  const all: ResourceMetrics[] = metricExporter.getMetrics()
  const last = all[all.length - 1]
  const out = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>()
  for (const scope of last?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      out.set(metric.descriptor.name, metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })))
    }
  }
  return out
}

function sum(points: { attributes: Record<string, unknown>; value: unknown }[] | undefined, match: Record<string, unknown> = {}): number {
  return (points ?? [])
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (p.value as number), 0)
}

describe('instrument(): metrics', () => {
  it('counts verifications by outcome, code and issuer, cache hits and misses, JWKS fetches and keys', async () => {
    uninstrument = instrument({ meterProvider, tracerProvider: false })
    const v = verifier()
    const token = await issuer.sign()
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    await rejection(v.verifyAccessToken(await issuer.expired()))
    await rejection(v.verifyAccessToken(await issuer.sign({ aud: 'https://other.test' })))
    await rejection(v.authenticate(undefined))

    const m = await collect()
    const verifications = m.get('bearer_guard.verifications')
    expect(sum(verifications, { outcome: 'valid', issuer: issuer.issuer })).toBe(3)
    expect(sum(verifications, { outcome: 'refused', code: 'invalid_token', issuer: issuer.issuer })).toBe(2)
    expect(sum(verifications, { outcome: 'refused', code: 'missing_token' })).toBe(1)
    expect(verifications?.find((p) => p.attributes.outcome === 'valid')?.attributes).toEqual({ outcome: 'valid', issuer: issuer.issuer })
    expect(sum(m.get('bearer_guard.cache.hits'))).toBe(2)
    expect(sum(m.get('bearer_guard.cache.misses'))).toBe(4)
    expect(m.get('bearer_guard.jwks.fetches')).toEqual([{ attributes: { result: 'fetched' }, value: 1 }])
    expect(m.get('bearer_guard.jwks.keys')).toEqual([{ attributes: { 'url.full': expect.stringMatching(/jwks/) }, value: 1 }])
  })

  it('records durations in a microsecond histogram whose buckets resolve a 1 µs cache hit and a 200 µs RSA verify', async () => {
    uninstrument = instrument({ meterProvider, tracerProvider: false })
    const v = verifier()
    const token = await issuer.sign()
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    await reader.forceFlush()
    const metric = metricExporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === 'bearer_guard.verification.duration')
    expect(metric?.descriptor.unit).toBe('us')
    const points = metric?.dataPoints ?? []
    expect(points.map((p) => p.attributes).sort((a, b) => String(a.cached).localeCompare(String(b.cached)))).toEqual([
      { outcome: 'valid', cached: false },
      { outcome: 'valid', cached: true },
    ])
    const boundaries = (points[0]?.value as { buckets: { boundaries: number[] } }).buckets.boundaries
    // the advice API's explicit boundaries are the ones used
    expect(boundaries).toEqual(DURATION_BUCKETS_US)
    // a 1 µs hit and a 200 µs verify fall into different buckets, each with room on both sides
    expect(boundaries.filter((b) => b <= 1)).toEqual([1])
    expect(boundaries.filter((b) => b > 1 && b < 200).length).toBeGreaterThanOrEqual(4)
    expect(boundaries).toContain(200)
    for (const p of points) expect((p.value as { count: number }).count).toBe(1)
  })

  it('counts a failed JWKS fetch by its cause, and a verification of it as unavailable', async () => {
    const down = await createTestIssuer({ algorithm: 'ES256' })
    down.simulate('jwks', 503)
    uninstrument = instrument({ meterProvider, tracerProvider: false })
    await rejection(verifier({}, down).verifyAccessToken(await down.sign()))
    const m = await collect()
    expect(m.get('bearer_guard.jwks.fetches')).toEqual([{ attributes: { result: 'failed', cause: 'status' }, value: 1 }])
    expect(sum(m.get('bearer_guard.verifications'), { outcome: 'unavailable', code: 'temporarily_unavailable' })).toBe(1)
    await down.close()
  })

  it('counts introspection answers by outcome, and records a span for calls (not cache answers)', async () => {
    uninstrument = instrument({ meterProvider, tracerProvider })
    introspectEnd(introspectStart('https://as.test/introspect', 'https://as.test/'), { outcome: 'active', cached: false, httpStatus: 200 })
    introspectEnd(introspectStart('https://as.test/introspect', 'https://as.test/'), { outcome: 'active', cached: true })
    introspectEnd(introspectStart('https://as.test/introspect', 'https://as.test/'), { outcome: 'failed', cause: 'status:500', reason: 'answered 500', httpStatus: 500, error: new Error('x') })
    const points = (await collect()).get('bearer_guard.introspections')
    expect(sum(points, { outcome: 'active', cached: false })).toBe(1)
    expect(sum(points, { outcome: 'active', cached: true })).toBe(1)
    expect(sum(points, { outcome: 'failed', issuer: 'https://as.test/' })).toBe(1)
    const spans = spanExporter.getFinishedSpans().filter((s) => s.name === 'bearer_guard.introspect')
    expect(spans.map((s) => [s.attributes['bearer_guard.outcome'], s.attributes['http.response.status_code'], s.attributes['error.type'], s.status.code])).toEqual([
      ['active', 200, undefined, 0],
      ['failed', 500, 'status', 2],
    ])
  })

  it('stops recording after uninstrument()', async () => {
    uninstrument = instrument({ meterProvider, tracerProvider: false })
    const v = verifier()
    await v.verifyAccessToken(await issuer.sign())
    uninstrument()
    await v.verifyAccessToken(await issuer.sign({ sub: 'other' }))
    expect(sum((await collect()).get('bearer_guard.verifications'))).toBe(1)
  })
})

describe('instrument(): spans', () => {
  it('records a span per fresh verification and per JWKS fetch, none for cache hits, with no token or claim values', async () => {
    uninstrument = instrument({ meterProvider: false, tracerProvider })
    const v = verifier()
    const token = await issuer.sign({ sub: 'alice', scope: 'orders:read' })
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    const spans = spanExporter.getFinishedSpans()
    expect(spans.map((s) => s.name).sort()).toEqual(['bearer_guard.jwks.fetch', 'bearer_guard.verify'])
    const verify = spans.find((s) => s.name === 'bearer_guard.verify')
    expect(verify?.attributes).toEqual({
      'bearer_guard.outcome': 'valid',
      'bearer_guard.cached': false,
      'bearer_guard.issuer': issuer.issuer,
      'bearer_guard.kid': 'k1',
      'bearer_guard.alg': 'ES256',
    })
    const jwks = spans.find((s) => s.name === 'bearer_guard.jwks.fetch')
    expect(jwks?.attributes).toMatchObject({ 'bearer_guard.jwks.result': 'fetched', 'bearer_guard.jwks.keys': 1, 'bearer_guard.jwks.retried': false })
    const text = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events, st: s.status })))
    for (const secret of [token, token.split('.')[1] as string, 'alice', 'orders:read']) expect(text).not.toContain(secret)
  })

  it('marks a refused verification as an error with the code and claim, and the reason only with includeClaims', async () => {
    uninstrument = instrument({ meterProvider: false, tracerProvider })
    const v = verifier()
    await v.warmUp()
    const wrong = await issuer.sign({ aud: 'https://secret-audience.test' })
    await rejection(v.verifyAccessToken(wrong))
    const [span] = spanExporter.getFinishedSpans().filter((s) => s.name === 'bearer_guard.verify')
    expect(span?.status).toEqual({ code: 2, message: 'invalid_token' })
    expect(span?.attributes).toMatchObject({ 'error.type': 'invalid_token', 'bearer_guard.claim': 'aud', 'bearer_guard.status': 401 })
    expect(JSON.stringify(span?.attributes)).not.toContain('secret-audience')
    uninstrument()

    spanExporter.reset()
    uninstrument = instrument({ meterProvider: false, tracerProvider, includeClaims: true })
    await rejection(v.verifyAccessToken(wrong))
    await v.verifyAccessToken(await issuer.sign({ sub: 'alice', scope: 'orders:read' }))
    const [refused, valid] = spanExporter.getFinishedSpans().filter((s) => s.name === 'bearer_guard.verify')
    expect(refused?.attributes['bearer_guard.reason']).toMatch(/aud mismatch: got \["https:\/\/secret-audience.test"\]/)
    expect(valid?.attributes).toMatchObject({ 'enduser.id': 'alice', 'bearer_guard.scopes': ['orders:read'] })
  })

  it('gives a verification span the time it took (start before end)', async () => {
    uninstrument = instrument({ meterProvider: false, tracerProvider })
    await verifier().verifyAccessToken(await issuer.sign())
    for (const span of spanExporter.getFinishedSpans()) {
      const [s, ns] = span.duration
      expect(s * 1e9 + ns).toBeGreaterThanOrEqual(0)
      expect(span.endTime[0] * 1e3 + span.endTime[1] / 1e6).toBeGreaterThanOrEqual(span.startTime[0] * 1e3 + span.startTime[1] / 1e6)
    }
  })
})
