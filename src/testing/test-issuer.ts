/**
 * `createTestIssuer`: a fake authorization server for tests — keys, signed access tokens, and its
 * discovery document and JWKS served through msw, a Web handler, `fetch`, or a real loopback server.
 *
 * Subpath export `'bearer-guard/testing'`.
 *
 * @module bearer-guard/testing
 */
import { base64url, CompactSign, exportJWK, exportSPKI, generateKeyPair, type JWSHeaderParameters } from 'jose'
import type { ZodType } from 'zod'
import type { Algorithm, IssuerOptions, JWK } from '../core/types.js'
import { toSeconds } from './duration.js'
import type { LoopbackServer } from './node-server.js'

/** Algorithms a test issuer signs with: every algorithm the core verifies. */
export type TestAlgorithm = Algorithm

/** Options of {@link createTestIssuer}. */
export interface TestIssuerOptions {
  /**
   * The issuer URL, used as `iss` and in the discovery document exactly as given.
   * Default: `'https://issuer.test'`. A non-URL issuer (`'auth-service'`) works for signing and
   * `verifierOptions('keys')`, but has nothing to serve. With `listen: true`, a path (`'/realms/demo'`) appended to the
   * loopback server's origin.
   */
  issuer?: string
  /** Signing algorithm. Default: `'RS256'`. */
  algorithm?: TestAlgorithm
  /** Default `aud` of signed tokens and the `audience` of `verifierOptions()`. Default: `'https://api.test'`. */
  audience?: string | string[]
  /** `kid` of the first key. Default: a random `test-…` value. Keys made by `rotateKeys()` get `<kid>-2`, `<kid>-3`, … */
  kid?: string
  /** HS* only: the shared secret. Default: a random base64url string of the hash size. */
  secret?: string
  /**
   * Start a real `node:http` server on `127.0.0.1` (free port) first and use its origin as the issuer
   * URL, so discovery and JWKS are reachable over the network with no mocking. Node only. Stop it with
   * `issuer.close()`. Default: `false`.
   */
  listen?: boolean
}

/** Per-token options of {@link TestIssuer.sign}. Everything here can be overridden by `claims`. */
export interface SignOptions {
  /** Lifetime from now: seconds or a duration string (`'5m'`, `'-1h'`). Default: `'5m'`. */
  expiresIn?: number | string
  /** `aud` of this token. Default: the issuer's audience. */
  audience?: string | string[]
  /** `iss` of this token. Default: the issuer URL. */
  issuer?: string
  /** `sub` of this token. Default: `'user-123'`. */
  subject?: string
  /** `nbf`: epoch seconds, a `Date`, or a duration string relative to now (`'1m'`). Absent by default. */
  notBefore?: number | string | Date
  /** `iat`: epoch seconds or a `Date`. Default: now. */
  issuedAt?: number | Date
  /** `kid` header; `undefined` removes it. Default: the current key's `kid`. */
  kid?: string | undefined
  /** `typ` header; `undefined` removes it. Default: `'at+jwt'` (RFC 9068). */
  typ?: string | undefined
  /**
   * `alg` to sign with. Default: the issuer's algorithm. Hostile values are allowed on purpose:
   * `'none'` gives an unsigned token; an HS* algorithm on an asymmetric issuer signs with the
   * public key's SPKI PEM as the HMAC secret (the classic key-confusion attack); any other algorithm
   * signs with a throw-away key that is never published.
   */
  algorithm?: TestAlgorithm | 'none'
  /** Extra or overriding protected header parameters (`{ jku: '…' }`, `{ kid: undefined }`). */
  header?: Record<string, unknown>
}

/** Which key source `verifierOptions()` configures. */
export type VerifierMode = 'keys' | 'jwks' | 'discovery'

/** How the served endpoints misbehave, set with {@link TestIssuer.simulate}. */
export type Fault =
  | 'timeout'
  | 'bad-json'
  | 'oversized'
  | number
  | ((request: Request) => Response | Promise<Response>)

/** Requests the issuer's endpoints have answered, over every transport. */
export interface IssuerRequestCounts {
  discovery: number
  jwks: number
}

