/**
 * Public types of the core: options, the verifier, the auth context and the revocation store.
 *
 * @module bearer-guard
 */
import type { ZodType } from 'zod'
import type { AuthRequest, ClientCertificate } from './request.js'

// The key and token types below are bearer-guard's own, written out rather than re-exported from
// jose or node:crypto: jose is ESM-only (a CommonJS project could not import its types), an edge
// project has no @types/node and a Node project may have no DOM lib. They match jose's types
// member for member, so values pass between the two either way.

/** A JSON Web Key (RFC 7517 §4, RFC 7518 §6). Unknown members are allowed. */
export interface JWK {
  kty?: string
  alg?: string
  use?: string
  key_ops?: string[]
  kid?: string
  ext?: boolean
  x5c?: string[]
  x5t?: string
  'x5t#S256'?: string
  x5u?: string
  crv?: string
  x?: string
  y?: string
  n?: string
  e?: string
  d?: string
  p?: string
  q?: string
  dp?: string
  dq?: string
  qi?: string
  oth?: { d?: string; r?: string; t?: string }[]
  k?: string
  pub?: string
  priv?: string
  [member: string]: unknown
}

/** A JWT claims set (RFC 7519 §4): the registered claims typed, every other claim `unknown`. */
export interface JWTPayload {
  iss?: string
  sub?: string
  aud?: string | string[]
  jti?: string
  nbf?: number
  exp?: number
  iat?: number
  [claim: string]: unknown
}

/** A JWS protected header (RFC 7515 §4). */
export interface JWSHeaderParameters {
  alg?: string
  kid?: string
  typ?: string
  cty?: string
  crit?: string[]
  b64?: boolean
  jku?: string
  jwk?: Omit<JWK, 'd' | 'dp' | 'dq' | 'k' | 'p' | 'q' | 'qi' | 'priv' | 'oth'>
  x5u?: string
  x5c?: string[]
  x5t?: string
  [parameter: string]: unknown
}

/**
 * A Node.js `KeyObject` (`crypto.createPublicKey(pem)`), by the members bearer-guard uses: a real
 * `KeyObject` fits, and these types need no `@types/node`.
 */
export interface KeyObjectLike {
  readonly type: string
  readonly asymmetricKeyType?: string | undefined
  export(options: { format: 'jwk' }): object
}

/**
 * A Web Crypto `CryptoKey` (`crypto.subtle.importKey(…)`), by the members bearer-guard uses: a real
 * `CryptoKey` fits, and these types need no DOM lib.
 */
export interface CryptoKeyLike {
  readonly type: string
  readonly algorithm: { readonly name: string }
  readonly extractable: boolean
  readonly usages: readonly string[]
}

/** Seconds (number) or a duration string such as `'5s'`, `'10m'`, `'1h'`, `'2d'`. */
export type Duration = number | string

/** Asymmetric JWS algorithms bearer-guard verifies. */
export type AsymmetricAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

/** HMAC algorithms, for a shared `secret`. */
export type SymmetricAlgorithm = 'HS256' | 'HS384' | 'HS512'

export type Algorithm = AsymmetricAlgorithm | SymmetricAlgorithm

/**
 * A claim path: a dot path (`realm_access.roles`), or a key that contains dots, colons or a URL
 * (`cognito:groups`, `https://example.com/roles`) which is looked up as a whole first.
 */
export type ClaimPath = string

/** Where to read roles or scopes: one path, several (merged), or a function of the claims. */
export type ClaimSource = ClaimPath | readonly ClaimPath[] | ((claims: JWTPayload) => readonly string[] | undefined)

/**
 * Decides whether a token's `iss` is trusted, for issuers that vary per token: Entra ID's
 * multi-tenant `https://login.microsoftonline.com/{tid}/v2.0`, checked against the token's `tid`.
 * Called only when `iss` is a string. Return `true` to accept; `false` (or a thrown `AuthError`
 * with its own reason) rejects the token.
 */
export type IssuerPredicate = (iss: string, claims: JWTPayload) => boolean

