/**
 * `auth0()`: verifier options for access tokens issued by an Auth0 tenant for one API.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { Algorithm, IssuerOptions } from '../core/types.js'
import { presetError, stringList, withOverrides, type PresetOverrides } from './shared.js'

/** Input of {@link auth0}. */
export interface Auth0PresetOptions {
  /**
   * The tenant's domain (`example.us.auth0.com`) or custom domain (`login.example.com`), with or
   * without `https://`. Tokens carry `iss: "https://<domain>/"` (trailing slash included).
   */
  domain: string
  /** The API's Identifier in the Auth0 dashboard (`https://api.example.com`): the tokens' `aud`. */
  audience: string | readonly string[]
  /**
   * `'rfc9068'` when the API's "JSON Web Token (JWT) Profile" is set to RFC 9068: the `typ` header
   * must then be `at+jwt`. Default: `'auth0'` (header `typ: "JWT"`, not checked).
   */
  profile?: 'auth0' | 'rfc9068'
  /** Signing algorithms of the tenant. Default: `['RS256']`. */
  algorithms?: readonly Algorithm[]
}

/**
 * Verifier options for an Auth0 API: issuer `https://<domain>/`, keys from
 * `https://<domain>/.well-known/jwks.json`, RS256, `aud` = the API Identifier, scopes from `scope`
 * and RBAC `permissions` (merged), roles from `roles` (Auth0 emits none by default: add them with
 * an Action, usually under a namespaced claim, and set `rolesClaim`).
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example RBAC permissions as scopes, roles from a namespaced claim set by a post-login Action.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { auth0 } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier({
 *   ...auth0({ domain: 'example.us.auth0.com', audience: 'https://api.example.com' }),
 *   rolesClaim: 'https://example.com/roles',
 * })
 * ```
 *
 * @param input Tenant domain, API audience, token profile and algorithms.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function auth0<S extends ZodType | undefined = undefined>(
  input: Auth0PresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const raw = input?.domain
  if (typeof raw !== 'string' || raw === '') {
    throw presetError('auth0', 'domain', "expected the tenant's domain, such as 'example.us.auth0.com'")
  }
  let host: string
  try {
    const url = new URL(/^https?:\/\//i.test(raw) ? raw : `https://${raw}`)
    if (url.protocol !== 'https:' || url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash) throw new Error()
    host = url.host
  } catch {
    throw presetError('auth0', 'domain', `expected a domain such as 'example.us.auth0.com', got '${raw}'`)
  }
  const audience = stringList('auth0', 'audience', input.audience)
  const profile = input.profile ?? 'auth0'
  if (profile !== 'auth0' && profile !== 'rfc9068') {
    throw presetError('auth0', 'profile', `expected 'auth0' or 'rfc9068', got '${String(profile)}'`)
  }
  return withOverrides(
    {
      issuer: `https://${host}/`,
      audience,
      jwksUri: `https://${host}/.well-known/jwks.json`,
      algorithms: input.algorithms ?? ['RS256'],
      ...(profile === 'rfc9068' ? { tokenType: 'at+jwt' } : {}),
      rolesClaim: 'roles',
      scopesClaim: ['scope', 'permissions'],
    },
    overrides,
  )
}
