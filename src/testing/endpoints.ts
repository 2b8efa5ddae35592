/**
 * The test issuer's endpoints (private): its URLs, the discovery document (OIDC and RFC 8414 share
 * it), and one Web handler serving discovery and the JWKS — through msw, as `fetch`, or behind a
 * loopback server. The handler counts what it answers and lets the simulated faults answer first.
 *
 * @module bearer-guard/testing
 */
import type { Algorithm, JWK } from '../core/types.js'
import { json, type Endpoint, type Faults } from './faults.js'
import type { IssuerRequestCounts } from './types.js'

/** The URLs of an issuer, and the paths the handler matches. */
export interface EndpointUrls {
  base: string
  jwks: string
  discovery: string
  metadata: string
  jwksPath: string
  discoveryPath: string
  metadataPath: string
}

/** What the endpoints serve. */
export interface EndpointSource {
  readonly issuer: string
  readonly algorithm: Algorithm
  jwks(): { keys: JWK[] }
  readonly faults: Faults
}

/** The endpoints of one issuer. */
export interface Endpoints {
  /** The URLs; a `TypeError` for an issuer that is not an http(s) URL. */
  urls(): EndpointUrls
  discovery(): Record<string, unknown>
  handler(request: Request): Promise<Response>
  readonly fetch: typeof fetch
  mswHandlers<Handler>(): Promise<Handler[]>
  /** A snapshot of the counters. */
  requests(): IssuerRequestCounts
}

export function createEndpoints(source: EndpointSource): Endpoints {
  const { issuer } = source
  const maybeUrls = endpointUrls(issuer)
  const counts: IssuerRequestCounts = { discovery: 0, jwks: 0 }
  const urls = (): EndpointUrls => {
    if (maybeUrls === undefined) {
      throw new TypeError(`issuer '${issuer}' is not an absolute URL: it has no discovery or JWKS URL`)
    }
    return maybeUrls
  }

  function discovery(): Record<string, unknown> {
    const { base, jwks } = urls()
    return {
      issuer,
      jwks_uri: jwks,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      id_token_signing_alg_values_supported: [source.algorithm],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    }
  }

  function route(path: string): Endpoint | undefined {
    if (maybeUrls === undefined) return undefined
    if (path === maybeUrls.jwksPath) return 'jwks'
    if (path === maybeUrls.discoveryPath || path === maybeUrls.metadataPath) return 'discovery'
    return undefined
  }

  async function handler(request: Request): Promise<Response> {
    let path: string
    try {
      path = new URL(request.url).pathname
    } catch {
      return json({ error: 'bad request' }, 400)
    }
    const target = route(path)
    if (target === undefined) return json({ error: 'not found' }, 404)
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } })
    }
    counts[target]++
    return source.faults.answer(target, request) ?? json(target === 'jwks' ? source.jwks() : discovery(), 200)
  }

  return {
    urls,
    discovery,
    handler,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => handler(new Request(input, init))) as typeof fetch,
    async mswHandlers<Handler>() {
      const { http } = await import('msw')
      const { discovery: d, metadata: m, jwks: j } = urls()
      // a request its client aborted (a simulated timeout) is over: answer quietly instead of
      // rejecting, which msw would print as an unhandled exception in the handler
      const serve = ({ request }: { request: Request }) =>
        handler(request).catch((error: unknown) => {
          if (request.signal.aborted) return json({ error: 'request aborted' }, 504)
          throw error
        })
      return [http.get(d, serve), http.get(m, serve), http.get(j, serve)] as Handler[]
    },
    requests: () => ({ ...counts }),
  }
}

/** The URLs under `issuer`, or `undefined` when it is not an http(s) URL. */
function endpointUrls(issuer: string): EndpointUrls | undefined {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  const base = issuer.replace(/\/+$/, '')
  const path = url.pathname.replace(/\/+$/, '')
  const jwks = `${base}/.well-known/jwks.json`
  const discovery = `${base}/.well-known/openid-configuration`
  const metadata = `${url.origin}/.well-known/oauth-authorization-server${path}`
  return {
    base,
    jwks,
    discovery,
    metadata,
    jwksPath: new URL(jwks).pathname,
    discoveryPath: new URL(discovery).pathname,
    metadataPath: new URL(metadata).pathname,
  }
}
