/**
 * Diagnostics: every verification, JWKS fetch and introspection call published on
 * `node:diagnostics_channel` tracing channels, at no cost when nobody subscribes.
 *
 * The channels (`bearer-guard:verify`, `bearer-guard:jwks`, `bearer-guard:introspect`) follow
 * Node's `TracingChannel` conventions: one message object per operation, published on `start`,
 * `end` (the synchronous part returned), `error` (refused or failed: `message.error`),
 * `asyncStart` and `asyncEnd`. The outcome fields are complete at `asyncEnd`, published exactly once
 * per operation, before the caller sees the answer. See docs/observability.md.
 *
 * The module is found with `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno, workerd with
 * `nodejs_compat`); on Node 20.0–20.15 it is imported once, asynchronously, under a computed name
 * that bundlers leave alone; elsewhere (edge runtimes) every function here is a no-op. Nothing is
 * built (no message, no closure, no clock read) unless a channel has a subscriber.
 *
 * @module bearer-guard
 */
import { decodeJsonPart } from './base64url.js'
import { isAuthError, type AuthErrorCode } from './errors.js'
import { extractBearer } from './extract.js'
import type { NormalizedIssuer } from './options.js'
import type { AuthContext } from './types.js'

/** The channel names, as `diagnostics_channel.tracingChannel(name)` takes them. */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  verify: 'bearer-guard:verify',
  jwks: 'bearer-guard:jwks',
  introspect: 'bearer-guard:introspect',
} as const)

/**
 * The message of `bearer-guard:verify`: one verification (`verifyAccessToken` or `authenticate`).
 * Fields after `start` are set by the time `asyncEnd` is published.
 */
export interface VerifyMessage {
  /** `valid`; `refused` (a 400/401/403: the token or request); `unavailable` (a 503: the key source is down). */
  outcome: 'valid' | 'refused' | 'unavailable' | undefined
  /** The refusal's `code` (`invalid_token`, `missing_token`, …); `undefined` when valid. */
  code: AuthErrorCode | undefined
  /** The refusal's HTTP status. */
  status: number | undefined
  /** The detailed reason (server-side text, never sent to a client). */
  reason: string | undefined
  /**
   * The configured issuer the token was verified for: the verified `iss`, or for a refused token its
   * `iss` only when it is one the verifier is configured with (never an arbitrary value a token sent).
   */
  issuer: string | undefined
  /** The header's `kid` (cut to 64 characters) and `alg` (cut to 20), when the header could be read. */
  kid: string | undefined
  alg: string | undefined
  /** True when the verified-token cache answered (no signature check). */
  cached: boolean
  /** Milliseconds from `start` to the answer (fractional: `performance.now()`). */
  durationMs: number
  /** The answer when valid (the `AuthContext`, with the token and claims: in-process subscribers only). */
  result: AuthContext<unknown> | undefined
  /** The `AuthError` when refused or unavailable. */
  error: unknown
}

/** The message of `bearer-guard:jwks`: one fetch of a JWKS (with discovery first when the issuer is discovered). */
export interface JwksMessage {
  /** The JWKS URL; `''` when discovery failed before finding it (discovery finds it inside the first fetch). */
  uri: string
  /** `fetched`, or `failed` (the verifier answers 503 unless `stale` keys still serve). */
  outcome: 'fetched' | 'failed' | undefined
  /** `fetched`: the keys now usable (after skipped ones). */
  keys: number | undefined
  /** `fetched`: JWKS entries skipped (unsupported or of another use). */
  skipped: number | undefined
  /** A GET of this fetch was sent twice: the connection dropped before the answer, then the retry. */
  retried: boolean
  /** `failed`: the cause without volatile parts (`status:503`, `network:ECONNREFUSED`, `timeout`, `body:…`), for labels. */
  cause: string | undefined
  /** `failed`: the detailed reason (DNS, refused, TLS, status, body). */
  reason: string | undefined
  /** `failed` while keys fetched earlier still serve (within `staleMaxAge`). */
  stale: boolean
  durationMs: number
  error: unknown
}