/**
 * Decides whether a token is meant for this API when an `aud` match cannot say it: Cognito access
 * tokens carry `client_id` and no `aud`. `aud` is the token's `aud` as an array (empty when absent).
 * Return `true` to accept; `false` (or a thrown `AuthError` with its own reason) rejects the token.
 */
export type AudiencePredicate = (aud: readonly string[], claims: JWTPayload) => boolean

/** The token-type check that keeps refresh and ID tokens out of resource routes. */
export type TokenTypeOption =
  | string
  | readonly string[]
  | { header: string | readonly string[] }
  | { claim: ClaimPath; value: string | number | boolean | readonly (string | number | boolean)[] }

/** What a key may be given as: a public JWK, several, a JWKS, a PEM string (SPKI or X.509), a `KeyObject` or a `CryptoKey`. */
export type KeyInput =
  | JWK
  | readonly JWK[]
  | { keys: readonly JWK[] }
  | string
  | KeyObjectLike
  | CryptoKeyLike

/** JWKS fetch and cache settings. */
export interface JwksOptions {
  /** How long fetched keys are fresh. Default: `'10m'`. */
  cacheMaxAge?: Duration
  /** Minimum time between refetches triggered by an unknown `kid`. Default: `'30s'`. */
  cooldown?: Duration
  /** Timeout of one fetch. Default: `'5s'`. */
  timeout?: Duration
  /** How long stale keys are still used when a refresh fails. Default: `'1h'`. */
  staleMaxAge?: Duration
  /** Largest accepted response body, in bytes. Default: `524288` (512 KiB). */
  maxResponseBytes?: number
  /** Extra request headers (e.g. a user agent). */
  headers?: Record<string, string>
  /** A `fetch` implementation. Default: `globalThis.fetch`. */
  fetch?: typeof fetch
}

/**
 * Where bearer-guard warns when a key source fails (DNS, refused, TLS, status, body), serves
 * stale keys, or skips a key: `console`, or a logger of yours (pino, winston: `warn` is called
 * as a method). At most one warning per cause per minute.
 */
export interface Logger {
  warn(message: string): void
}

/** A jti denylist consulted after the signature and claims are valid. */
export interface RevocationStore {
  isRevoked(jti: string, claims: JWTPayload): boolean | Promise<boolean>
  /**
   * Denies `jti` until `expiresAt` (plus the largest clock tolerance, 300 s): a `Date`
   * (`auth.expiresAt`) or a NumericDate in seconds (`claims.exp`). The built-in stores throw a
   * `TypeError` for anything else, and for a number that can only be milliseconds.
   */
  revoke(jti: string, expiresAt: Date | number): void | Promise<void>
  close?(): void | Promise<void>
}

/**
 * Where the `jti`s of DPoP proofs are remembered for the proof window (RFC 9449 §11.1), so a proof
 * is accepted once. Shared across instances (`createRedisReplayStore` in `bearer-guard/redis`) or per
 * process (`createMemoryReplayStore`). A store that throws or rejects refuses the request (503): a
 * replay is never accepted because the store was down.
 */
export interface ReplayStore {
  /**
   * Records `id` until `expiresAt` (a NumericDate, seconds) and answers whether it was seen for the
   * first time: `true` = first time (accept), `false` = seen before (a replay, refused).
   */
  mark(id: string, expiresAt: number): boolean | Promise<boolean>
}

/** DPoP (RFC 9449) options of a verifier. See docs/dpop.md. */
export interface DpopOptions {
  /**
   * `'allowed'`: DPoP-bound tokens need their proof, bearer tokens still work; `'required'`: only
   * DPoP-bound tokens with their proof; `false`: the `DPoP` scheme is not accepted (and a bound token
   * is refused as a bearer token all the same). Default: `'allowed'`.
   */
  mode?: 'allowed' | 'required' | false
  /** Accepted proof algorithms (asymmetric only). Default: `['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']`. */
  algorithms?: readonly AsymmetricAlgorithm[]
  /** How old a proof's `iat` may be (plus the issuer's `clockTolerance`). Default: `'60s'`. */
  maxAge?: Duration
  /** Where proof `jti`s are remembered. Default: `createMemoryReplayStore()`, one per verifier. */
  replay?: ReplayStore
  /**
   * Stateless server nonces (RFC 9449 §8–9): a proof must carry a nonce issued within the last one
   * to two `lifetime`s. `secret`: at least 32 bytes; a list rotates them (the first signs, every one
   * verifies). Default: `false`.
   */
  nonce?: false | { secret: string | Uint8Array | readonly (string | Uint8Array)[]; lifetime?: Duration }
}

