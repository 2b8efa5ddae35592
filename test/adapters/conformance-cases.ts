/**
 * The conformance table every adapter runs: the same requests, the same answers (status, exact
 * `WWW-Authenticate`, JSON body, whether the handler ran).
 *
 * Each harness serves these routes (all GET) with its framework's idiom:
 *
 * | path          | chain                                                             |
 * | ------------- | ----------------------------------------------------------------- |
 * | /user         | requireAuth(verifier)                                             |
 * | /admin        | requireAuth(verifier), requireRole('admin')                       |
 * | /scoped       | requireAuth(verifier), requireScopes(['orders:read', 'orders:write']) |
 * | /tenant       | requireAuth(verifier), requireClaims({ tenant: 'acme' })          |
 * | /optional     | requireAuth(verifier, { optional: true })                         |
 * | /realm        | requireAuth(verifier, { realm: 'orders' })                        |
 * | /hooked       | requireAuth(verifier, { onError: <CUSTOM answer> })               |
 * | /hooked-role  | requireAuth(verifier), requireRole('admin', { onError: <CUSTOM> }) |
 * | /down         | requireAuth(downVerifier)   (its JWKS and introspection endpoints answer 500) |
 * | /inherit      | requireAuth(verifier, { realm: 'orders', onFailure }), requireScopes('orders:write') |
 * | /inherit-hooked | requireAuth(verifier, { onError: <CUSTOM>, onFailure }), requireRole('admin') |
 * | /inherit-own  | requireAuth(verifier, { realm: 'orders', onFailure }), requireRole('admin', { realm: 'admin' }) |
 * | /optional-role | requireAuth(verifier, { optional: true, realm: 'orders' }), requireRole('admin') |
 * | /foreign-optional | requireAuth(foreignVerifier, { optional: true })  (a verifier of another build) |
 * | /dpop-nonce   | requireAuth(nonceVerifier)   (DPoP with server nonces)             |
 * | /metadata     | requireAuth(verifier, { resourceMetadata: METADATA_URL })         |
 * | /metadata-scoped | requireAuth(verifier, { resourceMetadata: METADATA_URL }), requireScopes('orders:write') |
 * | /metadata-resource | requireAuth(resourceVerifier, { resourceMetadata: true })   |
 * | /metadata-request | requireAuth(verifier, { resourceMetadata: true })             |
 *
 * and `protectedResource(PROTECTED_RESOURCE)` (Next.js: its route handlers at the metadata path;
 * NestJS: the module's `protectedResource` option), whose answers `metadataCases` lists.
 *
 * `onFailure` is `(error) => fixture.failed(error.code)`. Next.js has one options object per route
 * (`withAuth(handler, { realm, onError, onFailure, roles, scopes })`), which its requirements use:
 * `/inherit-own` is `{ realm: 'admin', roles: 'admin', onFailure }` there.
 *
 * A handler calls `fixture.ran(route)` and answers `200 { route, sub: auth?.subject ?? null }`.
 *
 * Requests go over real sockets with `node:http` (the Next.js harness builds `NextRequest`s instead):
 * an `authorization` given as an array is sent as that many header lines, each value as Latin-1
 * bytes (so `\u00a0` is the byte 0xA0, which Node's parser reads back as U+00A0). A `dpop` is sent
 * the same way as `DPoP` lines; proofs are built with jose for the URL the app sees (`App.url`).
 */
import { http, HttpResponse, type RequestHandler } from 'msw'
import { createVerifier, type AuthError, type IssuerOptions, type Verifier } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { ath, dpopClient, unsignedProof, type DpopClient, type ProofOptions } from '../helpers/dpop.js'
import { buildSecondCopy } from './second-copy.js'

export const DOWN_JWKS = 'https://keys-down.test/jwks.json'
export const DOWN_INTROSPECTION = 'https://keys-down.test/introspect'
/** The resource of `resourceVerifier` and of the served metadata. */
export const RESOURCE = 'https://api.example.test/mcp'
export const METADATA_URL = 'https://api.example.test/.well-known/oauth-protected-resource/mcp'
export const METADATA_PATH = '/.well-known/oauth-protected-resource/mcp'
/** What every harness serves with `protectedResource()`. */
export const PROTECTED_RESOURCE = {
  resource: RESOURCE,
  authorizationServers: ['https://auth.example.test'],
  scopesSupported: ['orders:read', 'orders:write'],
  resourceName: 'Conformance API',
  cacheMaxAge: '10m',
} as const

