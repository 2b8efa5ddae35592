/**
 * The seed's resource service (§四.2) with Koa 3 and bearer-guard.
 *
 *   GET /            public
 *   GET /users/me    any valid access token
 *   GET /admin/data  role `admin`
 *   GET /metrics     bearer-guard's metrics, Prometheus text (examples/shared/metrics.ts)
 *
 * Run: `node --import tsx examples/koa/server.ts --port 3003 --auth-url http://127.0.0.1:8001`
 *
 * Koa has no router built in; the tiny `route()` below stands in for @koa/router, whose
 * `router.get(path, ...middleware)` takes the same middleware.
 */
import cors from '@koa/cors'
import Koa, { type Middleware } from 'koa'
import { createVerifier } from 'bearer-guard'
import { requireAuth, requireRole } from 'bearer-guard/koa'
import { bearerGuardMetrics } from '../shared/metrics.js'
import { resourceSettings } from '../shared/settings.js'

const env = resourceSettings(3003)
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

const app = new Koa()

// The browser app (examples/web) calls from another origin: allow exactly that one (CORS_ORIGIN).
// First in the stack, so preflights are answered and 401/403 answers carry the headers too.
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

/** Runs `middleware` in order for `GET path`; other requests go on down the stack. */
function route(path: string, ...middleware: Middleware[]): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== path) return next()
    const run = (i: number): Promise<void> =>
      Promise.resolve(middleware[i]?.(ctx, () => run(i + 1)))
    await run(0)
  }
}

app.use(
  route('/metrics', async (ctx) => {
    ctx.type = metrics.contentType
    ctx.body = await metrics.render()
  }),
)

app.use(
  route('/', (ctx) => {
    ctx.body = { message: 'Welcome to the Koa resource service!' }
  }),
)

// requireAuth sets `ctx.state.auth`; on failure it answers 401/400 and stops the chain.
app.use(
  route('/users/me', requireAuth(verifier), (ctx) => {
    ctx.body = { username: ctx.state.auth!.subject, roles: ctx.state.auth!.roles }
  }),
)

app.use(
  route('/admin/data', requireAuth(verifier), requireRole('admin'), (ctx) => {
    ctx.body = {
      message: `Welcome, Admin ${ctx.state.auth!.subject}! Here is sensitive data.`,
      data: [1, 2, 3],
    }
  }),
)

app.listen(env.port, '127.0.0.1', () => {
  console.log(`[koa] listening on http://127.0.0.1:${env.port}, trusting ${env.authUrl}`)
})