/** Certificate-bound tokens (RFC 8705) options of a verifier. See docs/dpop.md. */
export interface MtlsOptions {
  /**
   * `'allowed'`: a token with `cnf["x5t#S256"]` needs the client certificate it names; `'required'`:
   * every token must be so bound; `false`: certificate-bound tokens are refused (they cannot be
   * checked). Default: `'allowed'`.
   */
  mode?: 'allowed' | 'required' | false
  /**
   * The client certificate of a request, for a TLS-terminating proxy that passes it on (for
   * example in a header: `(request) => request.header?.('x-client-cert')`). Trust: whoever can set
   * that header can present any certificate; only use it when every request comes through the
   * proxy and the proxy overwrites the header. Default: the TLS socket's peer certificate.
   */
  certificate?: (request: AuthRequest) => ClientCertificate | undefined
}

/** `private_key_jwt` client authentication (RFC 7523) at the introspection endpoint. */
export interface PrivateKeyJwtAuth {
  method: 'private_key_jwt'
  /** The client's private key: a private JWK, a PKCS#8 PEM, a `KeyObject` or a `CryptoKey`. */
  key: JWK | string | KeyObjectLike | CryptoKeyLike
  /** The signing algorithm of the client assertion. */
  alg: AsymmetricAlgorithm
  /** `kid` header of the client assertion. Default: the JWK's `kid`, if any. */
  kid?: string
}

/**
 * Opaque (reference) tokens: RFC 7662 token introspection. See docs/introspection.md.
 *
 * @example Keycloak: JWTs verify locally, opaque tokens are introspected.
 * ```ts
 * createVerifier({
 *   issuer: 'https://sso.example.com/realms/main',
 *   audience: 'orders-api',
 *   introspection: { clientId: 'orders-api', clientSecret: process.env.INTROSPECTION_SECRET! },
 * })
 * ```
 */
export interface IntrospectionOptions {
  /** The introspection endpoint. Default: the issuer metadata's `introspection_endpoint` (discovery). */
  endpoint?: string | URL
  /** The resource server's client id at the authorization server. */
  clientId: string
  /** The client secret (`client_secret_basic` or `client_secret_post`). Give this or `clientAuth`. */
  clientSecret?: string
  /** How the secret is sent. Default: `'client_secret_basic'`. */
  method?: 'client_secret_basic' | 'client_secret_post'
  /** `private_key_jwt` client authentication instead of a secret. */
  clientAuth?: PrivateKeyJwtAuth
  /**
   * `'opaque'`: compact JWS tokens verify locally, every other token is introspected. `'always'`:
   * every token is introspected (revocation shows at once; one call per token and cache period).
   * Default: `'opaque'`.
   */
  use?: 'opaque' | 'always'
  /**
   * How long an answer is reused: never past the token's `exp`, nor the answer's
   * `Cache-Control: max-age`; `no-store` answers are not kept. `0` turns the cache off. Default: `'60s'`.
   */
  cacheMaxAge?: Duration
  /** How long a "not active" (or refused) answer is reused. Default: `'5s'` (at most `cacheMaxAge`). */
  negativeCacheMaxAge?: Duration
  /** Timeout of one introspection request. Default: `'5s'`. */
  timeout?: Duration
  /** Largest accepted answer, in bytes. Default: `65536` (64 KiB). */
  maxResponseBytes?: number
  /**
   * Ask for RFC 9701 signed answers (`Accept: application/token-introspection+jwt`) and refuse
   * plain JSON ones. Signed answers are verified with the issuer's keys whether asked for or not.
   * Default: `false`.
   */
  signedResponse?: boolean
  /** Extra request headers (e.g. a user agent). */
  headers?: Record<string, string>
  /** A `fetch` implementation. Default: `globalThis.fetch`. */
  fetch?: typeof fetch
}