/** The answer every `onError` hook of the harnesses produces. */
export const CUSTOM = {
  status: 418,
  header: ['x-custom', 'yes'] as const,
  body: (error: AuthError) => ({ custom: true, error: error.code }),
}

export interface Fixture {
  verifier: Verifier
  downVerifier: Verifier
  /** A verifier of another build of bearer-guard (CJS bundle): its errors are other classes. */
  foreignVerifier: Verifier
  /** DPoP with server nonces (the default verifier takes DPoP without them). */
  nonceVerifier: Verifier
  /** A verifier built with `resource: RESOURCE` (and no `audience`). */
  resourceVerifier: Verifier
  ran(route: string): void
  /** What the harnesses' `onFailure` hooks call, with the error's code. */
  failed(code: string): void
}

/** The method (default `GET`) and further headers of a request. */
export interface RequestInit {
  method?: string
  headers?: Record<string, string>
}

/**
 * A running app; `fetch` sends a GET (or `init.method`) to `path` with the given Authorization
 * header — or, for an array, that many Authorization lines.
 */
export interface App {
  fetch(path: string, authorization?: string | readonly string[], dpop?: string | readonly string[], init?: RequestInit): Promise<Response>
  /** The absolute URL of `path` as the app sees it (a DPoP proof's `htu`). */
  url(path: string): string
  close(): Promise<void>
}

export interface Harness {
  name:
    | 'express'
    | 'express 4'
    | 'fastify'
    | 'koa'
    | 'hono'
    | 'next'
    | 'nestjs express'
    | 'nestjs fastify'
    | 'nestjs 11 express'
    | 'nestjs 11 fastify'
  /** How requests reach the app, for the report. */
  transport: string
  start(fixture: Fixture): Promise<App>
}

export interface Tokens {
  user: string
  admin: string
  expired: string
  badSignature: string
  wrongAudience: string
  /** Bound to the DPoP key of `client` (`cnf.jkt`). */
  bound: string
  boundExpired: string
  /** `aud` is RESOURCE. */
  resourceUser: string
  /** An opaque token, introspected (the verifier's `introspection`, `use: 'opaque'`). */
  opaque: string
  /** An opaque token the issuer has revoked: introspection answers `active: false`. */
  revokedOpaque: string
}

/** What a row's `dpop` builds its proof with. */
export interface DpopContext {
  tokens: Tokens
  /** The URL of the row's path, as the app sees it. */
  url: string
  /** The client key the bound tokens name. */
  client: DpopClient
  /** Another client's key. */
  other: DpopClient
  /** Sends a request to the row's app first (a proof's first use, for a replay). */
  send(authorization: string, dpop: string): Promise<Response>
  /** The nonce the app's 401 `use_dpop_nonce` hands out for the row's path. */
  nonce(): Promise<string>
}

export interface Case {
  name: string
  path: string
  /** One header value, or several Authorization lines. */
  authorization?: (t: Tokens) => string | string[]
  /** The `DPoP` header line(s). */
  dpop?: (ctx: DpopContext) => Promise<string | string[]>
  /** Further request headers (e.g. `host`). */
  headers?: Record<string, string>
  status: number
  /** Whether the answer carries a `DPoP-Nonce` header (and exposes it on CORS). Default: `false`. */
  dpopNonce?: boolean
  /** Exact `WWW-Authenticate`, or `null` for none. */
  wwwAuthenticate: string | null
  body: unknown
  handlerRan: boolean
  /** The codes `onFailure` was told, in order. Default: none. */
  failures?: string[]
}

const missing = { error: 'missing_token', error_description: 'authentication required' }
const malformed = { error: 'invalid_request', error_description: 'malformed authorization header' }
const challenge = (code: string, description: string, extra = '', realm = 'api') =>
  `Bearer realm="${realm}", error="${code}", error_description="${description}"${extra}`
const custom = (error: string) => ({ custom: true, error })
const ALGS = 'algs="ES256 EdDSA Ed25519 PS256 RS256"'
/** A refusal of a DPoP request: the DPoP challenge with the error, then the Bearer challenge. */
const dpopChallenge = (code: string, description: string) =>
  `DPoP realm="api", error="${code}", error_description="${description}", ${ALGS}, Bearer realm="api"`
