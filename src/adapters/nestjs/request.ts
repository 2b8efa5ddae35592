/**
 * The request as bearer-guard reads it, on either Nest platform.
 *
 * @module bearer-guard/nestjs
 */
import { nodeRequest, type AuthRequest, type NodeRequestLike } from '../../core/request.js'

/** What Nest's `switchToHttp().getRequest()` gives on the Express and the Fastify platform. */
export interface PlatformRequest {
  /** Fastify: the Node request. Express: the request is the Node request. */
  raw?: NodeRequestLike
  method?: string
  url?: string
  /** Express and Fastify, both proxy-aware (`trust proxy` / `trustProxy`). */
  protocol?: string
  /** Express 5 and Fastify 5: the `Host` (with port), proxy-aware. */
  host?: string
  /** The URL before any rewrite or mount-path stripping. */
  originalUrl?: string
  headers: NodeRequestLike['headers']
  rawHeaders?: readonly string[]
  socket?: object | null
  auth?: unknown
}

/**
 * The request as the core reads it: method, headers, the certificate of a TLS socket, and the
 * absolute URL from the platform's `protocol` and `host`, which honour `X-Forwarded-Proto` and
 * `X-Forwarded-Host` only when the platform trusts the proxy (Express: `app.set('trust proxy', …)`,
 * Fastify: `new FastifyAdapter({ trustProxy })`; docs/adapters/proxies.md).
 *
 * @example What `AuthGuard` hands the verifier, in a handler.
 * ```ts
 * import { Get, Req } from '@nestjs/common'
 * import { requestOf } from 'bearer-guard/nestjs'
 * @Get('debug/url') url(@Req() req: Parameters<typeof requestOf>[0]) { return { url: requestOf(req).url } }
 * ```
 */
export function requestOf(request: PlatformRequest): AuthRequest {
  return nodeRequest(request, request.raw ?? (request as NodeRequestLike))
}
