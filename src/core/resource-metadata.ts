/**
 * Protected-resource metadata (RFC 9728): the JSON document an OAuth client (an MCP client, say)
 * reads to learn which authorization servers issue tokens for a resource, and the handler that serves
 * it at `/.well-known/oauth-protected-resource` + the resource's path. The framework adapters'
 * `protectedResource()` only translate this handler's answers.
 *
 * @module bearer-guard
 */
import { parseDuration } from './duration.js'
import { metadataPath, resourceMetadataUrl, resourceUrlProblem } from './resource.js'
import type { Duration } from './types.js'

/**
 * What `protectedResource` reads of a verifier: its `resource`, and the DPoP settings (RFC 9449) of
 * a verifier built with `dpop` (API-wave2 §2) — `dpop.algorithms` become
 * `dpop_signing_alg_values_supported`, and `dpop.mode: 'required'` `dpop_bound_access_tokens_required`.
 * A verifier without them (or another object) leaves those members to the options.
 */
export interface MetadataVerifier {
  readonly resource?: string | undefined
  /** The hook of DPoP: read when present, never required. */
  readonly dpop?: { readonly algorithms?: readonly string[]; readonly mode?: string | false } | undefined
}

/** Options of `protectedResource()`: the members of RFC 9728 §2 in camelCase, and how to serve them. */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier (RFC 8707): an absolute `https` URL (`http` on loopback only), no fragment.
   * Default: the `verifier`'s `resource`; one of the two is required.
   */
  resource?: string | URL
  /** Issuer identifiers of the authorization servers that issue tokens for the resource (`authorization_servers`). */
  authorizationServers?: readonly (string | URL)[]
  /** The resource's own JWKS (`jwks_uri`), for signed responses; rarely needed. */
  jwksUri?: string | URL
  /** Scopes a client may ask for to use the resource (`scopes_supported`). */
  scopesSupported?: readonly string[]
  /** How a token may be sent (`bearer_methods_supported`). Default: `['header']`, the only one bearer-guard reads. */
  bearerMethodsSupported?: readonly ('header' | 'body' | 'query')[]
  /** JWS algorithms of the resource's signed responses (`resource_signing_alg_values_supported`). */
  resourceSigningAlgValuesSupported?: readonly string[]
  /** A name for people (`resource_name`). */
  resourceName?: string
  /** Documentation for developers (`resource_documentation`). */
  resourceDocumentation?: string | URL
  /** The policy on data use (`resource_policy_uri`). */
  resourcePolicyUri?: string | URL
  /** The terms of service (`resource_tos_uri`). */
  resourceTosUri?: string | URL
  /** Certificate-bound tokens (RFC 8705) supported (`tls_client_certificate_bound_access_tokens`). */
  tlsClientCertificateBoundAccessTokens?: boolean
  /** Rich authorization request types (RFC 9396) supported (`authorization_details_types_supported`). */
  authorizationDetailsTypesSupported?: readonly string[]
  /** DPoP proof algorithms accepted (`dpop_signing_alg_values_supported`). Default: the verifier's `dpop.algorithms`. */
  dpopSigningAlgValuesSupported?: readonly string[]
  /** Only DPoP-bound tokens accepted (`dpop_bound_access_tokens_required`). Default: the verifier's `dpop.mode === 'required'`. */
  dpopBoundAccessTokensRequired?: boolean
  /** The verifier of the resource: its `resource` and DPoP settings fill the members left out. */
  verifier?: MetadataVerifier
  /** How long clients and caches may keep the document (`Cache-Control: public, max-age=…`). Default: `'1h'`. */
  cacheMaxAge?: Duration
}

/** The document, as served: RFC 9728 §2 members in snake_case (only those set). */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers?: string[]
  jwks_uri?: string
  scopes_supported?: string[]
  bearer_methods_supported?: string[]
  resource_signing_alg_values_supported?: string[]
  resource_name?: string
  resource_documentation?: string
  resource_policy_uri?: string
  resource_tos_uri?: string
  tls_client_certificate_bound_access_tokens?: boolean
  authorization_details_types_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  dpop_bound_access_tokens_required?: boolean
}

/**
 * A framework-neutral answer of the handler. Header names are lower case. `HEAD` gets the body of
 * `GET` (for its length): a framework sends none for `HEAD`, and neither does the Web handler.
 */
export interface MetadataAnswer {
  status: 200 | 204 | 405
  headers: Record<string, string>
  /** The JSON text; `undefined` for `OPTIONS`. */
  body: string | undefined
}

