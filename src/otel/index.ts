/**
 * OpenTelemetry metrics and spans from bearer-guard's diagnostics channels.
 *
 * Subpath export `'bearer-guard/otel'`. `@opentelemetry/api` (^1.9) is an optional peer dependency,
 * needed by this subpath only. The declarations here do not import it: the providers are typed by
 * the methods used, which the API's `MeterProvider` and `TracerProvider` (and the SDK's) have.
 *
 * @module bearer-guard/otel
 */
import {
  metrics,
  trace,
  SpanKind,
  SpanStatusCode,
  ValueType,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableResult,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'
import { subscribeChannel, type IntrospectMessage, type JwksMessage, type VerifyMessage } from '../core/diagnostics.js'

/** What `instrument` needs of a meter provider: the API's `MeterProvider` (or the SDK's) fits. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string, options?: { schemaUrl?: string }): unknown
}

/** What `instrument` needs of a tracer provider: the API's `TracerProvider` (or the SDK's) fits. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string, options?: { schemaUrl?: string }): unknown
}

/** Options of `instrument`. */
export interface InstrumentOptions {
  /** Where the metrics go. Default: the global meter provider (`metrics.getMeterProvider()`); `false`: no metrics. */
  meterProvider?: MeterProviderLike | false
  /** Where the spans go. Default: the global tracer provider (`trace.getTracerProvider()`); `false`: no spans. */
  tracerProvider?: TracerProviderLike | false
  /**
   * Put what a token says on spans: the subject (`enduser.id`), scopes and roles of a valid token, and
   * the refusal's detailed `reason` (which quotes claim values: `aud mismatch: got ["x"]`). Default
   * `false`: spans carry the outcome, the error code, the claim name, `kid`, `alg` and the issuer only.
   */
  includeClaims?: boolean
}

/** Stops what `instrument` started: unsubscribes from the channels (instruments already created stay registered). */
export type Uninstrument = () => void

/** The instrumentation scope's name (meter and tracer). */
export const INSTRUMENTATION_NAME = 'bearer-guard'

/**
 * Duration buckets in microseconds: a cache hit (~1 µs), an HMAC or EC verification (tens of µs), an
 * RSA verification (~200 µs), and verifications that waited for a JWKS fetch (ms to s).
 */
export const DURATION_BUCKETS_US: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 150, 200, 300, 500, 1000, 2500, 5000, 10_000, 50_000, 250_000, 1_000_000, 5_000_000,
])

/**
 * Turns bearer-guard's diagnostics channels into OpenTelemetry metrics and spans, for every verifier
 * of the process (also those made before the call).
 *
 * Metrics: `bearer_guard.verifications` {outcome, code, issuer}, `bearer_guard.verification.duration`
 * (µs histogram) {outcome, cached}, `bearer_guard.cache.hits` / `bearer_guard.cache.misses`,
 * `bearer_guard.jwks.fetches` {result, cause}, `bearer_guard.jwks.keys` {url.full} (gauge),
 * `bearer_guard.introspections` {outcome}. Spans: `bearer_guard.verify` for each verification the
 * cache did not answer, `bearer_guard.jwks.fetch` for each JWKS fetch, `bearer_guard.introspect` for
 * each introspection call. The token never goes on a span; claims only with `includeClaims`.
 *
 * On runtimes without `node:diagnostics_channel` (edge), nothing is published and nothing recorded.
 *
 * @example Metrics and spans through the SDK the application set up (the global providers).
 * ```ts
 * import { instrument } from 'bearer-guard/otel'
 *
 * const uninstrument = instrument()
 * // … on shutdown
 * uninstrument()
 * ```
 *
 * @example Metrics only, to a given meter provider.
 * ```ts
 * instrument({ meterProvider, tracerProvider: false })
 * ```
 */
