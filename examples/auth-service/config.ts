/**
 * Settings of the auth service, read once from the environment.
 *
 * Every knob has a safe default so `node --import tsx examples/auth-service/main.ts` just works;
 * the demo and the tests override what they need (short lifetimes, a throwaway database).
 */
import { fileURLToPath } from 'node:url'
import { randomNonceSecret, type DpopSettings } from './dpop.js'
import { resourceProblem } from './resources.js'

type Env = Record<string, string | undefined>

/** A registered OAuth2 client. Public clients (no secret), as the seed's password flow uses. */
export interface ClientConfig {
  /** Lifetime of access tokens issued to this client, in seconds. */
  accessTokenTtl: number
}

export interface AuthServiceConfig {
  /**
   * `iss` of every token and the base of the discovery document. Default: the URL the service
   * listens on (`http://127.0.0.1:<port>`), known only once it listens.
   */
  issuer?: string
  /**
   * `aud` of access tokens when the client names no `resource` (`API_AUDIENCE`, default `demo-api`):
   * the identifier of the API the resource services serve. Always one of `resources`.
   */
  audience: string
  /**
   * The resources (RFC 8707) a client may ask a token for with `resource=`: `audience` plus
   * `API_RESOURCES` (comma-separated absolute URIs, e.g. an MCP server's `https://mcp.example.com/mcp`).
   * The access token's `aud` is the resource asked for; an unknown one is `invalid_target`.
   */
  resources: string[]
  /**
   * `ACCESS_TOKEN_FORMAT`: `jwt` (default; verified locally with the JWKS) or `opaque` (random
   * references, stored hashed with their claims; resource services ask `/introspect`, and `/revoke`
   * takes effect at once). Opaque needs at least one introspection client.
   */
  accessTokenFormat: 'jwt' | 'opaque'
  /**
   * Resource-server clients allowed to call `/introspect` (RFC 7662), `client_id → client_secret`
   * (`INTROSPECTION_CLIENTS=id:secret,…`; secrets of at least 16 characters). None by default.
   */
  introspectionClients: Record<string, string>
  /** DPoP (RFC 9449) at the token endpoints: proof checks, optional server nonces. */
  dpop: DpopSettings
  /** Access-token lifetime of the default client, seconds (`ACCESS_TOKEN_TTL`, default 900). */
  accessTokenTtl: number
  /** Refresh-token lifetime, seconds (`REFRESH_TOKEN_TTL`, default 7 days). */
  refreshTokenTtl: number
  /** Registered clients by `client_id`. A request without `client_id` uses `defaultClientId`. */
  clients: Record<string, ClientConfig>
  defaultClientId: string
  /**
   * The seed's HS256 shared-secret mode (`AUTH_SECRET_KEY`). Without it, tokens are signed with
   * rotating ES256 keys published at /jwks.json — resource services then hold no secret at all.
   */
  secret?: string
  /** SQLite file for refresh tokens and revoked jtis (`DATABASE_FILE`); `':memory:'` in tests. */
  databaseFile: string
  /** Token-endpoint requests allowed per client IP and minute (`RATE_LIMIT_PER_MINUTE`). */
  rateLimitPerMinute: number
  /** Rotate the signing key every this many seconds (`KEY_ROTATION_INTERVAL`); 0 = never. */
  keyRotationInterval: number
  /** With `REDIS_URL`, revoked jtis also go to Redis, where resource services read them. */
  redisUrl?: string
  /**
   * How refresh tokens travel (`REFRESH_TOKEN_TRANSPORT`). `body` (the default, for the demo's CLI
   * client): in the JSON token response, and back as a form field or bearer header. `cookie` (for the
   * browser app, examples/web): only in an `HttpOnly; Secure; SameSite=Strict; Path=/refresh_token`
   * cookie that the page's JavaScript never sees; the token endpoints then answer only requests from
   * the app's origin, and the service serves the app at `/app/`.
   */
  refreshTokenTransport: 'body' | 'cookie'
  /** The browser app served at `/app/` in cookie mode. */
  webApp: WebAppConfig
  /** Where log lines go. Never given a password or a token. */
  log: (line: string) => void
}

export interface WebAppConfig {
  /** The built app (`WEB_APP_DIR`, default `examples/web/dist`; `node --import tsx examples/web/build.ts`). */
  dir: string
  /**
   * The resource services the app lets the user call (`WEB_APIS`: `name=url,…`; default: the five
   * examples on their default ports). Their origins are the only ones the page may connect to (CSP).
   */
  apis: { name: string; url: string }[]
}

const DEFAULT_DATABASE = fileURLToPath(new URL('./data/auth.db', import.meta.url))
const DEFAULT_WEB_APP_DIR = fileURLToPath(new URL('../web/dist', import.meta.url))
/** The resource service examples on their default ports (examples/<name>/server.ts, examples/next). */
const DEFAULT_WEB_APIS =
  'express=http://127.0.0.1:3001,fastify=http://127.0.0.1:3002,koa=http://127.0.0.1:3003,' +
  'hono=http://127.0.0.1:3004,next=http://127.0.0.1:3005'

