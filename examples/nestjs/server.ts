/**
 * The seed's resource service (§四.2) with NestJS 12 (Express platform) and bearer-guard.
 *
 *   GET /            public
 *   GET /users/me    any valid access token
 *   GET /admin/data  role `admin`
 *   GET /metrics     bearer-guard's metrics, Prometheus text (examples/shared/metrics.ts)
 *
 * Run (the tsconfig beside this file gives tsx the decorators):
 *   TSX_TSCONFIG_PATH=examples/nestjs/tsconfig.json \
 *     node --import tsx examples/nestjs/server.ts --port 3006 --auth-url http://127.0.0.1:8001
 */
import { Controller, Get, Header, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { createVerifier } from 'bearer-guard'
import { Auth, BearerGuardModule, Public, Roles, type AuthContext } from 'bearer-guard/nestjs'
import { bearerGuardMetrics } from '../shared/metrics.js'
import { resourceSettings } from '../shared/settings.js'

const env = resourceSettings(3006)
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

@Controller()
class ResourceController {
  @Public() // every other route needs a valid token (the guard is global, below)
  @Get()
  root() {
    return { message: 'Welcome to the NestJS resource service!' }
  }

  @Public()
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics() {
    return metrics.render()
  }

  @Get('users/me')
  me(@Auth() auth: AuthContext) {
    return { username: auth.subject, roles: auth.roles }
  }

  @Roles('admin')
  @Get('admin/data')
  adminData(@Auth() auth: AuthContext) {
    return { message: `Welcome, Admin ${auth.subject}! Here is sensitive data.`, data: [1, 2, 3] }
  }
}

@Module({
  // global: true puts AuthGuard on every route (an APP_GUARD); @Public() opens one
  imports: [BearerGuardModule.forRoot(verifier, { global: true })],
  controllers: [ResourceController],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] })
app.enableShutdownHooks()
// The browser app (examples/web) calls from another origin: allow exactly that one (CORS_ORIGIN).
if (env.cors) {
  app.enableCors({
    origin: env.cors.origin,
    methods: env.cors.methods,
    allowedHeaders: env.cors.allowedHeaders,
    exposedHeaders: env.cors.exposedHeaders,
    maxAge: env.cors.maxAge,
  })
}
await app.listen(env.port, '127.0.0.1')
console.log(`[nestjs] listening on http://127.0.0.1:${env.port}, trusting ${env.authUrl}`)
