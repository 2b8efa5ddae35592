/**
 * bearer-guard as the token verifier of a Model Context Protocol server written with
 * `@modelcontextprotocol/sdk` (an optional peer): subpath export `bearer-guard/mcp`.
 *
 * @module bearer-guard/mcp
 */
import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js'
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { isAuthError } from '../core/errors.js'
import { sameResource } from '../core/resource.js'
import type { AuthContext, Verifier } from '../core/types.js'

export type { AuthInfo, OAuthTokenVerifier }

/** Options of `mcpTokenVerifier` and `toAuthInfo`. */
export interface McpAuthInfoOptions {
  /**
   * The resource (RFC 8707) of the MCP server: `AuthInfo.resource` is the token's `aud` member that
   * names it (fragment and one trailing slash aside). Default: the verifier's `resource`; without
   * one, the token's `aud` when it is a single absolute URL, else none.
   */
  resource?: string | URL
}

/**
 * The claims a client id is read from, in order: `client_id` (RFC 9068, Cognito, Keycloak), `azp`
 * (OpenID Connect: Auth0, Keycloak, Entra ID v2, Google), `cid` (Okta), `appid` (Entra ID v1).
 */
const CLIENT_ID_CLAIMS = ['client_id', 'azp', 'cid', 'appid'] as const

/**
 * The SDK's `AuthInfo` of a verified token: `token`, `clientId` (`client_id`, `azp`, `cid` or
 * `appid`; `''` when the token names no client), `scopes`, `expiresAt` (seconds), `resource` (a
 * `URL`, see `McpAuthInfoOptions`), and `extra` carrying `subject`, `issuer`, `roles` and the `claims`.
 *
 * @example Hand the identity to a Web-standard transport (Hono, edge) after `requireAuth`.
 * ```ts
 * import { toAuthInfo } from 'bearer-guard/mcp'
 * app.post('/mcp', requireAuth(verifier, { resourceMetadata: true }), (c) =>
 *   transport.handleRequest(c.req.raw, { authInfo: toAuthInfo(c.var.auth, { resource: verifier.resource }) }))
 * ```
 * @param auth What the verifier (or an adapter's `requireAuth`) gave.
 * @param options `resource`.
 */
export function toAuthInfo(auth: AuthContext<any>, options: McpAuthInfoOptions = {}): AuthInfo {
  const claims = (auth.claims ?? {}) as Record<string, unknown>
  let clientId = ''
  for (const name of CLIENT_ID_CLAIMS) {
    const value = claims[name]
    if (typeof value === 'string' && value !== '') {
      clientId = value
      break
    }
  }
  const info: AuthInfo = {
    token: auth.token,
    clientId,
    scopes: [...auth.scopes],
    expiresAt: auth.expiresAt.getTime() / 1000,
    extra: { subject: auth.subject, issuer: auth.issuer, roles: [...auth.roles], claims: auth.claims },
  }
  const resource = resourceOf(auth.audience, options.resource)
  if (resource !== undefined) info.resource = resource
  return info
}

function resourceOf(audience: readonly string[], expected: string | URL | undefined): URL | undefined {
  const member = expected === undefined ? (audience.length === 1 ? audience[0] : undefined) : audience.find((a) => sameResource(a, expected))
  if (member === undefined || !URL.canParse(member)) return undefined
  return new URL(member)
}

/**
 * The SDK's `OAuthTokenVerifier` backed by a bearer-guard verifier, for the SDK's
 * `requireBearerAuth` (or `mcpAuthRouter`'s resource side): the token is verified as everywhere
 * (keys, issuer, audience — the verifier's `resource` —, lifetime, revocation), and `AuthInfo` is
 * built by `toAuthInfo`. Failures are the SDK's errors: a bad token `InvalidTokenError` (401), a
 * malformed one `InvalidRequestError` (400), and a key outage `ServerError` (500), never a 401 that
 * would blame the token; the message is bearer-guard's client-safe `description`, the `AuthError`
 * (with its `reason`) the `cause`.
 *
 * @example An Express MCP server with the SDK's middleware.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { mcpTokenVerifier } from 'bearer-guard/mcp'
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' })
 * app.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(verifier), requiredScopes: ['tools:read'],
 *   resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp' }), mcpHandler)
 * ```
 * @param verifier A bearer-guard verifier (share one per authorization server).
 * @param options `resource` (default: the verifier's).
 */
export function mcpTokenVerifier(verifier: Verifier<any>, options: McpAuthInfoOptions = {}): OAuthTokenVerifier {
  const resource = options.resource ?? verifier.resource
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let auth: AuthContext<any>
      try {
        auth = await verifier.verifyAccessToken(token)
      } catch (error) {
        throw toMcpError(error)
      }
      return toAuthInfo(auth, { resource })
    },
  }
}

/**
 * A bearer-guard `AuthError` as the SDK's error of the same meaning (anything else is returned as
 * is): `invalid_token` and `missing_token` → `InvalidTokenError`, `insufficient_scope` →
 * `InsufficientScopeError`, `invalid_request` → `InvalidRequestError`, `temporarily_unavailable`
 * → `ServerError`. The message is the `description`; the `AuthError` is the `cause`.
 */
export function toMcpError(error: unknown): unknown {
  // the brand, not `instanceof`: the verifier may come from the other build (CJS beside ESM)
  if (!isAuthError(error)) return error
  let mapped: Error
  switch (error.code) {
    case 'insufficient_scope':
      mapped = new InsufficientScopeError(error.description)
      break
    case 'invalid_request':
      mapped = new InvalidRequestError(error.description)
      break
    case 'temporarily_unavailable':
      mapped = new ServerError(error.description)
      break
    default:
      mapped = new InvalidTokenError(error.description)
  }
  Object.defineProperty(mapped, 'cause', { value: error, configurable: true, writable: true })
  return mapped
}
