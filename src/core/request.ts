/**
 * The request as the core reads it (method, absolute URL, the `Authorization` and `DPoP` headers,
 * the client's TLS certificate), and the builders every adapter makes it with: one for a Node
 * `IncomingMessage` under a framework that knows its proxy settings, one for a Web `Request`.
 * The URL and the certificate are read on first use only (DPoP and mTLS need them; a bearer
 * request never does).
 *
 * @module bearer-guard
 */

/** A header as the framework gives it: Node `string | string[] | undefined`, Web `string | null`. */
export type HeaderValue = string | readonly string[] | null | undefined

/**
 * A client certificate of mutual TLS: an `X509Certificate` of `node:crypto` (anything with the DER
 * bytes as `raw`), PEM text, or the DER bytes.
 */
export type ClientCertificate = { readonly raw: Uint8Array } | string | Uint8Array

/**
 * What the core needs of an HTTP request (API-wave2 §1). The adapters' builders give `url` and
 * `certificate` as getters, worked out when first read.
 */
export interface AuthRequest {
  /** The method, upper case as sent (`'GET'`). */
  readonly method: string
  /** The absolute URL the client used (scheme, host and port, path, query), proxy-aware per adapter. */
  readonly url: string
  /** Every line of each header: two lines of one header are an array (refused), not one value. */
  readonly headers: { readonly authorization: HeaderValue; readonly dpop: HeaderValue }
  /** The client's TLS certificate, when the connection has one (mutual TLS). */
  readonly certificate?: ClientCertificate | undefined
  /**
   * Any other request header (its first line), for `mtls.certificate` behind a proxy that passes the
   * client certificate in a header. The adapters' builders have it.
   */
  header?(name: string): string | undefined
}

/** The parts of a Node `IncomingMessage` the Node builder reads. */
export interface NodeRequestLike {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
  headersDistinct?: Record<string, string[] | undefined>
  rawHeaders?: readonly string[]
  /** A `TLSSocket` carries the client certificate; a plain socket has none. */
  socket?: object | null
}

/**
 * How a framework sees a request's origin, its proxy settings applied: Express 5 `req`, Fastify
 * `request`, Koa `ctx` and Nest's request on either platform have these.
 */
export interface UrlParts {
  /** `'http'` or `'https'`; from `X-Forwarded-Proto` when the framework trusts the proxy. */
  protocol?: string | undefined
  /** Host and port; from `X-Forwarded-Host` when the framework trusts the proxy. */
  host?: string | undefined
  /** Path and query as the client sent them (before any mount-path stripping or rewrite). */
  originalUrl?: string | undefined
  url?: string | undefined
}

/**
 * The request of a Node-based framework: the headers from the Node request (every line of them),
 * the URL from the framework's proxy-aware `protocol`, `host` and `originalUrl` (the socket's scheme
 * and the `Host` header where it has none), the certificate from the socket.
 *
 * @example A plain Node server (no proxy settings: the socket's scheme and the `Host` header).
 * ```ts
 * import { createServer } from 'node:http'
 * import { authenticateRequest, nodeRequest } from 'bearer-guard'
 * createServer(async (req, res) => {
 *   const auth = await authenticateRequest(verifier, nodeRequest(req), false)
 *   res.end(auth?.subject)
 * })
 * ```
 * @param request The framework's request (Express `req`, Fastify `request`, Koa `ctx`), or a Node one.
 * @param node The Node `IncomingMessage` under it (Fastify: `request.raw`, Koa: `ctx.req`). Default: `request`.
 * @param host Reads the host (with the port) instead of `request.host` (Express 4, whose `req.host`
 * is the hostname without the port).
 */
export function nodeRequest<R extends UrlParts>(
  request: R,
  node: NodeRequestLike = request as unknown as NodeRequestLike,
  host?: (request: R) => string | undefined,
): AuthRequest {
  return new NodeAuthRequest(request, node, host as ((request: UrlParts) => string | undefined) | undefined)
}

