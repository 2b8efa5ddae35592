/**
 * The introspection call (RFC 7662 §2): a form POST of the token to the authorization server's
 * introspection endpoint, with the resource server's client authentication — `client_secret_basic`
 * (RFC 6749 §2.3.1, id and secret form-encoded before base64), `client_secret_post`, or
 * `private_key_jwt` (RFC 7523, a client assertion signed with jose). The endpoint is given, or found
 * once in the issuer's metadata (`introspection_endpoint`).
 *
 * The request goes through fetch-json.ts: timeout, no redirects, size cap, and one immediate retry
 * when a pooled connection drops before any byte of the answer. Introspection is a read: asking
 * twice about one token has no effect on the server (RFC 7662 defines no state change), so a POST
 * sent again after a dropped connection is safe (`idempotent: true`).
 *
 * What comes back is the answer as sent — a JSON object, or the compact JWT of an RFC 9701 answer
 * (`application/token-introspection+jwt`) — with its caching directives; the engine
 * (engine/introspected.ts) checks it. Failures are `FetchJsonError`s: the engine answers them 503.
 *
 * @module bearer-guard
 */
import { importJWK, importPKCS8, SignJWT, type CryptoKey as JoseKey, type JWK as JoseJWK } from 'jose'
import type { ClientAuth, NormalizedIntrospection } from '../options.js'
import type { JWK } from '../types.js'
import { discoverEndpoint } from './discovery.js'
import { fetchBody, FetchJsonError, parseJsonObject, type FetchJsonOptions } from './fetch-json.js'

/** The media type of an RFC 9701 answer. */
export const INTROSPECTION_JWT = 'application/token-introspection+jwt'

/** An introspection answer, unchecked. */
export interface IntrospectionAnswer {
  /** The JSON answer, or `undefined` for a signed one. */
  json: Record<string, unknown> | undefined
  /** The compact JWT of an RFC 9701 answer. */
  jwt: string | undefined
  /** `Cache-Control: no-store` (or `no-cache`): the answer must not be reused. */
  noStore: boolean
  /** `Cache-Control: max-age`, seconds, when given. */
  maxAge: number | undefined
  /** The request was sent again after a dropped connection. */
  retried: boolean
}

/** Asks the authorization server about a token. Rejects with `FetchJsonError`. */
export type Introspect = (token: string) => Promise<IntrospectionAnswer>

/**
 * The introspection client of one issuer: `issuer` is where the endpoint is discovered (when not
 * configured) and the audience of a `private_key_jwt` assertion.
 */
export function createIntrospectionClient(cfg: NormalizedIntrospection, issuer: string | undefined): Introspect {
  let endpoint: URL | undefined = cfg.endpoint
  let discovering: Promise<URL> | undefined
  const fetchOptions: FetchJsonOptions = { timeoutMs: cfg.timeoutMs, maxBytes: cfg.maxBytes, headers: cfg.headers, fetch: cfg.fetch }
  const accept = cfg.signedResponse ? INTROSPECTION_JWT : 'application/json'
  const assertions = cfg.auth.method === 'private_key_jwt' ? createAssertionSigner(cfg.auth) : undefined

  /** The endpoint: configured, or discovered once (a failed discovery is tried again by the next token). */
  function where(): URL | Promise<URL> {
    if (endpoint) return endpoint
    discovering ??= discoverEndpoint(issuer as string, 'introspection_endpoint', { ...fetchOptions, maxBytes: 512 * 1024 }).then(
      (url) => (endpoint = url),
      (error: unknown) => {
        discovering = undefined
        throw error
      },
    )
    return discovering
  }

  return async function introspect(token: string): Promise<IntrospectionAnswer> {
    const url = await where()
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' })
    const headers: Record<string, string> = {}
    const auth = cfg.auth
    if (auth.method === 'client_secret_basic') {
      headers.authorization = basicAuthorization(auth.clientId, auth.secret)
    } else if (auth.method === 'client_secret_post') {
      form.set('client_id', auth.clientId)
      form.set('client_secret', auth.secret)
    } else {
      form.set('client_id', auth.clientId)
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      form.set('client_assertion', await (assertions as AssertionSigner)(issuer ?? url.href, url))
    }
    // idempotent: a read (see the module's comment); sent again only after a dropped connection
    let retried = false
    const onRetry = () => {
      retried = true
    }
    const { text, headers: answered } = await fetchBody(url, { ...fetchOptions, onRetry, headers: { ...cfg.headers, ...headers } }, { form: form.toString(), accept, idempotent: true })
    const { noStore, maxAge } = cacheDirectives(answered.get('cache-control'))
    const type = (answered.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (type === INTROSPECTION_JWT) {
      const jwt = text.trim()
      return { json: undefined, jwt, noStore, maxAge, retried }
    }
    return { json: parseJsonObject(text, `POST ${url.href}`), jwt: undefined, noStore, maxAge, retried }
  }
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`, form encoding (space as `+`). */
export function basicAuthorization(clientId: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+')
  const bytes = new TextEncoder().encode(`${enc(clientId)}:${enc(secret)}`)
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return `Basic ${btoa(binary)}`
}

/** `no-store`/`no-cache` and `max-age` of a `Cache-Control` value. */
export function cacheDirectives(value: string | null): { noStore: boolean; maxAge: number | undefined } {
  if (!value) return { noStore: false, maxAge: undefined }
  let noStore = false
  let maxAge: number | undefined
  for (const part of value.toLowerCase().split(',')) {
    const [name, arg] = part.trim().split('=') as [string, string | undefined]
    if (name === 'no-store' || name === 'no-cache') noStore = true
    else if (name === 'max-age' && arg !== undefined && /^\d+$/.test(arg.replace(/"/g, ''))) maxAge = Number(arg.replace(/"/g, ''))
  }
  return { noStore, maxAge }
}

type AssertionSigner = (audience: string, endpoint: URL) => Promise<string>

/** RFC 7523 §3 client assertions: `iss` = `sub` = the client id, `aud` = the issuer, a fresh `jti`, one minute. */
function createAssertionSigner(auth: Extract<ClientAuth, { method: 'private_key_jwt' }>): AssertionSigner {
  let key: Promise<JoseKey | Uint8Array | object> | undefined
  const load = () => (key ??= importPrivateKey(auth.key, auth.alg))
  const kid = auth.kid ?? (typeof auth.key === 'object' && typeof (auth.key as JWK).kid === 'string' ? ((auth.key as JWK).kid as string) : undefined)
  return async (audience) => {
    let signingKey: Awaited<ReturnType<typeof load>>
    try {
      signingKey = await load()
    } catch (error) {
      key = undefined
      throw new FetchJsonError(`introspection: the private_key_jwt key cannot be used: ${(error as Error).message}`, { kind: 'metadata', cause: error })
    }
    return new SignJWT({})
      .setProtectedHeader({ alg: auth.alg, typ: 'JWT', ...(kid ? { kid } : {}) })
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(audience)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(signingKey as JoseKey)
  }
}

async function importPrivateKey(key: Extract<ClientAuth, { method: 'private_key_jwt' }>['key'], alg: string): Promise<JoseKey | object> {
  if (typeof key === 'string') return importPKCS8(key, alg)
  // a JWK: a plain object with `kty`; a KeyObject or CryptoKey is used as it is
  if (typeof (key as JWK).kty === 'string' && typeof (key as { type?: unknown }).type !== 'string') return importJWK(key as JoseJWK, alg)
  return key
}