/**
 * Serves the metadata of one resource: a Web handler (`Request → Response`, or `undefined` for any
 * other path) carrying the document and a framework-neutral `answer` for the adapters.
 */
export interface ProtectedResourceHandler {
  (request: { readonly method: string; readonly url: string }): Response | undefined
  /** The path served: `/.well-known/oauth-protected-resource` + the resource's path. */
  readonly path: string
  /** The absolute URL of the document (the `resource_metadata` of challenges, RFC 9728 §5.1). */
  readonly url: string
  /** The document. */
  readonly metadata: Readonly<ProtectedResourceMetadata>
  /**
   * The answer to `method` on `target` (a path with or without a query, or an absolute URL), or
   * `undefined` when the path is not `path`: `GET`/`HEAD` 200 with the JSON, `OPTIONS` 204 (CORS
   * preflight), anything else 405.
   */
  answer(method: string, target: string): MetadataAnswer | undefined
}

const ALLOW = 'GET, HEAD, OPTIONS'
/** As every answer of bearer-guard (Express would add the charset anyway). */
const JSON_TYPE = 'application/json; charset=utf-8'
const DEFAULT_MAX_AGE = 3600
const METHODS = ['header', 'body', 'query'] as const

type Kind = 'url' | 'urls' | 'strings' | 'string' | 'boolean' | 'algorithms' | 'methods'
/** Option → member, and what the value must be. */
const MEMBERS: Record<string, [member: keyof ProtectedResourceMetadata, kind: Kind]> = {
  authorizationServers: ['authorization_servers', 'urls'],
  jwksUri: ['jwks_uri', 'url'],
  scopesSupported: ['scopes_supported', 'strings'],
  bearerMethodsSupported: ['bearer_methods_supported', 'methods'],
  resourceSigningAlgValuesSupported: ['resource_signing_alg_values_supported', 'algorithms'],
  resourceName: ['resource_name', 'string'],
  resourceDocumentation: ['resource_documentation', 'url'],
  resourcePolicyUri: ['resource_policy_uri', 'url'],
  resourceTosUri: ['resource_tos_uri', 'url'],
  tlsClientCertificateBoundAccessTokens: ['tls_client_certificate_bound_access_tokens', 'boolean'],
  authorizationDetailsTypesSupported: ['authorization_details_types_supported', 'strings'],
  dpopSigningAlgValuesSupported: ['dpop_signing_alg_values_supported', 'algorithms'],
  dpopBoundAccessTokensRequired: ['dpop_bound_access_tokens_required', 'boolean'],
}
const OTHER_OPTIONS = ['resource', 'verifier', 'cacheMaxAge']

/**
 * The protected-resource metadata handler (RFC 9728): validates the options now (a `TypeError`
 * names the bad one) and serves `/.well-known/oauth-protected-resource` + the resource's path, as
 * JSON, cacheable (`Cache-Control: public`) and readable from any origin (`Access-Control-Allow-Origin: *`).
 *
 * @example A fetch handler (Bun, Deno, Workers) serving the metadata of an MCP server.
 * ```ts
 * import { protectedResourceHandler } from 'bearer-guard'
 * const metadata = protectedResourceHandler({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://auth.example.com'],
 *   scopesSupported: ['tools:read', 'tools:call'],
 * })
 * export default { fetch: (request: Request) => metadata(request) ?? app.fetch(request) }
 * ```
 * @param options The members (camelCase), `verifier` (its `resource` and DPoP settings fill the
 * members left out) and `cacheMaxAge`.
 */
