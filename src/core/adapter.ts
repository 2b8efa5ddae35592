/**
 * What every framework adapter shares, so that each adapter only translates request and response:
 * turning options into a verifier once, authenticating a request, optional auth, the guards and the
 * options they inherit, the error answer and the logging hook.
 *
 * @module bearer-guard
 */
import { isAuthError, type AuthError } from './errors.js'
import { claimsGuard, roleGuard, scopeGuard, type ClaimRequirement, type Guard } from './guards.js'
import { toErrorResponse, webResponse, type ErrorResponse } from './http.js'
import type { AuthRequest, HeaderValue } from './request.js'
import { requestResource, resourceMetadataUrl } from './resource.js'
import { createVerifier, isVerifier } from './verifier.js'
import type { AuthContext, Verifier, VerifierOptions } from './types.js'

/**
 * Options of every adapter's `requireAuth`. `Ctx` is the framework's request context
 * (Express: `[req, res]`, Fastify: `[request, reply]`, Koa: `[ctx]`, Hono: `[c]`, Next.js: `[request]`).
 */
export interface AdapterOptions<Ctx extends unknown[] = unknown[], R = unknown> {
  /** No token → continue without `auth`. A present but invalid token is still rejected. Default: `false`. */
  optional?: boolean
  /** Realm of the `WWW-Authenticate` challenge. Default: `'api'`. */
  realm?: string
  /** Shapes the answer: called for every `AuthError`; a response it produces replaces the default one. */
  onError?: (error: AuthError, ...ctx: Ctx) => R
  /** Told of every `AuthError` with its detailed `reason` (for logs); cannot change the answer. */
  onFailure?: (error: AuthError, ...ctx: Ctx) => void
  /**
   * Ends every challenge with `resource_metadata="…"` (RFC 9728 §5.1), as MCP clients expect: the
   * absolute URL of the protected-resource metadata, or `true` for the one of the verifier's
   * `resource` (without one, of the request's URL: origin and path). The guards after `requireAuth`
   * inherit it. Default: none.
   */
  resourceMetadata?: string | URL | true
}

/** Options of the guard middleware (`requireRole`, `requireScopes`, `requireClaims`). */
export interface GuardOptions<Ctx extends unknown[] = unknown[], R = unknown> {
  /** `true`: one of the listed values suffices. Default: all of them. */
  any?: boolean
  realm?: string
  onError?: (error: AuthError, ...ctx: Ctx) => R
  onFailure?: (error: AuthError, ...ctx: Ctx) => void
}

/**
 * A `Verifier` as is, or a new one built from options (validated now, at start-up).
 * Pass one `Verifier` to many routes and apps so they share one JWKS cache.
 */
export function toVerifier<C>(input: Verifier<C> | VerifierOptions): Verifier<C> {
  return isVerifier(input) ? (input as Verifier<C>) : (createVerifier(input as VerifierOptions) as never)
}

/**
 * Verifies a request; with `optional`, a request without credentials yields `undefined`.
 * Rejects only with `AuthError`. Adds no promise of its own to the verifier's.
 *
 * @param request The request (`nodeRequest()`, `webRequest()`, an adapter's `requestOf()`), or, as
 * in the first wave, the bare `Authorization` value (which carries no DPoP proof or certificate).
 */
export function authenticateRequest<C>(
  verifier: Verifier<C>,
  request: AuthRequest | HeaderValue,
  optional: boolean | undefined,
): Promise<AuthContext<C> | undefined> {
  let auth: Promise<AuthContext<C>>
  try {
    // the request-level entry (DPoP, mTLS); a verifier of an older build has only `authenticate`
    auth = !isRequest(request)
      ? verifier.authenticate(request)
      : typeof verifier.authenticateRequest === 'function'
        ? verifier.authenticateRequest(request)
        : verifier.authenticate(request.headers.authorization)
  } catch (error) {
    // a verifier that throws instead of rejecting still gives a rejected promise
    auth = Promise.reject(error)
  }
  return optional ? auth.catch(skipMissingToken) : auth
}

/**
 * The headers a successful request adds to its response: `auth.responseHeaders` (a fresh
 * `DPoP-Nonce` when DPoP nonces are on), with `Access-Control-Expose-Headers` merged into the value
 * the response already has (`current`), so a CORS middleware's list is kept. Empty for most requests.
 *
 * @param auth The request's `AuthContext` (or `undefined`: optional auth without a token).
 * @param current Reads a header the response already has (Express `res.get`, Koa `ctx.response.get`).
 */