class NodeAuthRequest implements AuthRequest {
  readonly method: string
  readonly headers: AuthRequest['headers']
  readonly #request: UrlParts
  readonly #node: NodeRequestLike
  readonly #host: ((request: UrlParts) => string | undefined) | undefined

  constructor(request: UrlParts, node: NodeRequestLike, host: ((request: UrlParts) => string | undefined) | undefined) {
    this.#request = request
    this.#node = node
    this.#host = host
    this.method = node.method ?? 'GET'
    this.headers = nodeHeaders(node)
  }

  get url(): string {
    const request = this.#request
    const node = this.#node
    const protocol = request.protocol ?? ((node.socket as { encrypted?: boolean } | null | undefined)?.encrypted ? 'https' : 'http')
    const host = this.#host ? this.#host(request) : (request.host ?? first(node.headers.host))
    return absoluteUrl(protocol, host, request.originalUrl ?? request.url ?? node.url ?? '/')
  }

  get certificate(): ClientCertificate | undefined {
    return socketCertificate(this.#node.socket)
  }

  header(name: string): string | undefined {
    return first(this.#node.headers[name.toLowerCase()])
  }
}

/**
 * The DER bytes of the client certificate on a TLS socket (`getPeerCertificate(true).raw`), or
 * `undefined`: a plain socket, or a TLS client that sent none. The certificate is handed over
 * whether or not the server's TLS layer verified its chain (`socket.authorized`): a certificate-bound
 * token (RFC 8705 §3) is bound to the certificate itself, self-signed ones included.
 */
export function socketCertificate(socket: unknown): Uint8Array | undefined {
  const tls = socket as TlsSocketLike | null | undefined
  if (!tls || typeof tls.getPeerCertificate !== 'function') return undefined
  const raw = tls.getPeerCertificate(true)?.raw
  return raw && raw.length > 0 ? raw : undefined
}

/** A `TLSSocket` as far as the certificate is concerned. */
interface TlsSocketLike {
  getPeerCertificate(detailed: boolean): { raw?: Uint8Array } | null | undefined
}

/**
 * `scheme://host` + the request target. An absolute-form target (`GET http://h/p HTTP/1.1`, RFC 9112
 * §3.2.2) is the URL itself. A request without `Host` (HTTP/1.0) gets `localhost`.
 */
function absoluteUrl(protocol: string | undefined, host: string | undefined, target: string): string {
  if (target.charCodeAt(0) !== 0x2f && /^https?:\/\//i.test(target)) return target
  return `${protocol || 'http'}://${host || 'localhost'}${target}`
}

/** Options of the Web builder. */
export interface WebRequestOptions {
  /**
   * Take the scheme and host from `X-Forwarded-Proto` and `X-Forwarded-Host` (their last entry: the
   * one the nearest proxy set) instead of the request URL's. A Web `Request` does not tell who sent
   * it, so turn this on only when every request comes through a proxy that sets both headers
   * (a client reaching the server directly could choose them). Default: `false`.
   */
  trustProxy?: boolean
}

/** The parts of a Web `Request` the Web builder reads. */
export interface WebRequestLike {
  readonly method: string
  readonly url: string
  readonly headers: { get(name: string): string | null }
}

/**
 * The request of a Web-standard framework (Hono, Next.js, edge handlers): the URL is `request.url`
 * as the runtime gives it (with `trustProxy`, the forwarded scheme and host over it); several lines
 * of a header arrive joined by `", "` (the extraction refuses two credentials in one value).
 *
 * @example A fetch handler (Bun, Deno, Workers).
 * ```ts
 * import { authenticateRequest, webRequest } from 'bearer-guard'
 * export default {
 *   fetch: async (request: Request) => Response.json(await authenticateRequest(verifier, webRequest(request), false)),
 * }
 * ```
 * @param request The Web `Request`.
 * @param options `trustProxy`. Default: `false`.
 * @param socket The Node socket under the request, where the runtime exposes it (Hono on
 * `@hono/node-server`: `c.env.incoming.socket`), for the client certificate.
 */
export function webRequest(request: WebRequestLike, options?: WebRequestOptions, socket?: object | null): AuthRequest {
  return new WebAuthRequest(request, options?.trustProxy === true, socket)
}

class WebAuthRequest implements AuthRequest {
  readonly headers: AuthRequest['headers']
  readonly #request: WebRequestLike
  readonly #trustProxy: boolean
  readonly #socket: object | null | undefined

  constructor(request: WebRequestLike, trustProxy: boolean, socket: object | null | undefined) {
    this.#request = request
    this.#trustProxy = trustProxy
    this.#socket = socket
    this.headers = new WebHeaders(request.headers)
  }

  get method(): string {
    return this.#request.method
  }

  get url(): string {
    const url = this.#request.url
    if (!this.#trustProxy) return url
    const headers = this.#request.headers
    const protocol = last(headers.get('x-forwarded-proto'))?.toLowerCase()
    const host = last(headers.get('x-forwarded-host'))
    const start = url.indexOf('//') + 2
    const path = url.indexOf('/', start)
    const scheme = protocol && /^https?$/.test(protocol) ? protocol : url.slice(0, start - 3)
    const authority = host && /^[^\s/?#@\\]+$/.test(host) ? host : url.slice(start, path === -1 ? url.length : path)
    return `${scheme}://${authority}${path === -1 ? '/' : url.slice(path)}`
  }

  get certificate(): ClientCertificate | undefined {
    return socketCertificate(this.#socket)
  }

  header(name: string): string | undefined {
    return this.#request.headers.get(name) ?? undefined
  }
}

class WebHeaders {
  readonly authorization: string | null
  readonly #headers: WebRequestLike['headers']

  constructor(headers: WebRequestLike['headers']) {
    this.#headers = headers
    this.authorization = headers.get('authorization')
  }

  get dpop(): string | null {
    return this.#headers.get('dpop')
  }
}

/**
 * The `Authorization` and `DPoP` headers of a Node request, every line of them: two lines are an
 * array (refused, 400) where Node's `headers` keeps the first `Authorization` and joins `DPoP`
 * lines with `", "`. Read from `rawHeaders` in one pass, as `headersDistinct` would give them,
 * without building `headersDistinct` for all of a request's headers; a header set only on
 * `headers` (by a middleware) is read there.
 */
export function nodeHeaders(req: NodeRequestLike): AuthRequest['headers'] {
  const raw = req.rawHeaders
  if (!Array.isArray(raw)) {
    const distinct = req.headersDistinct
    return { authorization: distinct?.authorization ?? req.headers.authorization, dpop: distinct?.dpop ?? req.headers.dpop }
  }
  let authorization: string | string[] | undefined
  let dpop: string | string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    // by length first: the two names are rare among a request's headers
    if (name.length === 13 && (name === 'Authorization' || name === 'authorization' || name.toLowerCase() === 'authorization')) {
      authorization = add(authorization, raw[i + 1] as string)
    } else if (name.length === 4 && (name === 'DPoP' || name.toLowerCase() === 'dpop')) {
      dpop = add(dpop, raw[i + 1] as string)
    }
  }
  return { authorization: authorization ?? req.headers.authorization, dpop: dpop ?? req.headers.dpop }
}

/**
 * The Authorization header of a Node `IncomingMessage` (Express, Koa, Fastify), every line of it:
 * `nodeHeaders(req).authorization`.
 */
export function nodeAuthorization(req: NodeRequestLike): string | readonly string[] | undefined {
  return nodeHeaders(req).authorization ?? undefined
}

function add(lines: string | string[] | undefined, value: string): string | string[] {
  if (lines === undefined) return value
  if (typeof lines === 'string') return [lines, value]
  lines.push(value)
  return lines
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The last entry of a comma-separated header value, trimmed; `undefined` for none or an empty one. */
function last(value: string | null): string | undefined {
  if (!value) return undefined
  const entry = value.slice(value.lastIndexOf(',') + 1).trim()
  return entry === '' ? undefined : entry
}