export function protectedResourceHandler(options: ProtectedResourceOptions): ProtectedResourceHandler {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('bearer-guard: protectedResource() needs options with at least "resource" (or a verifier with one)')
  }
  for (const key of Object.keys(options)) {
    if (!(key in MEMBERS) && !OTHER_OPTIONS.includes(key)) throw new TypeError(`bearer-guard: unknown option "${key}" of protectedResource()`)
  }
  const verifier = options.verifier
  const resource = options.resource ?? verifier?.resource
  if (resource === undefined) {
    throw new TypeError('bearer-guard: invalid option "resource": is required (or a verifier built with resource)')
  }
  const problem = resourceUrlProblem(resource)
  if (problem !== undefined) throw new TypeError(`bearer-guard: invalid option "resource": ${problem}`)

  const metadata: Record<string, unknown> = { resource: String(resource) }
  const dpop = verifier?.dpop
  const given: Record<string, unknown> = {
    bearerMethodsSupported: ['header'],
    ...(dpop?.algorithms ? { dpopSigningAlgValuesSupported: dpop.algorithms } : {}),
    ...(dpop?.mode === 'required' ? { dpopBoundAccessTokensRequired: true } : {}),
    ...options,
  }
  for (const [option, [member, kind]] of Object.entries(MEMBERS)) {
    const value = given[option]
    if (value !== undefined) metadata[member] = checked(option, kind, value)
  }
  const maxAge = options.cacheMaxAge === undefined ? DEFAULT_MAX_AGE : parseDuration(options.cacheMaxAge)
  if (maxAge === undefined || maxAge > 366 * 86400) {
    throw new TypeError('bearer-guard: invalid option "cacheMaxAge": expected seconds or a duration string, at most a year')
  }

  const path = metadataPath(String(resource))
  const url = resourceMetadataUrl(String(resource))
  const body = JSON.stringify(metadata)
  const cors = { 'access-control-allow-origin': '*' }
  const ok: MetadataAnswer = {
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': `public, max-age=${Math.floor(maxAge)}`, ...cors },
    body,
  }
  const preflight: MetadataAnswer = {
    status: 204,
    headers: {
      ...cors,
      'access-control-allow-methods': ALLOW,
      // `*` covers the headers a client adds (MCP-Protocol-Version); the document needs no credentials
      'access-control-allow-headers': '*',
      'access-control-max-age': '86400',
      allow: ALLOW,
    },
    body: undefined,
  }
  const notAllowed: MetadataAnswer = {
    status: 405,
    headers: { 'content-type': JSON_TYPE, allow: ALLOW },
    body: JSON.stringify({ error: 'method_not_allowed', error_description: `use ${ALLOW}` }),
  }

  function answer(method: string, target: string): MetadataAnswer | undefined {
    if (pathOf(target) !== path) return undefined
    switch (method.toUpperCase()) {
      case 'GET':
      case 'HEAD':
        return ok
      case 'OPTIONS':
        return preflight
      default:
        return notAllowed
    }
  }

  const handler = function protectedResource(request: { readonly method: string; readonly url: string }): Response | undefined {
    const out = answer(request.method, request.url)
    if (out === undefined) return undefined
    return new Response(request.method.toUpperCase() === 'HEAD' ? null : (out.body ?? null), { status: out.status, headers: out.headers })
  }
  return Object.freeze(
    Object.defineProperties(handler, {
      path: { value: path, enumerable: true },
      url: { value: url, enumerable: true },
      metadata: { value: Object.freeze(JSON.parse(body) as ProtectedResourceMetadata), enumerable: true },
      answer: { value: answer, enumerable: true },
    }) as ProtectedResourceHandler,
  )
}

/** The path of a request target: an origin-form target up to its query, or an absolute URL's path. */
function pathOf(target: string): string | undefined {
  if (target.charCodeAt(0) === 0x2f) {
    const end = target.search(/[?#]/)
    return end === -1 ? target : target.slice(0, end)
  }
  try {
    return new URL(target).pathname
  } catch {
    return undefined
  }
}

function checked(option: string, kind: Kind, value: unknown): unknown {
  const fail = (expected: string): never => {
    throw new TypeError(`bearer-guard: invalid option "${option}": ${expected}`)
  }
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : fail('expected true or false')
    case 'string':
      return typeof value === 'string' && value !== '' ? value : fail('expected a non-empty string')
    case 'url': {
      if (typeof value !== 'string' && !(value instanceof URL)) return fail('expected an absolute http(s) URL')
      let url: URL | undefined
      try {
        url = new URL(String(value))
      } catch {
        url = undefined
      }
      return url && /^https?:$/.test(url.protocol) ? String(value) : fail('expected an absolute http(s) URL')
    }
    case 'urls':
      if (!Array.isArray(value)) return fail('expected an array of absolute https URLs')
      return value.map((v, i) => {
        const problem = resourceUrlProblem(v)
        if (problem !== undefined) throw new TypeError(`bearer-guard: invalid option "${option}[${i}]": ${problem}`)
        return String(v)
      })
    case 'strings':
    case 'algorithms':
    case 'methods': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) return fail('expected an array of non-empty strings')
      const list = value as string[]
      if (kind === 'algorithms' && list.some((v) => v.toLowerCase() === 'none')) fail('"none" is not a signing algorithm')
      if (kind === 'methods' && list.some((v) => !(METHODS as readonly string[]).includes(v))) fail(`expected some of ${METHODS.map((m) => `"${m}"`).join(', ')}`)
      return [...list]
    }
  }
}