export function successHeaders(auth: AuthContext<any> | null | undefined, current: (name: string) => unknown): [name: string, value: string][] {
  const headers = auth?.responseHeaders
  if (headers === undefined) return []
  const out: [string, string][] = []
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'access-control-expose-headers') {
      out.push([name, value])
      continue
    }
    const had = current(name)
    const before = (Array.isArray(had) ? had.join(', ') : typeof had === 'string' ? had : '').trim()
    if (before === '*') continue
    const names = before === '' ? [] : before.split(',').map((n) => n.trim())
    const lower = new Set(names.map((n) => n.toLowerCase()))
    for (const n of value.split(',').map((v) => v.trim())) if (!lower.has(n.toLowerCase())) names.push(n)
    out.push([name, names.join(', ')])
  }
  return out
}

/**
 * Adds `successHeaders(auth)` to a framework's response through its own getter and setter: what each
 * adapter does after a successful `requireAuth`. Returns at once, allocating nothing, when `auth`
 * has no `responseHeaders` (most requests); `get` and `set` are functions made once (a module's),
 * with the response passed in, so the common path makes no closure either.
 *
 * @example The Express adapter's use: the getter and setter made once, at module level.
 * ```ts
 * const getHeader = (res: Response, name: string) => res.get(name)
 * const setHeader = (res: Response, name: string, value: string) => void res.set(name, value)
 * // in the middleware, after a successful verification
 * addSuccessHeaders(auth, res, getHeader, setHeader)
 * ```
 */
export function addSuccessHeaders<R>(
  auth: AuthContext<any> | null | undefined,
  response: R,
  get: (response: R, name: string) => unknown,
  set: (response: R, name: string, value: string) => void,
): void {
  if (auth?.responseHeaders === undefined) return
  for (const [name, value] of successHeaders(auth, (name) => get(response, name))) set(response, name, value)
}

/**
 * A Web `Response` with `successHeaders(auth)` added (a copy when its headers are immutable, as a
 * `fetch` answer's or `Response.redirect`'s are). The same response when there is nothing to add.
 */
export function withSuccessHeaders(response: Response, auth: AuthContext<any> | null | undefined): Response {
  const headers = successHeaders(auth, (name) => response.headers.get(name) ?? undefined)
  if (headers.length === 0) return response
  let out = response
  try {
    for (const [name, value] of headers) out.headers.set(name, value)
  } catch {
    out = new Response(response.body, response)
    for (const [name, value] of headers) out.headers.set(name, value)
  }
  return out
}

