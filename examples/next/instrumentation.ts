/**
 * Next.js calls `register()` once when the server starts: bearer-guard's metrics are recorded from
 * the first request on (the proxy's verifications included), and served by app/metrics/route.ts.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { bearerGuardMetrics } = await import('../shared/metrics')
    bearerGuardMetrics()
  }
}