/** Reads the configuration from `env` (default: `process.env`). Throws on a bad value. */
export function configFromEnv(env: Env = process.env): AuthServiceConfig {
  const accessTokenTtl = seconds(env, 'ACCESS_TOKEN_TTL', 900)
  const secret = env.AUTH_SECRET_KEY || undefined
  const audience = env.API_AUDIENCE || 'demo-api'
  const accessTokenFormat = tokenFormat(env.ACCESS_TOKEN_FORMAT)
  const introspectionClients = clientsList(env.INTROSPECTION_CLIENTS ?? '')
  if (accessTokenFormat === 'opaque' && Object.keys(introspectionClients).length === 0) {
    throw new Error('ACCESS_TOKEN_FORMAT=opaque needs INTROSPECTION_CLIENTS (id:secret,…)')
  }
  return {
    issuer: env.ISSUER || undefined,
    audience,
    resources: [...new Set([audience, ...resourceList(env.API_RESOURCES ?? '')])],
    accessTokenFormat,
    introspectionClients,
    dpop: dpopSettings(env),
    accessTokenTtl,
    refreshTokenTtl: seconds(env, 'REFRESH_TOKEN_TTL', 7 * 24 * 3600),
    clients: {
      'seed-client': { accessTokenTtl },
      // The seed's step 5 edits ACCESS_TOKEN_EXPIRE_MINUTES to 0.1 and restarts the service to watch
      // a token expire. A second client with a short lifetime shows the same without a restart.
      'short-lived': { accessTokenTtl: seconds(env, 'SHORT_ACCESS_TOKEN_TTL', 3) },
    },
    defaultClientId: 'seed-client',
    secret: secret === undefined ? undefined : checkSecret(secret),
    databaseFile: env.DATABASE_FILE || DEFAULT_DATABASE,
    rateLimitPerMinute: seconds(env, 'RATE_LIMIT_PER_MINUTE', 30),
    keyRotationInterval: seconds(env, 'KEY_ROTATION_INTERVAL', 0),
    redisUrl: env.REDIS_URL || undefined,
    refreshTokenTransport: transport(env.REFRESH_TOKEN_TRANSPORT),
    webApp: {
      dir: env.WEB_APP_DIR || DEFAULT_WEB_APP_DIR,
      apis: webApis(env.WEB_APIS || DEFAULT_WEB_APIS),
    },
    log: (line) => console.log(`[auth-service] ${line}`),
  }
}

/**
 * HS256 needs a key at least as long as its hash: 32 bytes (RFC 7518 §3.2). The seed's default
 * `your-super-secret-key-for-auth` has 30 and bearer-guard rejects it, so we refuse it here too.
 */
export function checkSecret(secret: string): string {
  if (Buffer.byteLength(secret, 'utf8') < 32) {
    throw new Error('AUTH_SECRET_KEY must be at least 32 bytes for HS256 (RFC 7518 §3.2)')
  }
  return secret
}

/** `API_RESOURCES`: comma-separated absolute URIs without fragments (RFC 8707 §2). */
export function resourceList(raw: string): string[] {
  return raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((resource) => {
      const problem = resourceProblem(resource)
      if (problem) throw new Error(`API_RESOURCES: ${problem}: ${JSON.stringify(resource)}`)
      return resource
    })
}

/** `INTROSPECTION_CLIENTS`: `id:secret,…`. */
export function clientsList(raw: string): Record<string, string> {
  const clients: Record<string, string> = {}
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [id = '', secret = ''] = entry.split(/:(.*)/s)
    if (!/^[\w.-]{1,64}$/.test(id) || secret.length < 16 || secret.length > 256) {
      throw new Error('INTROSPECTION_CLIENTS: expected id:secret,… (secrets of 16 to 256 characters)')
    }
    clients[id] = secret
  }
  return clients
}

function tokenFormat(raw: string | undefined): 'jwt' | 'opaque' {
  if (raw === undefined || raw === '' || raw === 'jwt') return 'jwt'
  if (raw === 'opaque') return 'opaque'
  throw new Error('ACCESS_TOKEN_FORMAT must be jwt or opaque')
}

/** The DPoP proof algorithms accepted by default: asymmetric ones that jose and the clients know. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256']

function dpopSettings(env: Env): DpopSettings {
  const algorithms = env.DPOP_SIGNING_ALGS
    ? env.DPOP_SIGNING_ALGS.split(',').map((a) => a.trim()).filter(Boolean)
    : DPOP_ALGORITHMS
  const nonceOn = flag(env, 'DPOP_NONCE')
  const secret = env.DPOP_NONCE_SECRET
  if (secret !== undefined && secret !== '' && Buffer.byteLength(secret) < 32) {
    throw new Error('DPOP_NONCE_SECRET must be at least 32 bytes')
  }
  return {
    algorithms,
    maxAge: seconds(env, 'DPOP_PROOF_MAX_AGE', 60),
    nonce: nonceOn && {
      secret: secret ? new TextEncoder().encode(secret) : randomNonceSecret(),
      lifetime: Math.max(1, seconds(env, 'DPOP_NONCE_LIFETIME', 300)),
    },
  }
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false
  if (raw === '1' || raw === 'true') return true
  throw new Error(`${name} must be 1/true or 0/false`)
}

function transport(raw: string | undefined): 'body' | 'cookie' {
  if (raw === undefined || raw === '' || raw === 'body') return 'body'
  if (raw === 'cookie') return 'cookie'
  throw new Error('REFRESH_TOKEN_TRANSPORT must be cookie or body')
}

/** `name=url,…` → `[{ name, url }]`; names are short words, URLs http(s) origins without a path. */
export function webApis(raw: string): { name: string; url: string }[] {
  return raw.split(',').map((entry) => {
    const [name = '', url = ''] = entry.trim().split(/=(.*)/s)
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      /* reported below */
    }
    if (
      !/^[a-z][\w-]{0,30}$/i.test(name) ||
      !parsed ||
      !/^https?:$/.test(parsed.protocol) ||
      parsed.origin !== url.replace(/\/+$/, '')
    ) {
      throw new Error(`WEB_APIS: expected name=http(s)://host:port, got ${JSON.stringify(entry)}`)
    }
    return { name, url: parsed.origin }
  })
}

function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0`)
  return value
}