export function instrument(options: InstrumentOptions = {}): Uninstrument {
  const includeClaims = options.includeClaims === true
  const meterProvider = options.meterProvider === false ? undefined : ((options.meterProvider ?? metrics.getMeterProvider()) as MeterProvider)
  const tracerProvider = options.tracerProvider === false ? undefined : ((options.tracerProvider ?? trace.getTracerProvider()) as TracerProvider)
  const meter: Meter | undefined = meterProvider?.getMeter(INSTRUMENTATION_NAME)
  const tracer: Tracer | undefined = tracerProvider?.getTracer(INSTRUMENTATION_NAME)
  const m = meter && createInstruments(meter)
  const starts = new WeakMap<object, number>()
  const markStart = (message: object) => starts.set(message, epochMs())

  const stops = [
    subscribeChannel('verify', {
      start: markStart,
      asyncEnd(message) {
        const attributes: Attributes = { outcome: message.outcome ?? 'refused' }
        if (message.code !== undefined) attributes.code = message.code
        if (message.issuer !== undefined) attributes.issuer = message.issuer
        if (m) {
          m.verifications.add(1, attributes)
          m.duration.record(message.durationMs * 1000, { outcome: attributes.outcome as string, cached: message.cached })
          ;(message.cached ? m.hits : m.misses).add(1)
        }
        if (tracer && !message.cached) verifySpan(tracer, message, starts.get(message), includeClaims)
      },
    }),
    subscribeChannel('jwks', {
      start: markStart,
      asyncEnd(message) {
        if (m) {
          const attributes: Attributes = { result: message.outcome ?? 'failed' }
          if (message.cause !== undefined) attributes.cause = causeKind(message.cause)
          if (message.retried) attributes.retried = true
          m.fetches.add(1, attributes)
          if (message.outcome === 'fetched' && message.keys !== undefined) m.keysByUri.set(message.uri, message.keys)
        }
        if (tracer) jwksSpan(tracer, message, starts.get(message))
      },
    }),
    subscribeChannel('introspect', {
      start: markStart,
      asyncEnd(message) {
        if (m) {
          const attributes: Attributes = { outcome: message.outcome ?? 'failed', cached: message.cached }
          if (message.issuer !== undefined) attributes.issuer = message.issuer
          m.introspections.add(1, attributes)
        }
        if (tracer && !message.cached) introspectSpan(tracer, message, starts.get(message), includeClaims)
      },
    }),
  ]
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    for (const stop of stops) stop()
    m?.stop()
  }
}

interface Instruments {
  verifications: Counter
  duration: Histogram
  hits: Counter
  misses: Counter
  fetches: Counter
  introspections: Counter
  /** Keys of the last fetch of each JWKS URL (observed by the gauge). */
  keysByUri: Map<string, number>
  stop(): void
}

function createInstruments(meter: Meter): Instruments {
  const keysByUri = new Map<string, number>()
  const keys = meter.createObservableGauge('bearer_guard.jwks.keys', {
    description: 'Keys usable in the last JWKS fetched, per JWKS URL',
    unit: '{key}',
    valueType: ValueType.INT,
  })
  const observe = (result: ObservableResult) => {
    for (const [uri, n] of keysByUri) result.observe(n, { 'url.full': uri })
  }
  keys.addCallback(observe)
  return {
    verifications: meter.createCounter('bearer_guard.verifications', {
      description: 'Verifications by outcome (valid, refused, unavailable), error code and issuer',
      unit: '{verification}',
      valueType: ValueType.INT,
    }),
    duration: meter.createHistogram('bearer_guard.verification.duration', {
      description: 'Time to answer a verification, cache hits included',
      unit: 'us',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_US] },
    }),
    hits: meter.createCounter('bearer_guard.cache.hits', {
      description: 'Verifications answered by the verified-token cache',
      unit: '{verification}',
      valueType: ValueType.INT,
    }),
    misses: meter.createCounter('bearer_guard.cache.misses', {
      description: 'Verifications the verified-token cache did not answer (fresh signature checks and early refusals)',
      unit: '{verification}',
      valueType: ValueType.INT,
    }),
    fetches: meter.createCounter('bearer_guard.jwks.fetches', {
      description: 'JWKS fetches by result (fetched, failed) and failure cause',
      unit: '{fetch}',
      valueType: ValueType.INT,
    }),
    introspections: meter.createCounter('bearer_guard.introspections', {
      description: 'Token introspection answers by outcome (active, inactive, failed)',
      unit: '{call}',
      valueType: ValueType.INT,
    }),
    keysByUri,
    stop: () => keys.removeCallback(observe),
  }
}

