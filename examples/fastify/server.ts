/**
 * The seed's resource service (§四.2) with Fastify 5 and bearer-guard.
 *
 *   GET /            public
 *   GET /users/me    any valid access token
 *   GET /admin/data  role `admin`
 *   GET /metrics     bearer-guard's metrics, Prometheus text (examples/shared/metrics.ts)
 *
 * Run: `node --import tsx examples/fastify/server.ts --port 3002 --auth-url http://127.0.0.1:8001`
 */
import cors from '@fastify/cors'
import Fastify from 'fastify'
import { createVerifier } from 'bearer-guard'
import bearerGuard, { requireRole } from 'bearer-guard/fastify'
import { bearerGuardMetrics } from '../shared/metrics.js'
import { resourceSettings } from '../shared/settings.js'

const env = resourceSettings(3002)
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

const app = Fastify()
// The browser app (examples/web) calls from another origin: allow exactly that one (CORS_ORIGIN).
// The plugin answers preflights itself and adds its headers in onRequest, so 401/403 carry them.
if (env.cors) {
  await app.register(cors, {
    origin: env.cors.origin,
    methods: env.cors.methods,
    allowedHeaders: env.cors.allowedHeaders,
    exposedHeaders: env.cors.exposedHeaders,
    maxAge: env.cors.maxAge,
  })
}
// The plugin declares `request.auth` and adds `app.requireAuth()`, a preHandler hook.
await app.register(bearerGuard, { verifier })

app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()))

app.get('/', async () => ({ message: 'Welcome to the Fastify resource service!' }))

app.get('/users/me', { preHandler: app.requireAuth() }, async (request) => ({
  username: request.auth!.subject,
  roles: request.auth!.roles,
}))

app.get(
  '/admin/data',
  { preHandler: [app.requireAuth(), requireRole('admin')] },
  async (request) => ({
    message: `Welcome, Admin ${request.auth!.subject}! Here is sensitive data.`,
    data: [1, 2, 3],
  }),
)

await app.listen({ port: env.port, host: '127.0.0.1' })
console.log(`[fastify] listening on http://127.0.0.1:${env.port}, trusting ${env.authUrl}`)
