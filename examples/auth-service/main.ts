/**
 * Runs the auth service: `node --import tsx examples/auth-service/main.ts [--port 8001]`.
 *
 * Environment (all optional): PORT, ISSUER, API_AUDIENCE, ACCESS_TOKEN_TTL, SHORT_ACCESS_TOKEN_TTL,
 * REFRESH_TOKEN_TTL, DATABASE_FILE, RATE_LIMIT_PER_MINUTE, KEY_ROTATION_INTERVAL,
 * AUTH_SECRET_KEY (the seed's HS256 mode), REDIS_URL (share revoked jtis through Redis),
 * REFRESH_TOKEN_TRANSPORT (`cookie` for the browser app, which it then serves at /app/; WEB_APP_DIR,
 * WEB_APIS), API_RESOURCES (RFC 8707 resources besides API_AUDIENCE), ACCESS_TOKEN_FORMAT
 * (`jwt` or `opaque`), INTROSPECTION_CLIENTS (`id:secret,…`, who may call /introspect),
 * DPOP_SIGNING_ALGS, DPOP_PROOF_MAX_AGE, DPOP_NONCE, DPOP_NONCE_SECRET, DPOP_NONCE_LIFETIME.
 *
 * `kill -USR2 <pid>` rotates the signing key now (the demo uses it).
 */
import { parseArgs } from 'node:util'
import { startAuthService } from './app.js'
import { configFromEnv } from './config.js'
import type { RevokedJti } from './store.js'

const { values } = parseArgs({ options: { port: { type: 'string' } } })
const config = configFromEnv()
const port = Number(values.port ?? process.env.PORT ?? 8001)

// With REDIS_URL, every revoked jti is also written to Redis, where the resource services'
// bearer-guard verifiers look it up (createRedisRevocationStore). Without it they poll /revocations.
let publishRevocations: ((revoked: RevokedJti[]) => Promise<void>) | undefined
let closeRedis = async () => {}
if (config.redisUrl) {
  const { Redis } = await import('ioredis')
  const { createRedisRevocationStore } = await import('bearer-guard/redis')
  const client = new Redis(config.redisUrl)
  const redis = createRedisRevocationStore({ client })
  publishRevocations = async (revoked) => {
    for (const { jti, exp } of revoked) await redis.revoke(jti, new Date(exp * 1000))
  }
  closeRedis = async () => {
    await redis.close?.()
    await client.quit()
  }
}

const service = await startAuthService(config, { port, publishRevocations })
const mode = config.secret ? 'HS256 shared secret' : `ES256, key ${service.keys.activeKid}`
config.log(`listening on ${service.url} (issuer ${service.issuer}, ${mode}, ${config.accessTokenFormat} access tokens)`)
if (config.refreshTokenTransport === 'cookie') {
  config.log(`refresh tokens in an HttpOnly cookie; the browser app is at ${service.issuer}/app/`)
}

process.on('SIGUSR2', () => {
  const longest = Math.max(...Object.values(config.clients).map((c) => c.accessTokenTtl)) + 60
  service.keys.rotate(longest).then(
    () => config.log(`signing key rotated, now ${service.keys.activeKid}`),
    (err: Error) => config.log(`key rotation refused: ${err.message}`),
  )
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([service.close(), closeRedis()]).finally(() => process.exit(0))
  })
}