/** `status:503` → `status`, `network:ECONNREFUSED` → `network:ECONNREFUSED`, `body:…` → `body`: a bounded label. */
function causeKind(cause: string): string {
  if (cause.startsWith('network:')) return cause.slice(0, 40)
  const colon = cause.indexOf(':')
  return colon === -1 ? cause.slice(0, 20) : cause.slice(0, colon)
}

/** Wall-clock milliseconds with sub-millisecond precision, for span times. */
function epochMs(): number {
  const p = (globalThis as { performance?: { timeOrigin?: number; now(): number } }).performance
  return p?.timeOrigin !== undefined ? p.timeOrigin + p.now() : Date.now()
}

function verifySpan(tracer: Tracer, message: VerifyMessage, start: number | undefined, includeClaims: boolean): void {
  const end = epochMs()
  const attributes: Attributes = { 'bearer_guard.outcome': message.outcome ?? 'refused', 'bearer_guard.cached': message.cached }
  if (message.issuer !== undefined) attributes['bearer_guard.issuer'] = message.issuer
  if (message.kid !== undefined) attributes['bearer_guard.kid'] = message.kid
  if (message.alg !== undefined) attributes['bearer_guard.alg'] = message.alg
  if (message.code !== undefined) attributes['error.type'] = message.code
  if (message.status !== undefined) attributes['bearer_guard.status'] = message.status
  const claim = (message.error as { claim?: unknown } | undefined)?.claim
  if (typeof claim === 'string') attributes['bearer_guard.claim'] = claim
  if (includeClaims) {
    if (message.reason !== undefined) attributes['bearer_guard.reason'] = message.reason
    const ctx = message.result
    if (ctx) {
      if (ctx.subject !== undefined) attributes['enduser.id'] = ctx.subject
      attributes['bearer_guard.scopes'] = [...ctx.scopes]
      attributes['bearer_guard.roles'] = [...ctx.roles]
    }
  }
  const span = tracer.startSpan('bearer_guard.verify', { kind: SpanKind.INTERNAL, startTime: start ?? end - message.durationMs, attributes })
  if (message.outcome !== 'valid') span.setStatus({ code: SpanStatusCode.ERROR, message: message.code })
  span.end(end)
}

function jwksSpan(tracer: Tracer, message: JwksMessage, start: number | undefined): void {
  const end = epochMs()
  const attributes: Attributes = { 'url.full': message.uri, 'bearer_guard.jwks.result': message.outcome ?? 'failed', 'bearer_guard.jwks.retried': message.retried }
  if (message.keys !== undefined) attributes['bearer_guard.jwks.keys'] = message.keys
  if (message.skipped) attributes['bearer_guard.jwks.skipped'] = message.skipped
  if (message.cause !== undefined) attributes['error.type'] = causeKind(message.cause)
  if (message.stale) attributes['bearer_guard.jwks.stale'] = true
  const span = tracer.startSpan('bearer_guard.jwks.fetch', { kind: SpanKind.INTERNAL, startTime: start ?? end - message.durationMs, attributes })
  // a failed key-source fetch names no token value: its reason (DNS, refused, TLS, status) is safe to show
  if (message.outcome !== 'fetched') span.setStatus({ code: SpanStatusCode.ERROR, message: message.reason })
  span.end(end)
}

function introspectSpan(tracer: Tracer, message: IntrospectMessage, start: number | undefined, includeClaims: boolean): void {
  const end = epochMs()
  const attributes: Attributes = { 'url.full': message.endpoint, 'bearer_guard.outcome': message.outcome ?? 'failed', 'bearer_guard.retried': message.retried }
  if (message.issuer !== undefined) attributes['bearer_guard.issuer'] = message.issuer
  if (message.httpStatus !== undefined) attributes['http.response.status_code'] = message.httpStatus
  if (message.cause !== undefined) attributes['error.type'] = causeKind(message.cause)
  if (includeClaims && message.reason !== undefined) attributes['bearer_guard.reason'] = message.reason
  const span = tracer.startSpan('bearer_guard.introspect', { kind: SpanKind.INTERNAL, startTime: start ?? end - message.durationMs, attributes })
  if (message.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: message.cause })
  span.end(end)
}

export type { VerifyMessage, JwksMessage, IntrospectMessage } from '../core/diagnostics.js'