/** The message of `bearer-guard:introspect`: one RFC 7662 introspection call (published by the introspection stage). */
export interface IntrospectMessage {
  /** The introspection endpoint. */
  endpoint: string
  /** The configured issuer the endpoint belongs to. */
  issuer: string | undefined
  /** `active` / `inactive` (the server answered), or `failed` (no usable answer: 503). */
  outcome: 'active' | 'inactive' | 'failed' | undefined
  /** True when the introspection cache answered (no HTTP call). */
  cached: boolean
  /** The HTTP status the endpoint answered, when it answered. */
  httpStatus: number | undefined
  retried: boolean
  /** `failed`: the cause without volatile parts, as for `JwksMessage.cause`. */
  cause: string | undefined
  reason: string | undefined
  durationMs: number
  error: unknown
}

interface Channel {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

/** The five channels of a `TracingChannel` (read one by one: `TracingChannel.hasSubscribers` is Node ≥ 20.13). */
export interface Tracing {
  readonly start: Channel
  readonly end: Channel
  readonly asyncStart: Channel
  readonly asyncEnd: Channel
  readonly error: Channel
}

/** Handlers of a `TracingChannel`'s five channels (any subset). */
export interface TracingHandlers<M> {
  start?(message: M): void
  end?(message: M): void
  asyncStart?(message: M): void
  asyncEnd?(message: M): void
  error?(message: M): void
}

interface TracingChannel extends Tracing {
  subscribe(handlers: TracingHandlers<never>): void
  unsubscribe(handlers: TracingHandlers<never>): boolean
}

interface DiagnosticsChannelModule {
  tracingChannel?: (name: string) => TracingChannel
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown
  versions?: { node?: string }
}

let verifyTracing: TracingChannel | undefined
let jwksTracing: TracingChannel | undefined
let introspectTracing: TracingChannel | undefined

function bind(dc: DiagnosticsChannelModule | undefined): void {
  if (typeof dc?.tracingChannel !== 'function') return
  verifyTracing = dc.tracingChannel(DIAGNOSTICS_CHANNELS.verify)
  jwksTracing = dc.tracingChannel(DIAGNOSTICS_CHANNELS.jwks)
  introspectTracing = dc.tracingChannel(DIAGNOSTICS_CHANNELS.introspect)
}

/**
 * Finds `node:diagnostics_channel`: synchronously with `process.getBuiltinModule`; on a Node
 * without it (20.0–20.15), by a dynamic import under a computed name (so that no bundler follows
 * it into an edge build); `undefined` where there is no Node-compatible `process`.
 */
export function loadDiagnosticsChannel(
  proc: ProcessLike | undefined,
  importer: (id: string) => Promise<unknown> = dynamicImport,
): DiagnosticsChannelModule | Promise<DiagnosticsChannelModule | undefined> | undefined {
  const id = ['node', 'diagnostics_channel'].join(':')
  try {
    if (typeof proc?.getBuiltinModule === 'function') return proc.getBuiltinModule(id) as DiagnosticsChannelModule | undefined
    if (typeof proc?.versions?.node !== 'string') return undefined
    return importer(id).then(
      (m) => m as DiagnosticsChannelModule,
      () => undefined,
    )
  } catch {
    return undefined
  }
}

function dynamicImport(id: string): Promise<unknown> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ id)
}

/** Binds the channels now, or once the import settles (Node 20.0–20.15): pending until then. */
function initialize(): Promise<void> | undefined {
  const found = loadDiagnosticsChannel((globalThis as { process?: ProcessLike }).process)
  if (!(found instanceof Promise)) {
    bind(found)
    return undefined
  }
  return found.then((dc) => {
    loading = undefined
    bind(dc)
  })
}