/** Options of one issuer. See docs/configuration.md. */
export interface IssuerOptions<S extends ZodType | undefined = ZodType | undefined> {
  /**
   * Expected `iss` (exact match, one of a list), a predicate for per-token issuers, or `false` to
   * skip the check explicitly. Required. A predicate needs `jwksUri` or `keys` and cannot be used in
   * `issuers` entries (the token's `iss` selects the entry).
   */
  issuer: string | readonly string[] | false | IssuerPredicate
  /**
   * Accepted `aud` values (any of), a predicate (e.g. over `client_id`), or `false` to skip the check
   * explicitly. Required, unless `resource` is given (then the default).
   */
  audience: string | readonly string[] | false | AudiencePredicate
  /**
   * The resource identifier (RFC 8707) of the API this verifier protects: an absolute `https` URL
   * (`http` on loopback only), no fragment. Without `audience`, tokens must name it in `aud`
   * (compared as the MCP SDK does: fragment and one trailing slash aside). Read back as
   * `verifier.resource`; `resourceMetadata: true` and `bearer-guard/mcp` use it. With `issuers`, at the top level.
   */
  resource?: string | URL
  /** Remote JWKS URL. */
  jwksUri?: string | URL
  /** Static verification keys. */
  keys?: KeyInput
  /** HMAC shared secret (HS256/384/512). At least as many bytes as the hash size. */
  secret?: string | Uint8Array
  /** Algorithm allowlist. Default: HS256 with `secret`, all asymmetric algorithms otherwise. */
  algorithms?: readonly Algorithm[]
  /** Leeway for `exp`/`nbf`/`iat`. Default: `'5s'`. */
  clockTolerance?: Duration
  /** Reject tokens whose `iat` is older than this. Off by default. */
  maxTokenAge?: Duration
  /** Claims that must be present, added to the defaults. */
  requiredClaims?: readonly ClaimPath[]
  /** Where the subject is read. Default: `'sub'`. */
  subjectClaim?: ClaimPath | false
  /** `typ` header (e.g. `'at+jwt'`) or `{ claim, value }` check. Off by default. */
  tokenType?: TokenTypeOption
  /** zod schema that validates (and types) the payload. */
  claims?: S
  /** Where roles are read. Default: `'roles'`. */
  rolesClaim?: ClaimSource
  /** Where scopes are read. Default: `['scope', 'scp']`. */
  scopesClaim?: ClaimSource
  /** jti denylist. */
  revocation?: RevocationStore
  /** JWKS fetch and cache settings. */
  jwks?: JwksOptions
  /** Opaque tokens: RFC 7662 introspection (and `use: 'always'` for every token). Off by default. */
  introspection?: IntrospectionOptions
  /** Largest accepted token, in bytes. Default: `8192`. */
  maxTokenLength?: number
  /** Cache of verified tokens (same token string → same result without re-verifying). Default: on, 10000 entries. */
  cache?: false | { max?: number }
  /**
   * Verify the signatures of tokens the cache does not hold (RS*, PS*, ES*, EdDSA), and of DPoP
   * proofs, on libuv's threadpool (`crypto.verify` with a callback) instead of on the event loop. Node's `node:crypto`
   * only (Web Crypto is asynchronous already; HS* stays on the loop, where it costs less than the
   * hand-off). Frees the event loop for other requests and, with a spare core, raises throughput;
   * on one core it lowers it. See docs/performance.md ("Signatures on the threadpool"). Default: `false`.
   */
  threadpool?: boolean
  /**
   * Warnings about failing key sources (with the root cause), stale keys served, and skipped keys:
   * at most one per cause per minute. `false` mutes them. Default: `console`.
   */
  logger?: Logger | false
}

