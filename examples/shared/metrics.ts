/**
 * `GET /metrics` for the resource services: bearer-guard's OpenTelemetry metrics (`bearer-guard/otel`)
 * in the Prometheus text format, through the OpenTelemetry SDK and its Prometheus exporter (no
 * exporter server of its own: each service answers on its own port).
 *
 * One call per process, before the first request: `instrument()` subscribes to the diagnostics
 * channels of every verifier in the process.
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { instrument } from 'bearer-guard/otel'

/** What a `/metrics` route answers. */
export interface MetricsEndpoint {
  readonly contentType: string
  /** The metrics now, as Prometheus text. */
  render(): Promise<string>
}

/** Per process, not per module copy: Next.js evaluates this file once per server bundle. */
const KEY = Symbol.for('bearer-guard.examples.metrics')
const store = globalThis as { [KEY]?: MetricsEndpoint }

/** Starts recording bearer-guard's metrics in this process (once) and returns the `/metrics` renderer. */
export function bearerGuardMetrics(): MetricsEndpoint {
  const existing = store[KEY]
  if (existing) return existing
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true })
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true)
  instrument({ meterProvider: new MeterProvider({ readers: [exporter] }), tracerProvider: false })
  const endpoint: MetricsEndpoint = {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    async render() {
      const { resourceMetrics } = await exporter.collect()
      return serializer.serialize(resourceMetrics)
    },
  }
  store[KEY] = endpoint
  return endpoint
}
