/**
 * The examples' `/metrics` (examples/shared/metrics.ts: bearer-guard/otel through the OpenTelemetry
 * Prometheus exporter) and the demo's summary of it (examples/shared/metrics-summary.ts), in process.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { bearerGuardMetrics } from '../../examples/shared/metrics.js'
import { formatSummary, summarize } from '../../examples/shared/metrics-summary.js'
import { rejection } from '../helpers/rejection.js'

describe('the examples’ /metrics', () => {
  it('serves bearer-guard’s metrics as Prometheus text, which the demo summarizes per framework', async () => {
    const metrics = bearerGuardMetrics()
    expect(bearerGuardMetrics()).toBe(metrics)
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    const verifier = createVerifier(issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch }, logger: false }))
    const token = await issuer.sign()
    await verifier.verifyAccessToken(token)
    await verifier.verifyAccessToken(token)
    await verifier.verifyAccessToken(token)
    await rejection(verifier.verifyAccessToken(await issuer.expired()))
    await rejection(verifier.authenticate(undefined))

    const text = await metrics.render()
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(text).toMatch(/^# HELP bearer_guard_verifications_total /m)
    expect(text).toMatch(/^bearer_guard_verification_duration\w*_bucket\{.*le="1"\} \d+/m)
    const summary = summarize(text)
    expect(summary).toEqual({
      verifications: { valid: 3, refused: 2 },
      refusedBy: { invalid_token: 1, missing_token: 1 },
      cacheHits: 2,
      cacheMisses: 3,
      jwksFetches: { fetched: 1 },
    })
    expect(formatSummary('express', summary)).toBe(
      '  express  verifications: refused 2, valid 3 · refused by code: invalid_token 1, missing_token 1 · cache hits 40% (2/5) · JWKS fetches: fetched 1',
    )
    await issuer.close()
  })
})