// a referenced initializer, not a bare statement: kept by every bundler (the package has "sideEffects": false)
let loading: Promise<void> | undefined = initialize()

/** Messages by channel, for `subscribeChannel`. */
export interface ChannelMessages {
  verify: VerifyMessage
  jwks: JwksMessage
  introspect: IntrospectMessage
}

/**
 * Subscribes `handlers` to one of the channels (what `bearer-guard/otel` uses; any code may use
 * `diagnostics_channel.tracingChannel('bearer-guard:verify')` directly instead). Returns the
 * unsubscribe function; where the runtime has no `diagnostics_channel`, both are no-ops.
 */
export function subscribeChannel<K extends keyof ChannelMessages>(name: K, handlers: TracingHandlers<ChannelMessages[K]>): () => void {
  let subscribed: TracingChannel | undefined
  let cancelled = false
  const attach = () => {
    if (cancelled) return
    subscribed = name === 'verify' ? verifyTracing : name === 'jwks' ? jwksTracing : introspectTracing
    subscribed?.subscribe(handlers as TracingHandlers<never>)
  }
  if (loading) void loading.then(attach)
  else attach()
  return () => {
    cancelled = true
    subscribed?.unsubscribe(handlers as TracingHandlers<never>)
    subscribed = undefined
  }
}

/** Internal, for tests: bind the channels of this module (or none). */
export function bindDiagnosticsChannel(dc: DiagnosticsChannelModule | undefined): void {
  verifyTracing = jwksTracing = introspectTracing = undefined
  bind(dc)
}

function active(t: Tracing | undefined): t is Tracing {
  return t !== undefined && (t.start.hasSubscribers || t.end.hasSubscribers || t.asyncStart.hasSubscribers || t.asyncEnd.hasSubscribers || t.error.hasSubscribers)
}

const clock: { now(): number } = (globalThis as { performance?: { now(): number } }).performance ?? Date

/** When each traced JWKS fetch or introspection call started (only messages someone listens to). */
const startedAt = new WeakMap<object, number>()

function elapsed(message: object): number {
  return clock.now() - (startedAt.get(message) ?? clock.now())
}

/** Starts a traced call whose message is complete only at its end: `start` and `end` now, the clock running. */
function begin<M extends object>(t: Tracing, message: M): M {
  startedAt.set(message, clock.now())
  t.start.publish(message)
  t.end.publish(message)
  return message
}

/**
 * The message builders, called only when a channel has a subscriber (the tests spy on them to prove
 * that nothing is built otherwise). Each message has all its fields from the start (one shape).
 */
export const build = {
  verify(): VerifyMessage {
    return {
      outcome: undefined,
      code: undefined,
      status: undefined,
      reason: undefined,
      issuer: undefined,
      kid: undefined,
      alg: undefined,
      cached: false,
      durationMs: 0,
      result: undefined,
      error: undefined,
    }
  },
  jwks(uri: string): JwksMessage {
    return {
      uri,
      outcome: undefined,
      keys: undefined,
      skipped: undefined,
      retried: false,
      cause: undefined,
      reason: undefined,
      stale: false,
      durationMs: 0,
      error: undefined,
    }
  },
  introspect(endpoint: string, issuer: string | undefined): IntrospectMessage {
    return {
      endpoint,
      issuer,
      outcome: undefined,
      cached: false,
      httpStatus: undefined,
      retried: false,
      cause: undefined,
      reason: undefined,
      durationMs: 0,
      error: undefined,
    }
  },
}

// ——— bearer-guard:verify ———

/** What the verify tracing needs of a verifier, given once when the verifier is made. */
export interface VerifyProbe {
  /** Set by the verifier's synchronous cache lookup: whether the verified-token cache answered. */
  hit: boolean
  /** The `iss` values the verifier is configured with (the only ones put on a refused token's message). */
  issuers: ReadonlySet<string>
}

