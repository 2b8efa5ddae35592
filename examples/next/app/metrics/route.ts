/** GET /metrics — bearer-guard's metrics, Prometheus text (recording starts in instrumentation.ts). */
import { bearerGuardMetrics } from '../../../shared/metrics'

export const dynamic = 'force-dynamic'

export async function GET() {
  const metrics = bearerGuardMetrics()
  return new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType } })
}
