/**
 * The public types of `bearer-guard/testing`: the test issuer, its options and its faults.
 *
 * @module bearer-guard/testing
 */
import type { ZodType } from 'zod'
import type { ClientCertificate } from '../core/request.js'
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
  /**
   * Binds the token to this client certificate (RFC 8705): `cnf["x5t#S256"]` is its SHA-256
   * thumbprint. PEM text, the DER bytes, or an `X509Certificate` of `node:crypto`. Absent by default.
   */
  certificate?: ClientCertificate
}

/** Algorithms a test DPoP key signs its proofs with. */
export type TestDpopAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'PS256' | 'RS256'

/** The `dpop` option of {@link TestIssuer.sign} as an object. */
export interface DpopKeyOptions {
  /** Algorithm of the fresh key pair the token is bound to. Default: `'ES256'`. */
  algorithm?: TestDpopAlgorithm
}

/** The request a DPoP proof is made for (RFC 9449 §4.2). */
export interface DpopProofRequest {
  /** `htm`: the request method, such as `'GET'`. */
  method: string
  /** The absolute request URL; `htu` is it without query and fragment. */
  url: string | URL
  /** `nonce`: the server nonce from a `DPoP-Nonce` header. Absent by default. */
  nonce?: string
  /**
   * The access token `ath` hashes. Default: the bound token. `false` leaves `ath` out (a proof for a
   * token request); another token gives a proof a verifier must refuse.
   */
  accessToken?: string | false
  /** Claims over the proof's own (`{ iat: … }`, `{ htm: 'POST' }`, `{ jti: undefined }`), for proofs a verifier must refuse. */
  claims?: Record<string, unknown>
  /** Header parameters over the proof's own (`{ typ: 'JWT' }`, `{ jwk: otherKey }`). */
  header?: Record<string, unknown>
}

/**
 * A DPoP-bound access token (RFC 9449 §6) and the key pair it is bound to, from
 * `issuer.sign(claims, { dpop: true })`.
 */
export interface DpopBoundToken {
  /** The access token: `cnf.jkt` is the thumbprint of this key pair. */
  readonly token: string
  /** The RFC 7638 SHA-256 thumbprint of the public key (the token's `cnf.jkt`). */
  readonly jkt: string
  /** The public key proofs carry in their `jwk` header. */
  readonly publicJwk: JWK
  /** The algorithm of the key pair. */
  readonly algorithm: TestDpopAlgorithm
  /** A fresh proof (new `jti`, `iat` now, `ath` of the token) for one request: the `DPoP` header value. */
  proof(request: DpopProofRequest): Promise<string>
  /** The request's headers: `authorization: 'DPoP <token>'` and `dpop: <a fresh proof>`. */
  headers(request: DpopProofRequest): Promise<{ authorization: string; dpop: string }>
}

/** Options of {@link TestIssuer.opaque}. Everything here can be overridden by `claims`. */
export interface OpaqueTokenOptions {
  /** Lifetime from now: seconds or a duration string. Default: `'5m'`. */
  expiresIn?: number | string
  /** `aud` of the answer. Default: the issuer's audience. */
  audience?: string | string[]
  /** `sub` of the answer. Default: `'user-123'`. */
  subject?: string
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
  /** Where the introspection endpoint is served: `<issuer>/introspect`. */
  readonly introspectionUri: string
  /** The one client allowed to introspect (`client_secret_basic` or `client_secret_post`). */
  readonly introspectionClient: { readonly clientId: string; readonly clientSecret: string }
  /** Snapshot of the request counters. */
  readonly requests: IssuerRequestCounts
  /** Introspection requests the issuer has answered (faults included), over every transport. */
  readonly introspectionRequests: number
  /** The loopback server of a `listen: true` issuer. */
  readonly server: LoopbackServer | undefined

  /**
   * Signs a DPoP-bound access token: a fresh key pair (`dpop.algorithm`, default ES256) whose
   * thumbprint is `cnf.jkt`, returned with a proof signer for the requests that present it.
   */
  sign(claims: Record<string, unknown> | undefined, options: SignOptions & { dpop: true | DpopKeyOptions }): Promise<DpopBoundToken>
  /** Signs an access token. `claims` override the defaults; `{ exp: undefined }` removes `exp`. */
  sign(claims?: Record<string, unknown>, options?: SignOptions & { dpop?: false }): Promise<string>
  /** A token that expired ten minutes ago (issued an hour ago). */
  expired(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /**
   * Issues an opaque (reference) access token: 43 random base64url characters, whose claims only
   * the introspection endpoint tells (`iss`, `sub`, `aud`, `iat`, `exp` in 5 minutes, `jti`,
   * `client_id`, `token_type: 'Bearer'`, then `claims`).
   */
  opaque(claims?: Record<string, unknown>, options?: OpaqueTokenOptions): string
  /** Revokes a token (opaque or a JWT it signed): introspection answers `{ active: false }` from now on. */
  revoke(token: string): void
  /**
   * The `introspection` option of a verifier that asks this issuer: its client and endpoint, and
   * `fetch: issuer.fetch` unless `overrides` say otherwise (`{ fetch: undefined }` for msw).
   */
  introspectionOptions(overrides?: Record<string, unknown>): {
    endpoint: string
    clientId: string
    clientSecret: string
    fetch?: typeof fetch
    [option: string]: unknown
  }
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
   * msw 2 handlers serving discovery, JWKS and introspection at the issuer URL. msw is imported lazily, and these
   * types do not import it (a project without msw type-checks): `Handler` is msw's handler type,
   * inferred where the handlers go, as in `server.use(...(await issuer.mswHandlers()))`.
   */
  mswHandlers<Handler = never>(): Promise<Handler[]>
  /** Web handler serving discovery (OIDC and RFC 8414), JWKS and introspection; matches on the path only. */
  handler(request: Request): Promise<Response>
  /** The handler typed as `fetch` (for `jwks: { fetch: issuer.fetch }`). */
  readonly fetch: typeof fetch
  /**
   * Makes the served endpoints fail: `'timeout'` (no answer until the request is aborted, at most
   * 60 s), `'bad-json'`, `'oversized'` (a 1 MiB body), an HTTP status, or a custom responder.
   * `null` restores normal answers.
   */
  simulate(target: 'jwks' | 'discovery' | 'introspection' | 'all', fault: Fault | null): void
  /**
   * Serves the handler on a new loopback server (Node only). The tokens' `iss` stays the issuer
   * URL; for an issuer whose URL *is* the server, use `createTestIssuer({ listen: true })`.
   */
  listen(): Promise<LoopbackServer>
  /** Stops every server of this issuer and pending simulated timeouts. */
  close(): Promise<void>
}