/** The probe of a verifier: the `iss` strings its entries are configured with (not predicates). */
export function createVerifyProbe(entries: readonly NormalizedIssuer[]): VerifyProbe {
  const issuers = new Set<string>()
  for (const e of entries) if (Array.isArray(e.issuers)) for (const iss of e.issuers as readonly string[]) issuers.add(iss)
  return { hit: false, issuers }
}

/**
 * Wraps `verifyAccessToken`: when nobody subscribes, the call goes straight through (nothing is
 * built); otherwise one `VerifyMessage` is published around it.
 */
export function traceVerify<R extends AuthContext<unknown>>(run: (token: string) => Promise<R>, probe: VerifyProbe): (token: string) => Promise<R> {
  return (token) => {
    const t = verifyTracing
    if (!active(t)) return run(token)
    return traced(t, run, token, probe, tokenOfToken)
  }
}

/** Wraps `authenticate` as `traceVerify` does `verifyAccessToken`. */
export function traceAuthenticate<R extends AuthContext<unknown>>(run: (authorization: Authorization) => Promise<R>, probe: VerifyProbe): (authorization: Authorization) => Promise<R> {
  return (authorization) => {
    const t = verifyTracing
    if (!active(t)) return run(authorization)
    return traced(t, run, authorization, probe, tokenOfAuthorization)
  }
}

/** Wraps `authenticateRequest` as `traceVerify` does `verifyAccessToken`. */
export function traceRequest<Q extends RequestLike, R extends AuthContext<unknown>>(run: (request: Q) => Promise<R>, probe: VerifyProbe): (request: Q) => Promise<R> {
  return (request) => {
    const t = verifyTracing
    if (!active(t)) return run(request)
    return traced(t, run, request, probe, tokenOfRequest)
  }
}

type Authorization = string | readonly string[] | null | undefined

/** The part of a request-shaped input the channel reads (structural: diagnostics.ts stays a leaf). */
interface RequestLike {
  readonly headers: { readonly authorization?: Authorization }
}

/** The token of a request (`Bearer` or `DPoP` scheme), for its `kid` and `alg`. */
function tokenOfRequest(request: RequestLike): string | undefined {
  const value = request.headers.authorization
  const line = typeof value === 'string' ? value : Array.isArray(value) && value.length === 1 ? value[0] : undefined
  if (typeof line !== 'string') return undefined
  const match = /^(?:bearer|dpop)[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i.exec(line)
  return match === null ? undefined : match[1]
}

function tokenOfToken(token: string): string | undefined {
  return token
}

/** The bearer token of a refused request, for its `kid` and `alg` (none when it has none). */
function tokenOfAuthorization(authorization: Authorization): string | undefined {
  try {
    return extractBearer(authorization)
  } catch {
    return undefined
  }
}

function traced<A, R extends AuthContext<unknown>>(t: Tracing, run: (arg: A) => Promise<R>, arg: A, probe: VerifyProbe, tokenOf: (arg: A) => string | undefined): Promise<R> {
  const message = build.verify()
  const started = clock.now()
  t.start.publish(message)
  let answer: Promise<R>
  probe.hit = false
  try {
    answer = run(arg)
  } finally {
    // the cache is asked synchronously, before any await
    message.cached = probe.hit
    t.end.publish(message)
  }
  return answer.then(
    (result) => {
      message.durationMs = clock.now() - started
      message.outcome = 'valid'
      message.result = result
      message.issuer = typeof result.issuer === 'string' ? result.issuer : undefined
      message.kid = cut(result.header.kid, 64)
      message.alg = cut(result.header.alg, 20)
      t.asyncStart.publish(message)
      t.asyncEnd.publish(message)
      return result
    },
    (error: unknown) => {
      message.durationMs = clock.now() - started
      message.error = error
      if (isAuthError(error)) {
        message.outcome = error.status === 503 ? 'unavailable' : 'refused'
        message.code = error.code
        message.status = error.status
        message.reason = error.reason
      } else {
        message.outcome = 'refused'
        message.reason = String((error as Error)?.message ?? error)
      }
      describeToken(message, tokenOf(arg), probe.issuers)
      t.error.publish(message)
      t.asyncStart.publish(message)
      t.asyncEnd.publish(message)
      throw error
    },
  )
}

/** `kid`, `alg` and a configured `iss` of a refused token, read without trusting it (bounded, never throws). */
function describeToken(message: VerifyMessage, token: string | undefined, issuers: ReadonlySet<string>): void {
  if (typeof token !== 'string' || token.length > 16_384) return
  const d1 = token.indexOf('.')
  const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1)
  if (d2 === -1) return
  try {
    const header = decodeJsonPart(token.slice(0, d1))
    if (typeof header === 'object' && header !== null) {
      message.kid = cut(header.kid, 64)
      message.alg = cut(header.alg, 20)
    }
    const payload = decodeJsonPart(token.slice(d1 + 1, d2))
    if (typeof payload === 'object' && payload !== null && typeof payload.iss === 'string' && issuers.has(payload.iss)) {
      message.issuer = payload.iss
    }
  } catch {
    // a token that cannot be read is described by its reason alone
  }
}

