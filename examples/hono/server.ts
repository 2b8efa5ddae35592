/**
 * The seed's resource service (§四.2) with Hono 4 and bearer-guard (served by @hono/node-server;
 * the same `app` runs unchanged on edge runtimes).
 *
 *   GET /            public
 *   GET /users/me    any valid access token
 *   GET /admin/data  role `admin`
 *   GET /metrics     bearer-guard's metrics, Prometheus text (examples/shared/metrics.ts)
 *
 * Run: `node --import tsx examples/hono/server.ts --port 3004 --auth-url http://127.0.0.1:8001`
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { createVerifier } from 'bearer-guard'
import { requireAuth, requireRole } from 'bearer-guard/hono'
import { bearerGuardMetrics } from '../shared/metrics.js'
import { resourceSettings } from '../shared/settings.js'

const env = resourceSettings(3004)
const metrics = bearerGuardMetrics() // before the verifier's first request

// One verifier per process: it finds the auth service's keys (discovery → JWKS) and caches them.
const verifier = createVerifier({
  issuer: env.authUrl, // trust tokens issued by the auth service…
  audience: env.audience, // …for this API…
  tokenType: 'at+jwt', // …and only access tokens (RFC 9068), never refresh or ID tokens
  ...env.keySource, // the seed's HS256 secret, when AUTH_SECRET_KEY is set
  revocation: env.revocation, // jtis revoked at the auth service
  dpop: env.dpop, // DPoP-bound tokens only with a proof of their key (RFC 9449)
})

const app = new Hono()

// The browser app (examples/web) calls from another origin: allow exactly that one (CORS_ORIGIN).
// Before the routes, so preflights are answered and 401/403 answers carry the headers too.
if (env.cors) {
  app.use(
    cors({
      origin: env.cors.origin,
      allowMethods: env.cors.methods,
      allowHeaders: env.cors.allowedHeaders,
      exposeHeaders: env.cors.exposedHeaders,
      maxAge: env.cors.maxAge,
    }),
  )
}

app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.contentType }))

app.get('/', (c) => c.json({ message: 'Welcome to the Hono resource service!' }))

// requireAuth sets `c.var.auth` (typed); on failure it answers 401/400 and the handler never runs.
const auth = requireAuth(verifier)

app.get('/users/me', auth, (c) => c.json({ username: c.var.auth.subject, roles: c.var.auth.roles }))

app.get('/admin/data', auth, requireRole('admin'), (c) =>
  c.json({
    message: `Welcome, Admin ${c.var.auth.subject}! Here is sensitive data.`,
    data: [1, 2, 3],
  }),
)

serve({ fetch: app.fetch, port: env.port, hostname: '127.0.0.1' }, () => {
  console.log(`[hono] listening on http://127.0.0.1:${env.port}, trusting ${env.authUrl}`)
})
