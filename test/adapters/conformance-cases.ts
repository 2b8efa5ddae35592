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
 * | /down         | requireAuth(downVerifier)   (its JWKS endpoint answers 500)       |
 *
 * A handler calls `fixture.ran(route)` and answers `200 { route, sub: auth?.subject ?? null }`.
 */
import { http, HttpResponse, type RequestHandler } from 'msw'
import { createVerifier, type AuthError, type IssuerOptions, type Verifier } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'

export const DOWN_JWKS = 'https://keys-down.test/jwks.json'

/** The answer every `onError` hook of the harnesses produces. */
export const CUSTOM = {
  status: 418,
  header: ['x-custom', 'yes'] as const,
  body: (error: AuthError) => ({ custom: true, error: error.code }),
}

export interface Fixture {
  verifier: Verifier
  downVerifier: Verifier
  ran(route: string): void
}

/** A running app; `fetch` sends a GET to `path` with the given Authorization header(s). */
export interface App {
  fetch(path: string, authorization?: string): Promise<Response>
  close(): Promise<void>
}

export interface Harness {
  name: 'express' | 'express 4' | 'fastify' | 'koa' | 'hono' | 'next'
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
}

export interface Case {
  name: string
  path: string
  authorization?: (t: Tokens) => string
  status: number
  /** Exact `WWW-Authenticate`, or `null` for none. */
  wwwAuthenticate: string | null
  body: unknown
  handlerRan: boolean
}

const missing = { error: 'missing_token', error_description: 'authentication required' }
const malformed = { error: 'invalid_request', error_description: 'malformed authorization header' }
const challenge = (code: string, description: string, extra = '') =>
  `Bearer realm="api", error="${code}", error_description="${description}"${extra}`
const custom = (error: string) => ({ custom: true, error })

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
]

/** The issuer, tokens and msw handlers shared by the conformance runs. */
export async function createConformanceSetup(): Promise<{
  issuer: TestIssuer
  tokens: Tokens
  handlers: RequestHandler[]
  fixture(ran: (route: string) => void): Fixture
}> {
  const issuer = await createTestIssuer({ algorithm: 'RS256' })
  const impostor = await createTestIssuer({
    algorithm: 'RS256',
    issuer: issuer.issuer,
    kid: issuer.kid,
  })
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
  }
  const handlers = [
    ...(await issuer.mswHandlers()),
    http.get(DOWN_JWKS, () => new HttpResponse('oops', { status: 500 })),
  ]
  return {
    issuer,
    tokens,
    handlers,
    // fresh verifiers per app: no cache or back-off state crosses from one adapter's run to the next
    fixture: (ran) => ({
      verifier: createVerifier(issuer.verifierOptions('jwks') as IssuerOptions<undefined>),
      downVerifier: createVerifier(
        issuer.verifierOptions('jwks', { jwksUri: DOWN_JWKS }) as IssuerOptions<undefined>,
      ),
      ran,
    }),
  }
}

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
    body: JSON.parse(text) as unknown,
  }
}