const badProof = { error: 'invalid_dpop_proof', error_description: 'invalid DPoP proof' }
const proofOf = (ctx: DpopContext, o: Partial<ProofOptions> = {}) => ctx.client.proof({ url: ctx.url, token: ctx.tokens.bound, ...o })
const now = () => Math.floor(Date.now() / 1000)

/** RFC 9449 rows: a bound token with its proof, and each check of §4.3 / §7.1 failing once. */
const dpopCases: Case[] = [
  {
    name: 'DPoP: a bound token with its proof',
    path: '/user',
    authorization: (t) => `DPoP ${t.bound}`,
    dpop: (ctx) => proofOf(ctx),
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'user', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'DPoP: a bound token presented as a bearer token',
    path: '/user',
    authorization: (t) => `Bearer ${t.bound}`,
    status: 401,
    wwwAuthenticate: `${challenge('invalid_token', 'DPoP proof required')}, DPoP realm="api", ${ALGS}`,
    body: { error: 'invalid_token', error_description: 'DPoP proof required' },
    handlerRan: false,
  },
  {
    name: 'DPoP: a bound token as a bearer token on an optional route is still refused',
    path: '/optional',
    authorization: (t) => `Bearer ${t.bound}`,
    dpop: (ctx) => proofOf(ctx),
    status: 401,
    wwwAuthenticate: `${challenge('invalid_token', 'DPoP proof required')}, DPoP realm="api", ${ALGS}`,
    body: { error: 'invalid_token', error_description: 'DPoP proof required' },
    handlerRan: false,
  },
  {
    name: 'DPoP: an unbound token with the DPoP scheme',
    path: '/user',
    authorization: (t) => `DPoP ${t.user}`,
    dpop: (ctx) => proofOf(ctx, { token: ctx.tokens.user }),
    status: 401,
    wwwAuthenticate: dpopChallenge('invalid_token', 'invalid token'),
    body: { error: 'invalid_token', error_description: 'invalid token' },
    handlerRan: false,
  },
  {
    name: 'DPoP: an expired bound token with a valid proof',
    path: '/user',
    authorization: (t) => `DPoP ${t.boundExpired}`,
    dpop: (ctx) => proofOf(ctx, { token: ctx.tokens.boundExpired }),
    status: 401,
    wwwAuthenticate: dpopChallenge('invalid_token', 'token expired'),
    body: { error: 'invalid_token', error_description: 'token expired' },
    handlerRan: false,
  },
  ...(
    [
      ['no DPoP header', undefined],
      ['two DPoP headers', async (ctx) => [await proofOf(ctx), await proofOf(ctx)]],
      ['a huge proof', (ctx) => proofOf(ctx, { claims: { pad: 'x'.repeat(9000) } })],
      ['wrong htm', (ctx) => proofOf(ctx, { method: 'POST' })],
      ['wrong htu', (ctx) => proofOf(ctx, { url: ctx.url.replace('/user', '/admin') })],
      ['a replayed proof', async (ctx) => {
        const proof = await proofOf(ctx)
        const first = await ctx.send(`DPoP ${ctx.tokens.bound}`, proof)
        if (first.status !== 200) throw new Error(`the first use of the proof answered ${first.status}`)
        return proof
      }],
      ['a stale iat', (ctx) => proofOf(ctx, { iat: now() - 120 })],
      ['an iat in the future', (ctx) => proofOf(ctx, { iat: now() + 120 })],
      ['an ath of another token', (ctx) => proofOf(ctx, { token: ctx.tokens.user })],
      ['the key of another client (jkt mismatch)', (ctx) => ctx.other.proof({ url: ctx.url, token: ctx.tokens.bound })],
      ['a private key in the proof jwk', (ctx) => proofOf(ctx, { header: { jwk: { ...ctx.client.jwk, d: 'AAAA' } } })],
      ['an HS256 proof', async (ctx) =>
        unsignedProof({ typ: 'dpop+jwt', alg: 'HS256', jwk: ctx.client.jwk }, { htm: 'GET', htu: ctx.url, iat: now(), jti: 'hs', ath: ath(ctx.tokens.bound) })],
      ['an alg none proof', async (ctx) =>
        unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: ctx.client.jwk }, { htm: 'GET', htu: ctx.url, iat: now(), jti: 'none', ath: ath(ctx.tokens.bound) })],
      ['a proof of typ JWT', (ctx) => proofOf(ctx, { header: { typ: 'JWT' } })],
    ] as [string, Case['dpop']][]
  ).map(([what, dpop]): Case => ({
    name: `DPoP: ${what}`,
    path: '/user',
    authorization: (t) => `DPoP ${t.bound}`,
    ...(dpop ? { dpop } : {}),
    status: 401,
    wwwAuthenticate: dpopChallenge('invalid_dpop_proof', 'invalid DPoP proof'),
    body: badProof,
    handlerRan: false,
  })),
  {
    name: 'DPoP nonces: a proof without the server nonce',
    path: '/dpop-nonce',
    authorization: (t) => `DPoP ${t.bound}`,
    dpop: (ctx) => proofOf(ctx),
    status: 401,
    wwwAuthenticate: dpopChallenge('use_dpop_nonce', 'DPoP nonce required'),
    body: { error: 'use_dpop_nonce', error_description: 'DPoP nonce required' },
    handlerRan: false,
    dpopNonce: true,
  },
  {
    name: 'DPoP nonces: a proof with the server nonce passes and gets a fresh nonce',
    path: '/dpop-nonce',
    authorization: (t) => `DPoP ${t.bound}`,
    dpop: async (ctx) => proofOf(ctx, { nonce: await ctx.nonce() }),
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'dpop-nonce', sub: 'user-1' },
    handlerRan: true,
    dpopNonce: true,
  },
  {
    name: 'DPoP nonces: a bearer token still passes, without a nonce',
    path: '/dpop-nonce',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'dpop-nonce', sub: 'user-1' },
    handlerRan: true,
  },
]

