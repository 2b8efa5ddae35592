/**
 * `okta()`: verifier options for access tokens of an Okta custom authorization server.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { Algorithm, AudiencePredicate, IssuerOptions } from '../core/types.js'
import { httpsUrl, presetError, presetIntrospection, rejectClaim, stringList, trimSlashes, withOverrides, type PresetIntrospection, type PresetOverrides } from './shared.js'

/** Input of {@link okta}. */
export interface OktaPresetOptions {
  /**
   * The authorization server's issuer URI: `https://<org>.okta.com/oauth2/default` or
   * `https://<org>.okta.com/oauth2/<authServerId>`. The org authorization server
   * (`https://<org>.okta.com`) mints tokens for Okta's own APIs, which cannot be verified by others.
   */
  issuer: string
  /** The authorization server's audience (`api://default` for the default server). */
  audience: string | readonly string[]
  /** When given, the token's `cid` (the client that requested it) must be one of these. */
  clientId?: string | readonly string[]
  /** Default: `['RS256']`. */
  algorithms?: readonly Algorithm[]
  /**
   * Introspection at `<issuer>/v1/introspect` (opaque tokens, or `use: 'always'` for instant
   * revocation): the client this API authenticates with. Its answers carry `scope` (a string) and
   * `client_id`, read in place of `scp` and `cid`. Off by default. See docs/introspection.md.
   */
  introspection?: PresetIntrospection
}

/**
 * Verifier options for an Okta custom authorization server: keys from `<issuer>/v1/keys`, RS256,
 * scopes from `scp` (an array), roles from `groups` (a claim you add to the authorization server),
 * and optionally the client (`cid`).
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example The default authorization server.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { okta } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier(
 *   okta({ issuer: 'https://dev-123456.okta.com/oauth2/default', audience: 'api://default' }),
 * )
 * ```
 *
 * @param input Issuer URI, audience, allowed clients, algorithms.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function okta<S extends ZodType | undefined = undefined>(
  input: OktaPresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const url = httpsUrl('okta', 'issuer', input?.issuer, 'https://dev-123456.okta.com/oauth2/default')
  if (!/^\/oauth2\/[^/]+\/*$/.test(url.pathname)) {
    throw presetError(
      'okta',
      'issuer',
      `expected a custom authorization server such as 'https://${url.host}/oauth2/default': ` +
        'access tokens of the org authorization server are meant for Okta APIs and cannot be verified by yours',
    )
  }
  const issuer = trimSlashes(url.href)
  const audiences = stringList('okta', 'audience', input.audience)
  const clientIds = input.clientId === undefined ? undefined : stringList('okta', 'clientId', input.clientId)
  const audience: readonly string[] | AudiencePredicate = !clientIds
    ? audiences
    : function oktaAudienceAndClient(aud, claims) {
        if (!aud.some((a) => audiences.includes(a))) {
          throw rejectClaim('aud', `aud mismatch: got ${JSON.stringify(aud).slice(0, 200)}, expected ${audiences.map((v) => JSON.stringify(v)).join(' or ')}`)
        }
        // an introspection answer names the client `client_id`
        const cid = claims.cid ?? (input.introspection ? claims.client_id : undefined)
        if (typeof cid !== 'string' || !clientIds.includes(cid)) {
          throw rejectClaim('cid', `cid ${JSON.stringify(cid)?.slice(0, 128)} is not one of ${clientIds.join(', ')}`)
        }
        return true
      }
  return withOverrides(
    {
      issuer,
      audience,
      jwksUri: `${issuer}/v1/keys`,
      algorithms: input.algorithms ?? ['RS256'],
      rolesClaim: 'groups',
      scopesClaim: input.introspection ? ['scp', 'scope'] : 'scp',
      ...(input.introspection ? { introspection: presetIntrospection('okta', input.introspection, `${issuer}/v1/introspect`) } : {}),
    },
    overrides,
  )
}
