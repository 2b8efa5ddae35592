/**
 * What every resource service example reads from its environment, in one place so the framework
 * files stay short: where it listens, which auth service it trusts, and how it learns revocations.
 *
 *   --port / PORT            port on 127.0.0.1
 *   --auth-url / AUTH_URL    the auth service (= the token issuer), default http://127.0.0.1:8001
 *   API_AUDIENCE             the `aud` this API accepts, default `demo-api`
 *   AUTH_SECRET_KEY          the seed's HS256 mode: verify with the shared secret instead of JWKS
 *   REDIS_URL                read revoked jtis from Redis instead of polling the auth service, and
 *                            share seen DPoP proofs there (one instance's proof is refused by all)
 *   REVOCATION_POLL_MS       poll interval without Redis, default 1000
 *   CORS_ORIGIN              the browser app's origin (examples/web, served by the auth service):
 *                            the one origin allowed to call this API from a page; unset: no CORS
 *   INTROSPECTION_CLIENT     `id:secret` of this API at the auth service's /introspect (RFC 7662):
 *                            opaque tokens are introspected (the auth service's ACCESS_TOKEN_FORMAT=opaque)
 *   INTROSPECTION_USE        `opaque` (default: JWTs still verify locally) or `always` (every token
 *                            is introspected: a revocation shows at once)
 */
import { parseArgs } from 'node:util'
import type { IntrospectionOptions, ReplayStore, RevocationStore } from 'bearer-guard'
import { createPolledRevocationStore } from './polled-revocations' // no extension: shared with the Next.js app (Turbopack)

export interface ResourceSettings {
  port: number
  /** The auth service's URL, which is also the `iss` of its tokens. */
  authUrl: string
  audience: string
  /**
   * `{}` (keys come from the issuer's discovery document and JWKS), or the seed's `{ secret }`;
   * with `INTROSPECTION_CLIENT`, also `introspection` (the endpoint found by discovery too).
   */
  keySource: { secret?: string; introspection?: IntrospectionOptions }
  revocation: RevocationStore
  /**
   * DPoP (RFC 9449), `'allowed'`: a DPoP-bound token works only with a proof of its key (and never
   * as a Bearer token), unbound tokens still work as Bearer. Seen proofs are kept in Redis with
   * `REDIS_URL` (shared by every instance), else in the verifier's memory.
   */
  dpop: { mode: 'allowed'; replay?: ReplayStore }
  /** CORS for the browser app, or undefined (no CORS headers at all). */
  cors?: CorsSettings
}

/**
 * What each resource service tells browsers (with its framework's usual CORS package: cors,
 * @fastify/cors, @koa/cors, hono/cors; Next.js in proxy.ts). No credentials: the token travels in
 * the Authorization header, never in a cookie, so no cookie is ever sent to or accepted from a page.
 */
export interface CorsSettings {
  /** The only origin allowed, e.g. `http://127.0.0.1:8001`. Never `*`. */
  origin: string
  methods: string[]
  /** Request headers the page may send: `Authorization` (and `DPoP`, RFC 9449, for proofs). */
  allowedHeaders: string[]
  /**
   * Response headers the page may read: `WWW-Authenticate`, so the client can tell an expired token
   * (refresh) from any other 401 or 403, and `DPoP-Nonce` (RFC 9449 §8), for DPoP clients.
   */
  exposedHeaders: string[]
  /** How long (seconds) a browser may cache a preflight answer. */
  maxAge: number
}

/** `CORS_ORIGIN` → the CORS settings, or undefined when unset. Throws on anything but an origin. */
export function corsSettings(origin: string | undefined): CorsSettings | undefined {
  if (!origin) return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(origin)
  } catch {
    /* reported below */
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
    throw new Error(`CORS_ORIGIN must be one origin such as http://127.0.0.1:8001, got ${origin}`)
  }
  return {
    origin,
    methods: ['GET'],
    allowedHeaders: ['Authorization', 'DPoP'],
    exposedHeaders: ['WWW-Authenticate', 'DPoP-Nonce'],
    maxAge: 600,
  }
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
  const redis = env.REDIS_URL ? redisStores(env.REDIS_URL) : undefined
  return {
    port: Number(values.port ?? env.PORT ?? defaultPort),
    authUrl,
    audience: env.API_AUDIENCE || 'demo-api',
    keySource: {
      ...(env.AUTH_SECRET_KEY ? { secret: env.AUTH_SECRET_KEY } : {}),
      ...(env.INTROSPECTION_CLIENT ? { introspection: introspectionSettings(env.INTROSPECTION_CLIENT, env.INTROSPECTION_USE) } : {}),
    },
    revocation: redis
      ? redis.revocation
      : createPolledRevocationStore({
          url: `${authUrl}/revocations`,
          interval: Number(env.REVOCATION_POLL_MS || 1000),
        }),
    dpop: redis ? { mode: 'allowed', replay: redis.replay } : { mode: 'allowed' },
    cors: corsSettings(env.CORS_ORIGIN),
  }
}

/** `INTROSPECTION_CLIENT=id:secret` (and `INTROSPECTION_USE`) → the verifier's `introspection` option. */
function introspectionSettings(client: string, use: string | undefined): IntrospectionOptions {
  const colon = client.indexOf(':')
  if (colon < 1) throw new Error('INTROSPECTION_CLIENT must be id:secret')
  if (use !== undefined && use !== 'opaque' && use !== 'always') throw new Error('INTROSPECTION_USE must be opaque or always')
  return { clientId: client.slice(0, colon), clientSecret: client.slice(colon + 1), use: use ?? 'opaque' }
}

/**
 * bearer-guard/redis, loaded only when REDIS_URL is set (ioredis is an optional dependency): the
 * revocation store and the DPoP replay store, on one client.
 */
function redisStores(url: string): { revocation: RevocationStore; replay: ReplayStore } {
  const ready = Promise.all([import('ioredis'), import('bearer-guard/redis')]).then(
    ([{ Redis }, { createRedisRevocationStore, createRedisReplayStore }]) => {
      const client = new Redis(url)
      return { client, store: createRedisRevocationStore({ client }), replay: createRedisReplayStore({ client }) }
    },
  )
  const replay: ReplayStore = { mark: async (id, expiresAt) => (await ready).replay.mark(id, expiresAt) }
  return { revocation: redisRevocations(ready), replay }
}

function redisRevocations(
  ready: Promise<{ client: { quit(): Promise<unknown> }; store: RevocationStore }>,
): RevocationStore {
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