export const cases: Case[] = [
  {
    name: 'no token',
    path: '/user',
    status: 401,
    wwwAuthenticate: 'Bearer realm="api"',
    body: missing,
    handlerRan: false,
  },
  {
    name: 'another scheme counts as no token',
    path: '/user',
    authorization: () => 'Basic dXNlcjpwYXNz',
    status: 401,
    wwwAuthenticate: 'Bearer realm="api"',
    body: missing,
    handlerRan: false,
  },
  {
    name: 'Bearer without a token',
    path: '/user',
    authorization: () => 'Bearer',
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'two tokens in one header',
    path: '/user',
    authorization: (t) => `Bearer ${t.user} ${t.admin}`,
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'token with bad syntax',
    path: '/user',
    authorization: () => 'Bearer abc!def',
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'bad signature',
    path: '/user',
    authorization: (t) => `Bearer ${t.badSignature}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'invalid token'),
    body: { error: 'invalid_token', error_description: 'invalid token' },
    handlerRan: false,
  },
  {
    name: 'expired token',
    path: '/user',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'token expired'),
    body: { error: 'invalid_token', error_description: 'token expired' },
    handlerRan: false,
  },
  {
    name: 'wrong audience',
    path: '/user',
    authorization: (t) => `Bearer ${t.wrongAudience}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'invalid token'),
    body: { error: 'invalid_token', error_description: 'invalid token' },
    handlerRan: false,
  },
  {
    name: 'valid user',
    path: '/user',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'user', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'scheme is case-insensitive',
    path: '/user',
    authorization: (t) => `bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'user', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'valid admin',
    path: '/admin',
    authorization: (t) => `Bearer ${t.admin}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'admin', sub: 'admin-1' },
    handlerRan: true,
  },
  {
    name: 'missing role',
    path: '/admin',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge('insufficient_scope', 'insufficient role'),
    body: { error: 'insufficient_scope', error_description: 'insufficient role' },
    handlerRan: false,
  },
  {
    name: 'guarded route without a token',
    path: '/admin',
    status: 401,
    wwwAuthenticate: 'Bearer realm="api"',
    body: missing,
    handlerRan: false,
  },
  {
    name: 'missing scope',
    path: '/scoped',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge(
      'insufficient_scope',
      'insufficient scope',
      ', scope="orders:read orders:write"',
    ),
    body: { error: 'insufficient_scope', error_description: 'insufficient scope' },
    handlerRan: false,
  },
  {
    name: 'all scopes present',
    path: '/scoped',
    authorization: (t) => `Bearer ${t.admin}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'scoped', sub: 'admin-1' },
    handlerRan: true,
  },
  {
    name: 'claim mismatch',
    path: '/tenant',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge('insufficient_scope', 'insufficient claims'),
    body: { error: 'insufficient_scope', error_description: 'insufficient claims' },
    handlerRan: false,
  },
  {
    name: 'claim match',
    path: '/tenant',
    authorization: (t) => `Bearer ${t.admin}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'tenant', sub: 'admin-1' },
    handlerRan: true,
  },
  {
    name: 'optional auth without a token',
    path: '/optional',
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'optional', sub: null },
    handlerRan: true,
  },
  {
    name: 'optional auth with a valid token',
    path: '/optional',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'optional', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'optional auth with a bad token',
    path: '/optional',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'token expired'),
    body: { error: 'invalid_token', error_description: 'token expired' },
    handlerRan: false,
  },
  {
    name: 'optional auth with a malformed header',
    path: '/optional',
    authorization: () => 'Bearer',
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'configured realm',
    path: '/realm',
    status: 401,
    wwwAuthenticate: 'Bearer realm="orders"',
    body: missing,
    handlerRan: false,
  },
  {
    name: 'onError answer replaces the default',
    path: '/hooked',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 418,
    wwwAuthenticate: null,
    body: custom('invalid_token'),
    handlerRan: false,
  },
  {
    name: 'onError is not called on success',
    path: '/hooked',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'hooked', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'guard onError answer replaces the default',
    path: '/hooked-role',
    authorization: (t) => `Bearer ${t.user}`,
    status: 418,
    wwwAuthenticate: null,
    body: custom('insufficient_scope'),
    handlerRan: false,
  },
  // several credentials: two Authorization lines reach Web Headers joined with ", " (item 15)
  {
    name: 'two Authorization lines: Basic, then Bearer',
    path: '/user',
    authorization: (t) => ['Basic dXNlcjpwYXNz', `Bearer ${t.user}`],
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'two Authorization lines: Bearer, then Basic',
    path: '/user',
    authorization: (t) => [`Bearer ${t.user}`, 'Basic dXNlcjpwYXNz'],
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'two Authorization lines, both Bearer',
    path: '/user',
    authorization: (t) => [`Bearer ${t.user}`, `Bearer ${t.admin}`],
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'an empty Authorization line, then a Bearer one',
    path: '/user',
    authorization: (t) => ['', `Bearer ${t.user}`],
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'two Authorization lines with optional auth are not anonymous',
    path: '/optional',
    authorization: (t) => ['Basic dXNlcjpwYXNz', `Bearer ${t.user}`],
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'two credentials in one line',
    path: '/user',
    authorization: (t) => `Basic dXNlcjpwYXNz, Bearer ${t.user}`,
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'one credential with comma-separated auth-params is one credential of another scheme',
    path: '/user',
    authorization: () => 'Digest username="a", realm="b, c", nonce="d"',
    status: 401,
    wwwAuthenticate: 'Bearer realm="api"',
    body: missing,
    handlerRan: false,
  },
  // whitespace around the credential is SP/HTAB only (item 11)
  {
    name: 'a no-break space (0xA0) after the token',
    path: '/user',
    authorization: (t) => `Bearer ${t.user}\u00a0`,
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'a no-break space (0xA0) before the scheme',
    path: '/user',
    authorization: (t) => `\u00a0Bearer ${t.user}`,
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    // U+3000 cannot be a header character; on the wire it is its UTF-8 bytes, read as Latin-1
    name: 'an ideographic space (U+3000, UTF-8 bytes) after the token',
    path: '/user',
    authorization: (t) => `Bearer ${t.user}\u00e3\u0080\u0080`,
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header'),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'SP and HTAB around the credential are fine',
    path: '/user',
    authorization: (t) => `Bearer \t${t.user}\t `,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'user', sub: 'user-1' },
    handlerRan: true,
  },
  // guards inherit realm, onError and onFailure from the requireAuth before them (item 17)
  {
    name: 'guard answers with the realm of requireAuth and tells its onFailure',
    path: '/inherit',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge('insufficient_scope', 'insufficient scope', ', scope="orders:write"', 'orders'),
    body: { error: 'insufficient_scope', error_description: 'insufficient scope' },
    handlerRan: false,
    failures: ['insufficient_scope'],
  },
  {
    name: 'requireAuth with realm and onFailure, no token',
    path: '/inherit',
    status: 401,
    wwwAuthenticate: 'Bearer realm="orders"',
    body: missing,
    handlerRan: false,
    failures: ['missing_token'],
  },
  {
    name: 'requireAuth with realm and onFailure, guard passes',
    path: '/inherit',
    authorization: (t) => `Bearer ${t.admin}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'inherit', sub: 'admin-1' },
    handlerRan: true,
  },
  {
    name: 'guard answers with the onError of requireAuth and tells its onFailure',
    path: '/inherit-hooked',
    authorization: (t) => `Bearer ${t.user}`,
    status: 418,
    wwwAuthenticate: null,
    body: custom('insufficient_scope'),
    handlerRan: false,
    failures: ['insufficient_scope'],
  },
  {
    name: 'requireAuth onError answers its own failure on a guarded route',
    path: '/inherit-hooked',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 418,
    wwwAuthenticate: null,
    body: custom('invalid_token'),
    handlerRan: false,
    failures: ['invalid_token'],
  },
  {
    name: "guard's own realm wins over requireAuth's",
    path: '/inherit-own',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge('insufficient_scope', 'insufficient role', '', 'admin'),
    body: { error: 'insufficient_scope', error_description: 'insufficient role' },
    handlerRan: false,
    failures: ['insufficient_scope'],
  },
  {
    name: 'guard after optional requireAuth without a token answers 401 with its realm',
    path: '/optional-role',
    status: 401,
    wwwAuthenticate: 'Bearer realm="orders"',
    body: missing,
    handlerRan: false,
  },
  // optional auth with a verifier of another build (item 16)
  {
    name: 'optional auth with a verifier of another build, no token',
    path: '/foreign-optional',
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'foreign-optional', sub: null },
    handlerRan: true,
  },
  {
    name: 'optional auth with a verifier of another build, valid token',
    path: '/foreign-optional',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'foreign-optional', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'optional auth with a verifier of another build, expired token',
    path: '/foreign-optional',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'token expired'),
    body: { error: 'invalid_token', error_description: 'token expired' },
    handlerRan: false,
  },
  // resource_metadata in every challenge (RFC 9728 §5.1), inherited by the guards like the realm
  {
    name: 'resourceMetadata: no token',
    path: '/metadata',
    status: 401,
    wwwAuthenticate: `Bearer realm="api", resource_metadata="${METADATA_URL}"`,
    body: missing,
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: expired token',
    path: '/metadata',
    authorization: (t) => `Bearer ${t.expired}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'token expired', `, resource_metadata="${METADATA_URL}"`),
    body: { error: 'invalid_token', error_description: 'token expired' },
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: malformed header',
    path: '/metadata',
    authorization: () => 'Bearer',
    status: 400,
    wwwAuthenticate: challenge('invalid_request', 'malformed authorization header', `, resource_metadata="${METADATA_URL}"`),
    body: malformed,
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: valid token',
    path: '/metadata',
    authorization: (t) => `Bearer ${t.user}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'metadata', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'resourceMetadata: a guard after requireAuth inherits it (403)',
    path: '/metadata-scoped',
    authorization: (t) => `Bearer ${t.user}`,
    status: 403,
    wwwAuthenticate: challenge('insufficient_scope', 'insufficient scope', `, scope="orders:write", resource_metadata="${METADATA_URL}"`),
    body: { error: 'insufficient_scope', error_description: 'insufficient scope' },
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: guarded route without a token',
    path: '/metadata-scoped',
    status: 401,
    wwwAuthenticate: `Bearer realm="api", resource_metadata="${METADATA_URL}"`,
    body: missing,
    handlerRan: false,
  },
  {
    name: "resourceMetadata: true, from the verifier's resource, no token",
    path: '/metadata-resource',
    status: 401,
    wwwAuthenticate: `Bearer realm="api", resource_metadata="${METADATA_URL}"`,
    body: missing,
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: true, a token for another resource',
    path: '/metadata-resource',
    authorization: (t) => `Bearer ${t.user}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'invalid token', `, resource_metadata="${METADATA_URL}"`),
    body: { error: 'invalid_token', error_description: 'invalid token' },
    handlerRan: false,
  },
  {
    name: 'resourceMetadata: true, a token for the resource',
    path: '/metadata-resource',
    authorization: (t) => `Bearer ${t.resourceUser}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'metadata-resource', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: "resourceMetadata: true without a resource, from the request's URL",
    path: '/metadata-request?page=2',
    headers: { host: 'api.example.test' },
    status: 401,
    wwwAuthenticate: 'Bearer realm="api", resource_metadata="http://api.example.test/.well-known/oauth-protected-resource/metadata-request"',
    body: missing,
    handlerRan: false,
  },
  {
    name: 'opaque token, introspected',
    path: '/user',
    authorization: (t) => `Bearer ${t.opaque}`,
    status: 200,
    wwwAuthenticate: null,
    body: { route: 'user', sub: 'user-1' },
    handlerRan: true,
  },
  {
    name: 'opaque token, inactive (revoked)',
    path: '/user',
    authorization: (t) => `Bearer ${t.revokedOpaque}`,
    status: 401,
    wwwAuthenticate: challenge('invalid_token', 'invalid token'),
    body: { error: 'invalid_token', error_description: 'invalid token' },
    handlerRan: false,
  },
  {
    name: 'opaque token, introspection endpoint down',
    path: '/down',
    authorization: (t) => `Bearer ${t.opaque}`,
    status: 503,
    wwwAuthenticate: null,
    body: {
      error: 'temporarily_unavailable',
      error_description: 'token introspection unavailable, retry later',
    },
    handlerRan: false,
  },
  {
    name: 'key endpoint down',
    path: '/down',
    authorization: (t) => `Bearer ${t.user}`,
    status: 503,
    wwwAuthenticate: null,
    body: {
      error: 'temporarily_unavailable',
      error_description: 'authorization keys unavailable, retry later',
    },
    handlerRan: false,
  },
  ...dpopCases,
]

/** The issuer, tokens and msw handlers shared by the conformance runs. */
export async function createConformanceSetup(): Promise<{
  issuer: TestIssuer
  tokens: Tokens
  client: DpopClient
  other: DpopClient
  handlers: RequestHandler[]
  fixture(ran: (route: string) => void, failed: (code: string) => void): Fixture
  dispose(): Promise<void>
}> {
  const secondCopy = await buildSecondCopy({ core: 'src/index.ts' })
  const foreign = secondCopy.load<typeof import('bearer-guard')>('core')
  const issuer = await createTestIssuer({ algorithm: 'RS256' })
  const impostor = await createTestIssuer({
    algorithm: 'RS256',
    issuer: issuer.issuer,
    kid: issuer.kid,
  })
  const client = await dpopClient('ES256')
  const other = await dpopClient('ES256')
  const tokens: Tokens = {
    user: await issuer.sign({
      sub: 'user-1',
      roles: ['user'],
      scope: 'orders:read',
      tenant: 'globex',
    }),
    admin: await issuer.sign({
      sub: 'admin-1',
      roles: ['admin', 'user'],
      scope: 'orders:read orders:write',
      tenant: 'acme',
    }),
    expired: await issuer.expired({ sub: 'user-1' }),
    badSignature: await impostor.sign({ sub: 'user-1', roles: ['admin'] }),
    wrongAudience: await issuer.sign({ sub: 'user-1' }, { audience: 'https://other-api.test' }),
    bound: await issuer.sign({ sub: 'user-1', roles: ['user'], cnf: { jkt: client.jkt } }),
    boundExpired: await issuer.expired({ sub: 'user-1', cnf: { jkt: client.jkt } }),
    opaque: issuer.opaque({ roles: ['user'], scope: 'orders:read' }, { subject: 'user-1' }),
    revokedOpaque: issuer.opaque({}, { subject: 'user-1' }),
    resourceUser: await issuer.sign({ sub: 'user-1', scope: 'orders:read' }, { audience: `${RESOURCE}/` }),
  }
  issuer.revoke(tokens.revokedOpaque)
  // through msw, like the JWKS (no `fetch` of the issuer's own)
  const introspection = issuer.introspectionOptions({ fetch: undefined })
  const handlers = [
    ...(await issuer.mswHandlers()),
    http.get(DOWN_JWKS, () => new HttpResponse('oops', { status: 500 })),
    http.post(DOWN_INTROSPECTION, () => new HttpResponse('oops', { status: 500 })),
  ]
  return {
    issuer,
    tokens,
    client,
    other,
    handlers,
    // fresh verifiers per app: no cache or back-off state crosses from one adapter's run to the next
    fixture: (ran, failed) => ({
      verifier: createVerifier({ ...(issuer.verifierOptions('jwks') as IssuerOptions<undefined>), introspection }),
      // muted: the table checks the 503 answer; the outage warning itself is tested in test/core
      downVerifier: createVerifier({
        ...(issuer.verifierOptions('jwks', { jwksUri: DOWN_JWKS }) as IssuerOptions<undefined>),
        introspection: { ...introspection, endpoint: DOWN_INTROSPECTION },
        logger: false,
      }),
      nonceVerifier: createVerifier({
        ...(issuer.verifierOptions('jwks') as IssuerOptions<undefined>),
        dpop: { nonce: { secret: 'the conformance table nonce secret!' } },
      }),
      // static keys: the second copy fetches nothing
      foreignVerifier: foreign.createVerifier(
        issuer.verifierOptions('keys') as IssuerOptions<undefined>,
      ) as unknown as Verifier,
      resourceVerifier: createVerifier({ ...withoutAudience(issuer.verifierOptions('jwks') as IssuerOptions<undefined>), resource: RESOURCE }),
      ran,
      failed,
    }),
    dispose: () => secondCopy.dispose(),
  }
}

function withoutAudience({ audience: _audience, ...options }: IssuerOptions<undefined>) {
  return options
}

/** A request to the served metadata, and the answer every adapter must give. */
export interface MetadataCase {
  name: string
  path: string
  method: string
  headers?: Record<string, string>
  status: number
  /** Headers compared exactly (`null`: absent). */
  expectHeaders: Record<string, string | null>
  /** The body parsed as JSON, `''` for none; `undefined`: not compared (the framework's 404). */
  body?: unknown
}

export const METADATA_DOCUMENT = {
  resource: RESOURCE,
  authorization_servers: ['https://auth.example.test'],
  scopes_supported: ['orders:read', 'orders:write'],
  bearer_methods_supported: ['header'],
  resource_name: 'Conformance API',
}
const served = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'public, max-age=600',
  'access-control-allow-origin': '*',
}

export const metadataCases: MetadataCase[] = [
  { name: 'GET: the document', path: METADATA_PATH, method: 'GET', status: 200, expectHeaders: served, body: METADATA_DOCUMENT },
  { name: 'GET with a query: the document', path: `${METADATA_PATH}?x=1`, method: 'GET', status: 200, expectHeaders: served, body: METADATA_DOCUMENT },
  { name: 'HEAD: the headers, no body', path: METADATA_PATH, method: 'HEAD', status: 200, expectHeaders: served, body: '' },
  {
    name: 'OPTIONS: a CORS preflight',
    path: METADATA_PATH,
    method: 'OPTIONS',
    headers: { origin: 'https://client.example.test', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
    status: 204,
    expectHeaders: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD, OPTIONS',
      'access-control-allow-headers': '*',
      'access-control-max-age': '86400',
      'cache-control': null,
    },
    body: '',
  },
  {
    name: 'POST: 405, with Allow',
    path: METADATA_PATH,
    method: 'POST',
    status: 405,
    expectHeaders: { allow: 'GET, HEAD, OPTIONS', 'content-type': 'application/json; charset=utf-8', 'cache-control': null },
    body: { error: 'method_not_allowed', error_description: 'use GET, HEAD, OPTIONS' },
  },
  { name: 'DELETE: 405', path: METADATA_PATH, method: 'DELETE', status: 405, expectHeaders: { allow: 'GET, HEAD, OPTIONS' } },
  { name: 'the root document of another resource is not served', path: '/.well-known/oauth-protected-resource', method: 'GET', status: 404, expectHeaders: {} },
  { name: 'a trailing slash is another path', path: `${METADATA_PATH}/`, method: 'GET', status: 404, expectHeaders: {} },
  { name: 'a longer path is another path', path: `${METADATA_PATH}/tools`, method: 'GET', status: 404, expectHeaders: {} },
]

/** What a row compares: the answer, normalized to what every adapter must agree on. */
export async function observe(res: Response) {
  const text = await res.text()
  return {
    status: res.status,
    wwwAuthenticate: res.headers.get('www-authenticate'),
    contentType: res.headers.get('content-type'),
    cacheControl: res.headers.get('cache-control'),
    retryAfter: res.headers.get('retry-after'),
    custom: res.headers.get(CUSTOM.header[0]),
    dpopNonce: /^[A-Za-z0-9_-]{43}$/.test(res.headers.get('dpop-nonce') ?? ''),
    exposes: res.headers.get('access-control-expose-headers'),
    body: JSON.parse(text) as unknown,
  }
}
