/**
 * The public types of `bearer-guard/testing`: the test issuer, its options and its faults.
 *
 * @module bearer-guard/testing
 */
import type { ZodType } from 'zod'
import type { Algorithm, IssuerOptions, JWK } from '../core/types.js'
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
