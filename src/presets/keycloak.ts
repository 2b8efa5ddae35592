/**
 * `keycloak()`: verifier options for access tokens of a Keycloak realm.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { Algorithm, ClaimSource, IssuerOptions, JWTPayload } from '../core/types.js'
import { readClaim, toStringList } from '../core/claim-path.js'
import { httpsUrl, presetError, presetIntrospection, stringList, trimSlashes, withOverrides, type PresetIntrospection, type PresetOverrides } from './shared.js'

/** Input of {@link keycloak}. */
export interface KeycloakPresetOptions {
  /**
   * The realm URL, which is the tokens' `iss`: `https://kc.example.com/realms/main` (Keycloak 17+),
   * or `https://kc.example.com/auth/realms/main` (older versions, or `--http-relative-path=/auth`).
   */
  realmUrl: string
  /**
   * Client ID of this API in the realm. Client roles are read from `resource_access.<clientId>.roles`,
   * and it is the default `audience`.
   */
  clientId: string
  /**
   * Accepted `aud` values. Default: `clientId`. Keycloak puts a client in `aud` when the token
   * carries that client's roles (the "audience resolve" mapper) or through an "Audience" mapper.
   */
  audience?: string | readonly string[]
  /** Which roles become `auth.roles`: realm roles, this client's roles, or both. Default: `'both'`. */
  roles?: 'realm' | 'client' | 'both'
  /** Signature algorithms of the realm's keys. Default: `['RS256']` (Keycloak's default realm key). */
  algorithms?: readonly Algorithm[]
  /**
   * Opaque tokens (lightweight access tokens, or `use: 'always'` for instant revocation): the
   * confidential client this API introspects with at `<realm>/protocol/openid-connect/token/introspect`.
   * `clientId` defaults to the API's `clientId`. Off by default. See docs/introspection.md.
   */
  introspection?: Partial<Pick<PresetIntrospection, 'clientId'>> & Omit<PresetIntrospection, 'clientId'>
}

/**
 * Verifier options for a Keycloak realm: issuer = realm URL, keys from
 * `<realm>/protocol/openid-connect/certs`, RS256, `aud` = the API's client ID, the `typ: "Bearer"`
 * claim (refresh tokens say `"Refresh"`, ID tokens `"ID"`), roles from `realm_access.roles` and
 * `resource_access.<clientId>.roles`, scopes from `scope`.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example Protect an API registered as the orders-api client of realm main.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { keycloak } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier(
 *   keycloak({ realmUrl: 'https://kc.example.com/realms/main', clientId: 'orders-api' }),
 * )
 * ```
 *
 * @example Override what the preset sets: here only realm roles, and a longer JWKS cache.
 * ```ts
 * const options = keycloak(
 *   { realmUrl: 'https://kc.example.com/realms/main', clientId: 'orders-api' },
 *   { rolesClaim: 'realm_access.roles', jwks: { cacheMaxAge: '30m' } },
 * )
 * ```
 *
 * @param input Realm URL, client ID, and optional audience, roles source and algorithms.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function keycloak<S extends ZodType | undefined = undefined>(
  input: KeycloakPresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const url = httpsUrl('keycloak', 'realmUrl', input?.realmUrl, 'https://kc.example.com/realms/main')
  const realmUrl = trimSlashes(url.href)
  if (!/\/realms\/[^/]+$/.test(url.pathname.replace(/\/+$/, ''))) {
    throw presetError('keycloak', 'realmUrl', `expected a realm URL ending in /realms/<realm>, got '${input.realmUrl}'`)
  }
  const clientId = input.clientId
  if (typeof clientId !== 'string' || clientId === '') {
    throw presetError('keycloak', 'clientId', 'expected the client ID of this API (a non-empty string)')
  }
  const roles = input.roles ?? 'both'
  if (roles !== 'realm' && roles !== 'client' && roles !== 'both') {
    throw presetError('keycloak', 'roles', `expected 'realm', 'client' or 'both', got '${String(roles)}'`)
  }
  const audience = input.audience === undefined ? clientId : stringList('keycloak', 'audience', input.audience)
  return withOverrides(
    {
      issuer: realmUrl,
      audience,
      jwksUri: `${realmUrl}/protocol/openid-connect/certs`,
      algorithms: input.algorithms ?? ['RS256'],
      tokenType: { claim: 'typ', value: 'Bearer' },
      rolesClaim: keycloakRoles(clientId, roles),
      scopesClaim: 'scope',
      ...introspectionAt(realmUrl, clientId, input.introspection),
    },
    overrides,
  )
}

function introspectionAt(realmUrl: string, clientId: string, input: unknown) {
  const introspection = presetIntrospection('keycloak', input, `${realmUrl}/protocol/openid-connect/token/introspect`, clientId)
  return introspection ? { introspection } : {}
}

function keycloakRoles(clientId: string, roles: 'realm' | 'client' | 'both'): ClaimSource {
  const realm = 'realm_access.roles'
  if (!clientId.includes('.')) {
    const client = `resource_access.${clientId}.roles`
    return roles === 'realm' ? realm : roles === 'client' ? client : [realm, client]
  }
  // a client ID with dots ("orders.api") is one key of resource_access, not a path
  const clientRoles = (claims: JWTPayload) =>
    toStringList(readClaim(readClaim(readClaim(claims, 'resource_access'), clientId), 'roles'))
  if (roles === 'client') return clientRoles
  if (roles === 'realm') return realm
  return (claims: JWTPayload) => [...toStringList(readClaim(claims, realm)), ...clientRoles(claims)]
}
