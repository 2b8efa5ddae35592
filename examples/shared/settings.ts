/**
 * What every resource service example reads from its environment, in one place so the framework
 * files stay short: where it listens, which auth service it trusts, and how it learns revocations.
 *
 *   --port / PORT            port on 127.0.0.1
 *   --auth-url / AUTH_URL    the auth service (= the token issuer), default http://127.0.0.1:8001
 *   API_AUDIENCE             the `aud` this API accepts, default `demo-api`
 *   AUTH_SECRET_KEY          the seed's HS256 mode: verify with the shared secret instead of JWKS
 *   REDIS_URL                read revoked jtis from Redis instead of polling the auth service
 *   REVOCATION_POLL_MS       poll interval without Redis, default 1000
 */
import { parseArgs } from 'node:util'
import type { RevocationStore, VerifierOptions } from 'bearer-guard'
import { createPolledRevocationStore } from './polled-revocations' // no extension: shared with the Next.js app (Turbopack)

export interface ResourceSettings {
  port: number
  /** The auth service's URL, which is also the `iss` of its tokens. */
  authUrl: string
  audience: string
  /** `{}` (keys come from the issuer's discovery document and JWKS), or the seed's `{ secret }`. */
  keySource: Pick<VerifierOptions & { secret?: string }, 'secret'>
  revocation: RevocationStore
}

export function resourceSettings(
  defaultPort: number,
  env: Record<string, string | undefined> = process.env,
): ResourceSettings {
  // strict: false so frameworks' own flags (if any) pass through
  const { values } = parseArgs({
    options: { port: { type: 'string' }, 'auth-url': { type: 'string' } },
    strict: false,
  })
  const url = String(values['auth-url'] ?? env.AUTH_URL ?? 'http://127.0.0.1:8001')
  const authUrl = url.replace(/\/+$/, '') // the issuer has no trailing slash
  return {
    port: Number(values.port ?? env.PORT ?? defaultPort),
    authUrl,
    audience: env.API_AUDIENCE || 'demo-api',
    keySource: env.AUTH_SECRET_KEY ? { secret: env.AUTH_SECRET_KEY } : {},
    revocation: env.REDIS_URL
      ? redisRevocations(env.REDIS_URL)
      : createPolledRevocationStore({
          url: `${authUrl}/revocations`,
          interval: Number(env.REVOCATION_POLL_MS || 1000),
        }),
  }
}

/** bearer-guard/redis, loaded only when REDIS_URL is set (ioredis is an optional dependency). */
function redisRevocations(url: string): RevocationStore {
  const ready = Promise.all([import('ioredis'), import('bearer-guard/redis')]).then(
    ([{ Redis }, { createRedisRevocationStore }]) => {
      const client = new Redis(url)
      return { client, store: createRedisRevocationStore({ client }) }
    },
  )
  return {
    isRevoked: async (jti, claims) => (await ready).store.isRevoked(jti, claims),
    revoke: async (jti, expiresAt) => (await ready).store.revoke(jti, expiresAt),
    async close() {
      const { client, store } = await ready
      await store.close?.() // closes its own subscriber connection, not our client
      await client.quit()
    },
  }
}