/**
 * Options of `createVerifier`. With `issuers`, top-level options are defaults of every entry;
 * `maxTokenLength`, `cache`, `threadpool` and `logger` apply to the whole verifier and stay at the top level.
 */
export type VerifierOptions<S extends ZodType | undefined = ZodType | undefined> =
  | (IssuerOptions<S> & SenderOptions)
  | (Omit<IssuerOptions<S>, 'audience' | 'resource'> & SenderOptions & { resource: string | URL; audience?: IssuerOptions<S>['audience'] })
  | (Partial<IssuerOptions<S>> & SenderOptions & { issuers: readonly Omit<Partial<IssuerOptions<S>>, 'maxTokenLength' | 'cache' | 'threadpool' | 'logger' | 'resource'>[] })

/** Options of sender-constrained tokens, for the whole verifier (not per issuer). */
export interface SenderOptions {
  /** DPoP (RFC 9449). Default: `{ mode: 'allowed' }`. */
  dpop?: DpopOptions | false
  /** Certificate-bound tokens (RFC 8705). Default: `{ mode: 'allowed' }`. */
  mtls?: MtlsOptions | false
}

/**
 * Declaration-merging hook: `declare module 'bearer-guard' { interface Register { claims: MyClaims } }`
 * types `auth.claims` on every framework's request object; `expressAuth` types Express's `req.auth`
 * (see `ExpressAuth` of bearer-guard/express: a project that also uses the MCP SDK's Express middleware).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Register {}

/** The claims type of request objects: `Register['claims']` when declared, else `JWTPayload`. */
export type RegisteredClaims = Register extends { claims: infer C } ? C : JWTPayload

/** What a successful verification yields. */
export interface AuthContext<C = RegisteredClaims> {
  /** The raw token. */
  token: string
  /** The protected header. */
  header: JWSHeaderParameters
  /** The payload (validated by the `claims` schema when one is given). */
  claims: C
  /** The subject (`sub` by default); numbers become strings. */
  subject: string | undefined
  issuer: string | undefined
  /** `aud` as an array (empty when absent). */
  audience: string[]
  scopes: string[]
  roles: string[]
  expiresAt: Date
  issuedAt?: Date
  /** How the token was presented: `'DPoP'` with a verified proof (RFC 9449), else `'Bearer'`. */
  scheme: 'Bearer' | 'DPoP'
  /** The token's confirmation (`cnf`): the key (`jkt`) or certificate (`x5t#S256`) it is bound to. */
  confirmation?: { jkt?: string; 'x5t#S256'?: string }
  /**
   * Headers to add to the response of this request (a fresh `DPoP-Nonce` and
   * `Access-Control-Expose-Headers`, when DPoP nonces are on). The adapters add them.
   */
  responseHeaders?: Readonly<Record<string, string>>
}

/** A configured verifier; share one per authorization server so the JWKS cache is shared. */
export interface Verifier<C = RegisteredClaims> {
  /** Verify a compact JWS access token. Rejects with an `AuthError`, never anything else. */
  verifyAccessToken(token: string): Promise<AuthContext<C>>
  /** RFC 6750 §2.1 extraction from an Authorization header value, then `verifyAccessToken`. */
  authenticate(authorization: string | readonly string[] | null | undefined): Promise<AuthContext<C>>
  /**
   * The request-level entry (API-wave2 §1): the `Authorization` value (`Bearer` or `DPoP`), the
   * `DPoP` proof against the method and URL, the client certificate of a certificate-bound token.
   * Every adapter calls it. Rejects with an `AuthError`, never anything else.
   */
  authenticateRequest(request: AuthRequest): Promise<AuthContext<C>>
  /** Fetch discovery metadata and JWKS now (e.g. at start-up). Rejects with `KeySourceUnavailableError`. */
  warmUp(): Promise<void>
  /** The `resource` option (RFC 8707 resource identifier), as given; absent without one. */
  readonly resource?: string
  readonly [VERIFIER_BRAND]: true
}

export const VERIFIER_BRAND: unique symbol = Symbol.for('bearer-guard.Verifier')
