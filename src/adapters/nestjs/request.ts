/**
 * The request as bearer-guard reads it, on either Nest platform.
 *
 * @module bearer-guard/nestjs
 */
import { nodeAuthorization } from '../../core/adapter.js'

/** The Node request under Nest's request object: Express's `req` is one, Fastify's `request.raw` is one. */
interface NodeRequest {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined> & { authorization?: string }
  rawHeaders?: readonly string[]
}

/** What Nest's `switchToHttp().getRequest()` gives on the Express and the Fastify platform. */
export interface PlatformRequest {
  /** Fastify: the Node request. */
  raw?: NodeRequest
  method?: string
  url?: string
  /** Express and Fastify, both proxy-aware (`trust proxy` / `trustProxy`). */
  protocol?: string
  /** Express 5 and Fastify 5: the `Host` (with port), proxy-aware. */
  host?: string
  /** The URL before any rewrite or mount-path stripping. */
  originalUrl?: string
  headers: NodeRequest['headers']
  rawHeaders?: readonly string[]
  auth?: unknown
}

/**
 * A request in the shape of the request-level entry point of the core (API-wave2 §1:
 * `verifier.authenticateRequest({ method, url, headers, certificate })`): the method, the absolute
 * URL (built on demand, from the platform's proxy-aware protocol and host) and the headers it
 * reads: `authorization` with every Authorization line (two lines are refused, not read as one),
 * and `dpop`.
 */
export interface AuthRequest {
  method: string
  readonly url: string
  headers: {
    authorization: string | readonly string[] | undefined
    dpop: string | string[] | undefined
  }
}

/** The request `AuthGuard` hands to the core. */
export function authRequestOf(request: PlatformRequest): AuthRequest {
  const node = request.raw ?? (request as NodeRequest)
  return {
    method: request.method ?? node.method ?? 'GET',
    get url() {
      const host = request.host ?? headerValue(node.headers.host) ?? 'localhost'
      return `${request.protocol ?? 'http'}://${host}${request.originalUrl ?? node.url ?? '/'}`
    },
    headers: { authorization: nodeAuthorization(node), dpop: node.headers.dpop },
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
