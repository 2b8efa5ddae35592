/**
 * The seed's resource service (§四.2) with Express 5 and bearer-guard.
 *
 *   GET /            public
 *   GET /users/me    any valid access token
 *   GET /admin/data  role `admin`
 *   GET /metrics     bearer-guard's metrics, Prometheus text (examples/shared/metrics.ts)
 *
 * Run: `node --import tsx examples/express/server.ts --port 3001 --auth-url http://127.0.0.1:8001`
 */
import cors from 'cors'
import express from 'express'
import { createVerifier } from 'bearer-guard'
import { requireAuth, requireRole } from 'bearer-guard/express'
import { bearerGuardMetrics } from '../shared/metrics.js'
import { resourceSettings } from '../shared/settings.js'

const env = resourceSettings(3001)
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

const app = express()

// The browser app (examples/web) calls from another origin: allow exactly that one (CORS_ORIGIN).
// Before requireAuth, so preflights are answered and 401/403 answers carry the headers too.
if (env.cors) {
  app.use(
    cors({
      origin: env.cors.origin,
      methods: env.cors.methods,
      allowedHeaders: env.cors.allowedHeaders,
      exposedHeaders: env.cors.exposedHeaders,
      maxAge: env.cors.maxAge,
    }),
  )
}

app.get('/metrics', async (_req, res) => {
  res.type(metrics.contentType).send(await metrics.render())
})

app.get('/', (_req, res) => {
  res.json({ message: 'Welcome to the Express resource service!' })
})

// Everything registered after this line needs a valid token; `req.auth` holds its AuthContext.
app.use(requireAuth(verifier))

app.get('/users/me', (req, res) => {
  res.json({ username: req.auth!.subject, roles: req.auth!.roles })
})

app.get('/admin/data', requireRole('admin'), (req, res) => {
  res.json({
    message: `Welcome, Admin ${req.auth!.subject}! Here is sensitive data.`,
    data: [1, 2, 3],
  })
})

app.listen(env.port, '127.0.0.1', () => {
  console.log(`[express] listening on http://127.0.0.1:${env.port}, trusting ${env.authUrl}`)
})