function cut(value: unknown, max: number): string | undefined {
  return typeof value === 'string' ? value.slice(0, max) : undefined
}

// ——— bearer-guard:jwks ———

/** A JWKS fetch being traced: `undefined` when nobody subscribes (then nothing was built). */
export function jwksFetchStart(uri: string): JwksMessage | undefined {
  const t = jwksTracing
  return active(t) ? begin(t, build.jwks(uri)) : undefined
}

/** Ends a traced JWKS fetch (`message` from `jwksFetchStart`; nothing happens for `undefined`). */
export function jwksFetchEnd(
  message: JwksMessage | undefined,
  done:
    | { outcome: 'fetched'; uri: string; keys: number; skipped: number; retried: boolean }
    | { outcome: 'failed'; uri: string | undefined; cause: string; reason: string; stale: boolean; retried: boolean; error: unknown },
): void {
  const t = jwksTracing
  if (message === undefined || t === undefined) return
  message.durationMs = elapsed(message)
  message.outcome = done.outcome
  message.retried = done.retried
  if (done.uri !== undefined) message.uri = done.uri
  if (done.outcome === 'fetched') {
    message.keys = done.keys
    message.skipped = done.skipped
  } else {
    message.cause = done.cause
    message.reason = done.reason
    message.stale = done.stale
    message.error = done.error
    t.error.publish(message)
  }
  t.asyncStart.publish(message)
  t.asyncEnd.publish(message)
}

// ——— bearer-guard:introspect ———

/** An introspection call being traced (the introspection stage calls this): `undefined` when nobody subscribes. */
export function introspectStart(endpoint: string, issuer: string | undefined): IntrospectMessage | undefined {
  const t = introspectTracing
  return active(t) ? begin(t, build.introspect(endpoint, issuer)) : undefined
}

/** Ends a traced introspection call (nothing happens for `undefined`). */
export function introspectEnd(
  message: IntrospectMessage | undefined,
  done:
    | { outcome: 'active' | 'inactive'; cached: boolean; httpStatus?: number; retried?: boolean }
    | { outcome: 'failed'; cause: string; reason: string; httpStatus?: number; retried?: boolean; error: unknown },
): void {
  const t = introspectTracing
  if (message === undefined || t === undefined) return
  message.durationMs = elapsed(message)
  message.outcome = done.outcome
  message.httpStatus = done.httpStatus
  message.retried = done.retried ?? false
  if (done.outcome === 'failed') {
    message.cause = done.cause
    message.reason = done.reason
    message.error = done.error
    t.error.publish(message)
  } else message.cached = done.cached
  t.asyncStart.publish(message)
  t.asyncEnd.publish(message)
}
