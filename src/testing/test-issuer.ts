/**
 * `createTestIssuer`: a fake authorization server for tests — keys, signed access tokens, and its
 * discovery document and JWKS served through msw, a Web handler, `fetch`, or a real loopback server.
 * This file wires the parts together: the key ring (key-ring.ts), signing and attack tokens
 * (tokens.ts), the endpoints (endpoints.ts) and their simulated faults (faults.ts).
 *
 * Subpath export `'bearer-guard/testing'`.
 *
 * @module bearer-guard/testing
 */
import type { ZodType } from 'zod'
import type { IssuerOptions } from '../core/types.js'
import { createEndpoints, type Endpoints } from './endpoints.js'
import { createFaults } from './faults.js'
import { createKeyRing } from './key-ring.js'
import type { LoopbackServer } from './node-server.js'
import { createSigner, expiredOptions } from './tokens.js'
import type { TestIssuer, TestIssuerOptions, VerifierMode } from './types.js'

const DEFAULT_ISSUER = 'https://issuer.test'
const DEFAULT_AUDIENCE = 'https://api.test'

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
  const audience = options.audience ?? DEFAULT_AUDIENCE
  const ring = await createKeyRing(algorithm, options.kid, options.secret)
  const faults = createFaults()
  const servers: LoopbackServer[] = []

  // a `listen: true` issuer serves before it knows its URL: the server calls the endpoints late
  let endpoints: Endpoints | undefined
  const handler = (request: Request): Promise<Response> => (endpoints as Endpoints).handler(request)
  const serve = async (): Promise<LoopbackServer> => {
    const { serveOnLoopback } = await import('./node-server.js')
    const server = await serveOnLoopback(handler)
    servers.push(server)
    return server
  }

  let issuerUrl = options.issuer ?? DEFAULT_ISSUER
  let mainServer: LoopbackServer | undefined
  if (options.listen === true) {
    if (options.issuer !== undefined && !options.issuer.startsWith('/')) {
      throw new TypeError('"issuer" must be a path (such as \'/realms/demo\') with "listen: true"')
    }
    mainServer = await serve()
    issuerUrl = mainServer.url + (options.issuer ?? '')
  }
  const ready = createEndpoints({ issuer: issuerUrl, algorithm, jwks: () => ring.jwks(), faults })
  endpoints = ready
  const sign = createSigner({ ring, issuer: () => issuerUrl, audience })

  return {
    issuer: issuerUrl,
    audience,
    algorithm,
    get kid() {
      return ring.current.kid
    },
    get secret() {
      return ring.current.secret
    },
    get jwksUri() {
      return ready.urls().jwks
    },
    get discoveryUri() {
      return ready.urls().discovery
    },
    get metadataUri() {
      return ready.urls().metadata
    },
    get requests() {
      return ready.requests()
    },
    server: mainServer,
    sign,
    expired: (claims = {}, opts = {}) => sign(claims, { ...expiredOptions(), ...opts }),
    jwks: () => ring.jwks(),
    discovery: () => ready.discovery(),
    async rotateKeys({ keepPrevious = true } = {}) {
      const { kid } = await ring.rotate(keepPrevious)
      return { kid }
    },
    verifierOptions<S extends ZodType | undefined = undefined>(
      mode: VerifierMode = 'keys',
      overrides: Partial<IssuerOptions<S>> = {},
    ): IssuerOptions<S> {
      const base: IssuerOptions<S> = { issuer: issuerUrl, audience, algorithms: [algorithm] }
      const { secret } = ring.current
      if (secret !== undefined) return { ...base, secret, ...overrides }
      if (mode === 'keys') return { ...base, keys: ring.jwks(), ...overrides }
      if (mode === 'jwks') return { ...base, jwksUri: ready.urls().jwks, ...overrides }
      if (mode === 'discovery') return { ...base, ...overrides }
      throw new TypeError(`mode must be 'keys', 'jwks' or 'discovery', got '${String(mode)}'`)
    },
    mswHandlers: () => ready.mswHandlers(),
    handler,
    fetch: ready.fetch,
    simulate: (target, fault) => faults.simulate(target, fault),
    listen: serve,
    async close() {
      faults.settle()
      await Promise.all(servers.splice(0).map((s) => s.close()))
    },
  }
}