/** A test issuer. See {@link createTestIssuer}. */
export interface TestIssuer {
  /** The issuer URL (`iss`), exactly as configured. */
  readonly issuer: string
  /** Default audience. */
  readonly audience: string | string[]
  /** Signing algorithm. */
  readonly algorithm: TestAlgorithm
  /** `kid` of the current signing key. */
  readonly kid: string
  /** HS* issuers: the current shared secret; otherwise `undefined`. */
  readonly secret: string | undefined
  /** Where the JWKS is served: `<issuer>/.well-known/jwks.json`. Throws for a non-URL issuer. */
  readonly jwksUri: string
  /** OIDC discovery URL: `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUri: string
  /** RFC 8414 metadata URL: `<origin>/.well-known/oauth-authorization-server<path>`. */
  readonly metadataUri: string
  /** Snapshot of the request counters. */
  readonly requests: IssuerRequestCounts
  /** The loopback server of a `listen: true` issuer. */
  readonly server: LoopbackServer | undefined

  /** Signs an access token. `claims` override the defaults; `{ exp: undefined }` removes `exp`. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /** A token that expired ten minutes ago (issued an hour ago). */
  expired(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /** The published JWKS: current and previous public keys (`kid`, `alg`, `use: 'sig'`). A copy. */
  jwks(): { keys: JWK[] }
  /** The discovery document (OIDC and RFC 8414 share it). */
  discovery(): Record<string, unknown>
  /**
   * Makes a new current signing key. The old public key stays published unless
   * `keepPrevious: false` (which simulates a key removed from the JWKS).
   */
  rotateKeys(options?: { keepPrevious?: boolean }): Promise<{ kid: string }>
  /**
   * Options for `createVerifier`/`requireAuth` that trust this issuer: `issuer`, `audience`,
   * `algorithms` and a key source per `mode` (`'keys'`: the public keys, no network; `'jwks'`:
   * `jwksUri`; `'discovery'`: nothing, found from the issuer). HS* issuers always give `secret`.
   * `overrides` are merged last.
   */
  verifierOptions<S extends ZodType | undefined = undefined>(
    mode?: VerifierMode,
    overrides?: Partial<IssuerOptions<S>>,
  ): IssuerOptions<S>
  /**
   * msw 2 handlers serving discovery and JWKS at the issuer URL. msw is imported lazily, and these
   * types do not import it (a project without msw type-checks): `Handler` is msw's handler type,
   * inferred where the handlers go, as in `server.use(...(await issuer.mswHandlers()))`.
   */
  mswHandlers<Handler = never>(): Promise<Handler[]>
  /** Web handler serving discovery (OIDC and RFC 8414) and JWKS; matches on the path only. */
  handler(request: Request): Promise<Response>
  /** The handler typed as `fetch` (for `jwks: { fetch: issuer.fetch }`). */
  readonly fetch: typeof fetch
  /**
   * Makes the served endpoints fail: `'timeout'` (no answer until the request is aborted, at most
   * 60 s), `'bad-json'`, `'oversized'` (a 1 MiB body), an HTTP status, or a custom responder.
   * `null` restores normal answers.
   */
  simulate(target: 'jwks' | 'discovery' | 'all', fault: Fault | null): void
  /**
   * Serves the handler on a new loopback server (Node only). The tokens' `iss` stays the issuer
   * URL; for an issuer whose URL *is* the server, use `createTestIssuer({ listen: true })`.
   */
  listen(): Promise<LoopbackServer>
  /** Stops every server of this issuer and pending simulated timeouts. */
  close(): Promise<void>
}

interface KeyEntry {
  kid: string
  alg: TestAlgorithm
  /** Signing key: a private `CryptoKey`, or the HMAC secret bytes. */
  signingKey: CryptoKey | Uint8Array
  publicJwk: JWK | undefined
  publicKey: CryptoKey | undefined
  secret: string | undefined
}

const DEFAULT_ISSUER = 'https://issuer.test'
const DEFAULT_AUDIENCE = 'https://api.test'
const DEFAULT_SUBJECT = 'user-123'
const MAX_TIMEOUT_MS = 60_000
const encoder = new TextEncoder()

/**
 * Creates a test issuer: generates a key pair (or secret), signs access tokens and serves its
 * discovery document and JWKS, so protected routes can be tested without an authorization server.
 *
 * > [!WARNING]
 * > For tests only. Keys live in memory and tokens are deliberately easy to forge.
 *
 * @example Static keys: no network at all.
 * ```ts
 * import { createTestIssuer } from 'bearer-guard/testing'
 * import { createVerifier } from 'bearer-guard'
 *
 * const issuer = await createTestIssuer()
 * const verifier = createVerifier(issuer.verifierOptions())
 * const auth = await verifier.verifyAccessToken(await issuer.sign({ roles: ['admin'] }))
 * ```
 *
 * @example Discovery and JWKS over msw.
 * ```ts
 * const issuer = await createTestIssuer({ algorithm: 'ES256' })
 * server.use(...(await issuer.mswHandlers()))
 * const verifier = createVerifier(issuer.verifierOptions('discovery'))
 * ```
 *
 * @example A real HTTP issuer on 127.0.0.1.
 * ```ts
 * const issuer = await createTestIssuer({ listen: true })
 * const verifier = createVerifier(issuer.verifierOptions('jwks'))
 * // ...
 * await issuer.close()
 * ```
 *
 * @param options Issuer URL, algorithm, default audience, first `kid`, `listen`.
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const algorithm = options.algorithm ?? 'RS256'
  if (!SUPPORTED.has(algorithm)) {
    throw new TypeError(`"algorithm" must be one of ${[...SUPPORTED].join(', ')}, got '${String(algorithm)}'`)
  }
  const audience = options.audience ?? DEFAULT_AUDIENCE
  const baseKid = options.kid ?? `test-${randomHex(6)}`
  const keys: KeyEntry[] = [await makeKey(algorithm, baseKid, options.secret)]
  const foreignKeys = new Map<string, Promise<CryptoKey | Uint8Array>>()
  const faults: { jwks: Fault | null; discovery: Fault | null } = { jwks: null, discovery: null }
  const counts: IssuerRequestCounts = { discovery: 0, jwks: 0 }
  const servers: LoopbackServer[] = []
  const pending = new Set<() => void>()

  let issuerUrl = options.issuer ?? DEFAULT_ISSUER
  let mainServer: LoopbackServer | undefined
  if (options.listen === true) {
    if (options.issuer !== undefined && !options.issuer.startsWith('/')) {
      throw new TypeError('"issuer" must be a path (such as \'/realms/demo\') with "listen: true"')
    }
    const { serveOnLoopback } = await import('./node-server.js')
    mainServer = await serveOnLoopback((request) => handler(request))
    servers.push(mainServer)
    issuerUrl = mainServer.url + (options.issuer ?? '')
  }
  const maybeUrls = endpointUrls(issuerUrl)
  const urls = (): EndpointUrls => {
    if (maybeUrls === undefined) {
      throw new TypeError(`issuer '${issuerUrl}' is not an absolute URL: it has no discovery or JWKS URL`)
    }
    return maybeUrls
  }

  const current = () => keys[0] as KeyEntry

  async function sign(claims: Record<string, unknown> = {}, opts: SignOptions = {}): Promise<string> {
    const key = current()
    const now = Math.floor(Date.now() / 1000)
    const payload: Record<string, unknown> = {
      iss: opts.issuer ?? issuerUrl,
      sub: opts.subject ?? DEFAULT_SUBJECT,
      aud: opts.audience ?? audience,
      iat: opts.issuedAt === undefined ? now : epoch(opts.issuedAt, now, 'issuedAt'),
      exp: now + toSeconds(opts.expiresIn ?? '5m', 'expiresIn'),
      jti: crypto.randomUUID(),
    }
    if (opts.notBefore !== undefined) payload.nbf = epoch(opts.notBefore, now, 'notBefore')
    Object.assign(payload, claims)
    const alg = opts.algorithm ?? key.alg
    const header: Record<string, unknown> = {
      alg,
      kid: 'kid' in opts ? opts.kid : key.kid,
      typ: 'typ' in opts ? opts.typ : 'at+jwt',
      ...opts.header,
    }
    const body = encoder.encode(JSON.stringify(payload))
    const headerAlg = typeof header.alg === 'string' ? header.alg : alg
    if (headerAlg === 'none') {
      return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(body)}.`
    }
    const signingKey = await keyFor(headerAlg, key)
    return new CompactSign(body)
      .setProtectedHeader(header as unknown as JWSHeaderParameters & { alg: string })
      .sign(signingKey)
  }

  async function keyFor(alg: string, key: KeyEntry): Promise<CryptoKey | Uint8Array> {
    if (alg === key.alg) return key.signingKey
    if (alg.startsWith('HS') && key.publicKey !== undefined) {
      // key confusion: the public key, as a PEM string, used as an HMAC secret
      return encoder.encode(await exportSPKI(key.publicKey))
    }
    let foreign = foreignKeys.get(alg)
    if (foreign === undefined) {
      foreign = makeKey(alg as TestAlgorithm, 'foreign').then((k) => k.signingKey)
      foreignKeys.set(alg, foreign)
    }
    return foreign
  }

  function jwks(): { keys: JWK[] } {
    return { keys: keys.flatMap((k) => (k.publicJwk ? [structuredClone(k.publicJwk)] : [])) }
  }

  function discovery(): Record<string, unknown> {
    const base = urls().base
    return {
      issuer: issuerUrl,
      jwks_uri: urls().jwks,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      id_token_signing_alg_values_supported: [algorithm],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    }
  }

  async function handler(request: Request): Promise<Response> {
    let path: string
    try {
      path = new URL(request.url).pathname
    } catch {
      return json({ error: 'bad request' }, 400)
    }
    const u = maybeUrls
    const target =
      u === undefined
        ? undefined
        : path === u.jwksPath
          ? 'jwks'
          : path === u.discoveryPath || path === u.metadataPath
            ? 'discovery'
            : undefined
    if (target === undefined) return json({ error: 'not found' }, 404)
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } })
    }
    counts[target]++
    const fault = faults[target]
    if (fault !== null) return misbehave(fault, request)
    return json(target === 'jwks' ? jwks() : discovery(), 200)
  }

  function misbehave(fault: Fault, request: Request): Promise<Response> {
    if (typeof fault === 'function') return Promise.resolve(fault(request))
    if (typeof fault === 'number') return Promise.resolve(json({ error: 'simulated' }, fault))
    if (fault === 'bad-json') {
      return Promise.resolve(new Response('{"keys": [', { headers: { 'content-type': 'application/json' } }))
    }
    if (fault === 'oversized') {
      const filler = 'x'.repeat(1024 * 1024)
      return Promise.resolve(json({ keys: [], filler }, 200))
    }
    return new Promise<Response>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer)
        request.signal.removeEventListener('abort', onAbort)
        pending.delete(done)
      }
      const done = () => {
        cleanup()
        resolve(json({ error: 'simulated timeout' }, 504))
      }
      const onAbort = () => {
        cleanup()
        reject(request.signal.reason ?? new DOMException('aborted', 'AbortError'))
      }
      const timer = setTimeout(done, MAX_TIMEOUT_MS)
      unref(timer)
      pending.add(done)
      if (request.signal.aborted) onAbort()
      else request.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) =>
    handler(new Request(input, init))) as typeof fetch

  const issuerObject: TestIssuer = {
    get issuer() {
      return issuerUrl
    },
    audience,
    algorithm,
    get kid() {
      return current().kid
    },
    get secret() {
      return current().secret
    },
    get jwksUri() {
      return urls().jwks
    },
    get discoveryUri() {
      return urls().discovery
    },
    get metadataUri() {
      return urls().metadata
    },
    get requests() {
      return { ...counts }
    },
    server: mainServer,
    sign,
    expired(claims = {}, opts = {}) {
      return sign(claims, { issuedAt: Math.floor(Date.now() / 1000) - 3600, expiresIn: '-10m', ...opts })
    },
    jwks,
    discovery,
    async rotateKeys({ keepPrevious = true } = {}) {
      const kid = options.kid !== undefined ? `${options.kid}-${keys.length + 1}` : `test-${randomHex(6)}`
      const next = await makeKey(algorithm, kid)
      if (!keepPrevious) keys.length = 0
      keys.unshift(next)
      return { kid }
    },
    verifierOptions<S extends ZodType | undefined = undefined>(
      mode: VerifierMode = 'keys',
      overrides: Partial<IssuerOptions<S>> = {},
    ): IssuerOptions<S> {
      const base: IssuerOptions<S> = { issuer: issuerUrl, audience, algorithms: [algorithm] }
      const key = current()
      if (key.secret !== undefined) return { ...base, secret: key.secret, ...overrides }
      if (mode === 'keys') return { ...base, keys: jwks(), ...overrides }
      if (mode === 'jwks') return { ...base, jwksUri: urls().jwks, ...overrides }
      if (mode === 'discovery') return { ...base, ...overrides }
      throw new TypeError(`mode must be 'keys', 'jwks' or 'discovery', got '${String(mode)}'`)
    },
    async mswHandlers<Handler>() {
      const { http } = await import('msw')
      const { discovery: d, metadata: m, jwks: j } = urls()
      // a request its client aborted (a simulated timeout) is over: answer quietly instead of
      // rejecting, which msw would print as an unhandled exception in the handler
      const serve = ({ request }: { request: Request }) =>
        handler(request).catch((error: unknown) => {
          if (request.signal.aborted) return json({ error: 'request aborted' }, 504)
          throw error
        })
      return [http.get(d, serve), http.get(m, serve), http.get(j, serve)] as Handler[]
    },
    handler,
    fetch: fetchImpl,
    simulate(target, fault) {
      if (target === 'all' || target === 'jwks') faults.jwks = fault
      if (target === 'all' || target === 'discovery') faults.discovery = fault
    },
    async listen() {
      const { serveOnLoopback } = await import('./node-server.js')
      const server = await serveOnLoopback(handler)
      servers.push(server)
      return server
    },
    async close() {
      for (const done of [...pending]) done()
      await Promise.all(servers.splice(0).map((s) => s.close()))
    },
  }
  return issuerObject
}

const SUPPORTED = new Set<string>([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512',
])

async function makeKey(alg: TestAlgorithm, kid: string, secret?: string): Promise<KeyEntry> {
  if (alg.startsWith('HS')) {
    const bytes = Number(alg.slice(2)) / 8
    const value = secret ?? base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))
    return { kid, alg, signingKey: encoder.encode(value), publicJwk: undefined, publicKey: undefined, secret: value }
  }
  const pair = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, signingKey: pair.privateKey, publicJwk, publicKey: pair.publicKey, secret: undefined }
}

interface EndpointUrls {
  base: string
  jwks: string
  discovery: string
  metadata: string
  jwksPath: string
  discoveryPath: string
  metadataPath: string
}

function endpointUrls(issuer: string): EndpointUrls | undefined {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  const base = issuer.replace(/\/+$/, '')
  const path = url.pathname.replace(/\/+$/, '')
  const jwks = `${base}/.well-known/jwks.json`
  const discovery = `${base}/.well-known/openid-configuration`
  const metadata = `${url.origin}/.well-known/oauth-authorization-server${path}`
  return {
    base,
    jwks,
    discovery,
    metadata,
    jwksPath: new URL(jwks).pathname,
    discoveryPath: new URL(discovery).pathname,
    metadataPath: new URL(metadata).pathname,
  }
}

function epoch(value: number | string | Date, now: number, name: string): number {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000)
  if (typeof value === 'number') return value
  return now + toSeconds(value, name)
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  })
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
}

/** Node timers keep the process alive; edge runtimes have no `unref`. */
function unref(timer: unknown): void {
  const handle = timer as { unref?: () => void }
  handle.unref?.()
}