function isRequest(value: AuthRequest | HeaderValue): value is AuthRequest {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `requireAuth` for one request: records `options` for the guards after it (on `key`, the object
 * every middleware of the request sees), then `authenticateRequest`.
 */
export function admitRequest<C>(
  verifier: Verifier<C>,
  request: AuthRequest,
  options: InheritedOptions & { optional?: boolean },
  key: object,
): Promise<AuthContext<C> | undefined> {
  recordAuthOptions(key, options)
  // what `resourceMetadata: true` is worked out from, should the request be refused
  if (options.resourceMetadata === true) metadataSources.set(key, { verifier, request })
  return authenticateRequest(verifier, request, options.optional)
}

function skipMissingToken(error: unknown): undefined {
  // the brand, not `instanceof`: the verifier may come from the other build (CJS beside ESM)
  if (isAuthError(error) && error.code === 'missing_token') return undefined
  throw error
}

/** What a guard inherits from the `requireAuth` that ran before it on the same request. */
export interface InheritedOptions {
  realm?: string
  onError?: (error: AuthError, ...ctx: any[]) => unknown
  onFailure?: (error: AuthError, ...ctx: any[]) => void
  resourceMetadata?: string | URL | true
}

/** Per request (keyed by the framework's request object): the options of the last `requireAuth`. */
const authOptions = new WeakMap<object, InheritedOptions>()
/** Per request, with `resourceMetadata: true`: the verifier and request the URL is derived from. */
const metadataSources = new WeakMap<object, { verifier: Verifier<any>; request: AuthRequest }>()

/**
 * Records `realm`, `onError` and `onFailure` of a `requireAuth` for the request it runs on, so the
 * guards after it answer with them. `request` is the object every middleware of the request sees
 * (Express `req`, Fastify `request`, Koa `ctx`, Hono `c`); the entry goes with it.
 */
export function recordAuthOptions(request: object, options: InheritedOptions & { optional?: boolean }): void {
  if (!recording) {
    // nothing recorded yet in this process: options with nothing to inherit need no entry (a guard
    // without one reads its own options alone, which is what inheriting nothing gives)
    if (options.realm === undefined && options.onError === undefined && options.onFailure === undefined && options.resourceMetadata === undefined) return
    recording = true
  }
  // the options object itself (no copy per request); guards read only the inherited fields.
  // Once any requireAuth has something to pass on, every one records (the last one of a request wins)
  authOptions.set(request, options)
}

/**
 * Whether a `requireAuth` with something for the guards to inherit has run in this process. Until
 * then no request needs an entry in `authOptions`: one WeakMap entry per request was the largest
 * share of the adapters' own time under never-seen tokens (bench/profile-http.ts).
 */
let recording = false

/**
 * A guard's options for this request: its own, over the `realm`, `onError`, `onFailure` and
 * `resourceMetadata` recorded by the `requireAuth` before it (an option the guard leaves `undefined`
 * is inherited), with `resourceMetadata: true` turned into its URL. For a refusal of `requireAuth`
 * itself, pass its own options: `refuse(framework, error, guardFailureOptions(req, options), …)`.
 */
export function guardFailureOptions<O extends object>(request: object, own: O): O {
  const inherited = authOptions.get(request)
  let out = own as O & { resourceMetadata?: string | URL | true }
  if (inherited) {
    const merged: Record<string, unknown> = {}
    const { realm, onError, onFailure, resourceMetadata } = inherited
    for (const [key, value] of Object.entries({ realm, onError, onFailure, resourceMetadata })) if (value !== undefined) merged[key] = value
    for (const [key, value] of Object.entries(own)) if (value !== undefined) merged[key] = value
    out = merged as typeof out
  }
  if (out.resourceMetadata !== true) return out
  const source = metadataSources.get(request)
  // a guard with no requireAuth(…, { resourceMetadata: true }) before it knows no resource: no parameter
  return { ...out, resourceMetadata: source && resourceMetadataOf(true, source.verifier, source.request) }
}

/**
 * The URL `resourceMetadata` stands for on this request: as given, or for `true` the metadata URL
 * of the verifier's `resource` (without one, of the request's origin and path); `undefined` when
 * not set. Read on a refusal only (the request's URL is worked out then).
 */
export function resourceMetadataOf(
  value: string | URL | true | undefined,
  verifier: Pick<Verifier<any>, 'resource'>,
  request: Pick<AuthRequest, 'url'>,
): string | undefined {
  if (value === undefined) return undefined
  if (value !== true) return String(value)
  return resourceMetadataUrl(verifier.resource ?? requestResource(request.url))
}

/**
 * Checks the options of a `requireAuth` when it is built (a `TypeError` names the bad one):
 * `resourceMetadata` must be `true` or an absolute http(s) URL.
 */
export function checkAuthOptions(options: { resourceMetadata?: unknown }): void {
  const value = options.resourceMetadata
  if (value === undefined || value === true) return
  let ok = false
  if (typeof value === 'string' || value instanceof URL) {
    try {
      ok = /^https?:$/.test(new URL(String(value)).protocol) && !String(value).includes('#')
    } catch {
      ok = false
    }
  }
  if (!ok) {
    throw new TypeError('bearer-guard: invalid option "resourceMetadata": expected true or an absolute http(s) URL without a fragment')
  }
}

/** What `resolveFailure` needs: the adapter's options, and how to tell that `onError` answered. */
export interface FailureOptions<Ctx extends unknown[], R> {
  realm?: string
  /** The metadata URL of the challenges; `true` (not yet resolved, see `guardFailureOptions`) adds none. */
  resourceMetadata?: string | URL | true
  onError?: (error: AuthError, ...ctx: Ctx) => R
  onFailure?: (error: AuthError, ...ctx: Ctx) => void
  /** Whether `onError`'s result is an answer. Default: anything but `undefined`/`null`. */
  answered?: (result: Awaited<R>) => boolean
}

/**
 * Runs the hooks for a failure and returns what the adapter should send: `{ custom }` when
 * `onError` answered, else `{ response }` (the default answer).
 * Non-`AuthError`s are rethrown for the host framework to handle.
 */
export async function resolveFailure<Ctx extends unknown[], R>(
  error: unknown,
  options: FailureOptions<Ctx, R>,
  ...ctx: Ctx
): Promise<{ custom: Awaited<R> } | { response: ErrorResponse }> {
  if (!isAuthError(error)) throw error
  options.onFailure?.(error, ...ctx)
  if (options.onError) {
    const custom = await options.onError(error, ...ctx)
    const answered = options.answered ? options.answered(custom) : custom !== undefined && custom !== null
    if (answered) return { custom }
  }
  return { response: toErrorResponse(error, challengeOptions(options)) }
}

/** The challenge's `realm` and `resourceMetadata` (an unresolved `true` adds none). */
function challengeOptions(options: { realm?: string; resourceMetadata?: string | URL | true }) {
  const { realm, resourceMetadata } = options
  return { realm, resourceMetadata: resourceMetadata === true ? undefined : resourceMetadata }
}

/**
 * `resolveFailure` for Web-standard adapters (Hono, Next.js): `onError` answers by returning a
 * `Response`; `custom` tells whether the response is `onError`'s or the default one.
 */
export async function resolveWebFailure<Ctx extends unknown[]>(
  error: unknown,
  options: Omit<FailureOptions<Ctx, unknown>, 'answered'>,
  ...ctx: Ctx
): Promise<{ response: Response; custom: boolean }> {
  const out = await resolveFailure(error, { ...options, answered: (r) => r instanceof Response }, ...ctx)
  return 'custom' in out ? { response: out.custom as Response, custom: true } : { response: webResponse(out.response), custom: false }
}

/**
 * How an adapter ends a refused request in its framework; `refuse` runs the hooks and decides.
 * `Ctx` is what `onError`/`onFailure` receive, `Out` what the middleware returns after refusing.
 */
export interface Framework<Ctx extends unknown[], Out> {
  /** Read before `onError` runs and handed to `answered` (Koa: the body, to see whether `onError` set one). */
  before?(...ctx: Ctx): unknown
  /** Whether `onError` answered, by its result or what it did. Default: a result other than `undefined`/`null`. */
  answered?(result: unknown, before: unknown, ...ctx: Ctx): boolean
  /** Ends the request: with `onError`'s answer when `refusal.answered`, else with `refusal.response`. */
  refuse(refusal: Refusal, ...ctx: Ctx): Out
}

/** A refused request, as `refuse` hands it to the adapter. */
export interface Refusal {
  error: AuthError
  /** The default answer (status, RFC 6750 headers, JSON body), with the options' realm. */
  response: ErrorResponse
  /** `onError` answered; `result` is what it returned. */
  answered: boolean
  result: unknown
}

/**
 * A failure of `requireAuth` or of a guard, answered: tells `onFailure`, asks `onError`, then lets
 * the framework end the request. Anything but an `AuthError` is rethrown for the host framework.
 */
export async function refuse<Ctx extends unknown[], Out>(
  framework: Framework<Ctx, Out>,
  error: unknown,
  options: GuardOptions<Ctx, unknown> & { resourceMetadata?: string | URL | true },
  ...ctx: Ctx
): Promise<Out> {
  const before = framework.before?.(...ctx)
  const answered = framework.answered && ((result: unknown) => framework.answered!(result, before, ...ctx))
  const out = await resolveFailure(error, { ...options, answered }, ...ctx)
  const authError = error as AuthError // resolveFailure rethrows anything else
  if ('response' in out) return framework.refuse({ error: authError, response: out.response, answered: false, result: undefined }, ...ctx)
  const response = toErrorResponse(authError, challengeOptions(options))
  return framework.refuse({ error: authError, response, answered: true, result: out.custom }, ...ctx)
}

/**
 * A guard for one request: `undefined` when it passes, else `refuse` with the guard's options over
 * those the `requireAuth` before it recorded on `key`.
 */
export function runGuard<Ctx extends unknown[], Out>(
  framework: Framework<Ctx, Out>,
  guard: Guard,
  options: GuardOptions<Ctx, unknown>,
  key: object,
  auth: AuthContext<any> | null | undefined,
  ...ctx: Ctx
): Promise<Out> | undefined {
  try {
    guard(auth)
    return undefined
  } catch (error) {
    return refuse(framework, error, guardFailureOptions(key, options), ...ctx)
  }
}

/**
 * An adapter's `requireRole`, `requireScopes` and `requireClaims`, from its way of turning a
 * `Guard` into middleware (an empty requirement is a `TypeError` now, at start-up).
 */
export function guardMiddleware<O extends { any?: boolean }, M, C = any>(middleware: (guard: Guard, options: O) => M) {
  return {
    requireRole: (roles: string | readonly string[], options: O = {} as O): M => middleware(roleGuard(roles, options), options),
    requireScopes: (scopes: string | readonly string[], options: O = {} as O): M => middleware(scopeGuard(scopes, options), options),
    requireClaims: (requirement: ClaimRequirement<C>, options: Omit<O, 'any'> = {} as Omit<O, 'any'>): M =>
      middleware(claimsGuard(requirement), options as O),
  }
}

/**
 * Request headers that downstream code might trust as an identity asserted by a proxy.
 * Adapters that forward identity in headers strip these from inbound requests first.
 */
export const FORWARDED_IDENTITY_HEADERS: readonly string[] = [
  'x-auth-subject',
  'x-auth-roles',
  'x-auth-scopes',
  'x-auth-claims',
  'x-user-id',
  'x-forwarded-user',
  'x-remote-user',
  'remote-user',
]
