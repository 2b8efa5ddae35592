/**
 * `entraId()`: verifier options for access tokens issued by Microsoft Entra ID (Azure AD) for an API.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { Algorithm, AudiencePredicate, IssuerOptions, IssuerPredicate } from '../core/types.js'
import { presetError, rejectClaim, stringList, withOverrides, type PresetOverrides } from './shared.js'

/** The tenant of personal Microsoft accounts (`consumers`). */
export const ENTRA_CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad'

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const LOGIN = 'https://login.microsoftonline.com'

/** Input of {@link entraId}. */
export interface EntraIdPresetOptions {
  /**
   * The directory (tenant) ID, a GUID, for a single-tenant API; `'common'` (any work, school or
   * personal account) or `'organizations'` (work and school accounts only) for a multi-tenant API,
   * whose issuer is then checked against each token's `tid`; or `'consumers'` (personal accounts).
   */
  tenantId: string
  /**
   * Accepted `aud`: the API's application (client) ID in v2 tokens; in v1 tokens the App ID URI
   * (`api://…`) or whatever resource the client asked for. List both when unsure.
   */
  audience: string | readonly string[]
  /**
   * Access-token version, set by the API's app manifest (`requestedAccessTokenVersion`, formerly
   * `accessTokenAcceptedVersion`; `null` means 1), not by the endpoint the client used.
   * `2`: `iss` = `https://login.microsoftonline.com/{tid}/v2.0`; `1`: `iss` = `https://sts.windows.net/{tid}/`.
   * Default: `2`.
   */
  version?: 1 | 2 | '1.0' | '2.0'
  /** Multi-tenant only: the tenant IDs (`tid`) allowed. Default: every tenant. */
  tenants?: readonly string[]
  /**
   * Refuse tokens with neither `scp` (delegated) nor `roles` (app-only or app roles), as
   * Microsoft.Identity.Web does: an ID token for the same app has the same `aud`. Default: `true`.
   */
  requireScopeOrRole?: boolean
  /** Default: `['RS256']`. */
  algorithms?: readonly Algorithm[]
}

/**
 * Verifier options for an API protected by Microsoft Entra ID: issuer per `version` and tenant,
 * keys from `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys` (v1: `discovery/keys`),
 * RS256, roles from `roles`, scopes from `scp`, `tid` required.
 *
 * For `'common'` and `'organizations'` the issuer is a function: `iss` must equal the issuer of the
 * token's own `tid` (a GUID), and `tid` must be in `tenants` when given. No other issuer is accepted.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example A single-tenant API with v2 tokens.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { entraId } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier(
 *   entraId({
 *     tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
 *     audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
 *   }),
 * )
 * ```
 *
 * @example A multi-tenant API that serves two customer tenants.
 * ```ts
 * const options = entraId({
 *   tenantId: 'organizations',
 *   audience: ['api://orders', '6e74172b-be56-4843-9ff4-e66a39bb12e3'],
 *   tenants: ['72f988bf-86f1-41af-91ab-2d7cd011db47', 'a1b2c3d4-0000-4000-8000-000000000001'],
 * })
 * ```
 *
 * @param input Tenant, audience, token version, allowed tenants, algorithms.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function entraId<S extends ZodType | undefined = undefined>(
  input: EntraIdPresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const tenant = input?.tenantId
  const multi = tenant === 'common' || tenant === 'organizations'
  if (typeof tenant !== 'string' || !(multi || tenant === 'consumers' || GUID.test(tenant))) {
    throw presetError(
      'entraId',
      'tenantId',
      `expected the directory (tenant) ID GUID, 'common', 'organizations' or 'consumers', got '${String(tenant)}' ` +
        '(a domain name cannot be used: tokens carry the GUID)',
    )
  }
  const version = input.version ?? 2
  if (![1, 2, '1.0', '2.0'].includes(version)) {
    throw presetError('entraId', 'version', `expected 1 or 2, got '${String(version)}'`)
  }
  const v1 = version === 1 || version === '1.0'
  const audiences = stringList('entraId', 'audience', input.audience)
  const tenants = input.tenants === undefined ? undefined : stringList('entraId', 'tenants', input.tenants)
  if (tenants && !multi) throw presetError('entraId', 'tenants', "only applies with tenantId 'common' or 'organizations'")
  for (const t of tenants ?? []) {
    if (!GUID.test(t)) throw presetError('entraId', 'tenants', `expected tenant ID GUIDs, got '${t}'`)
  }
  const issuerOf = (tid: string) => (v1 ? `https://sts.windows.net/${tid}/` : `${LOGIN}/${tid}/v2.0`)

  let issuer: string | IssuerPredicate
  if (!multi) {
    issuer = issuerOf(tenant === 'consumers' ? ENTRA_CONSUMERS_TENANT : tenant.toLowerCase())
  } else {
    const allowed = tenants && new Set(tenants.map((t) => t.toLowerCase()))
    issuer = function entraTenantIssuer(iss, claims) {
      const tid = claims.tid
      if (typeof tid !== 'string' || !GUID.test(tid)) {
        throw rejectClaim('tid', 'tid missing or not a GUID: the issuer of a multi-tenant Entra ID token cannot be checked')
      }
      const expected = issuerOf(tid)
      if (iss !== expected) throw rejectClaim('iss', `iss "${iss.slice(0, 200)}" is not the issuer of tid ${tid}: expected "${expected}"`)
      if (tenant === 'organizations' && tid.toLowerCase() === ENTRA_CONSUMERS_TENANT) {
        throw rejectClaim('tid', "a personal Microsoft account token (consumers tenant) with tenantId 'organizations'")
      }
      if (allowed && !allowed.has(tid.toLowerCase())) throw rejectClaim('tid', `tenant ${tid} is not in "tenants"`)
      return true
    }
  }

  let audience: readonly string[] | AudiencePredicate = audiences
  if (input.requireScopeOrRole !== false) {
    audience = function entraAudience(aud, claims) {
      if (!aud.some((a) => audiences.includes(a))) {
        throw rejectClaim('aud', `aud mismatch: got ${JSON.stringify(aud).slice(0, 200)}, expected ${audiences.map((v) => JSON.stringify(v)).join(' or ')}`)
      }
      if (claims.scp === undefined && claims.roles === undefined) {
        throw rejectClaim('scp', 'neither scp nor roles: not an access token for this API (an ID token?)')
      }
      return true
    }
  }
  const segment = multi || tenant === 'consumers' ? tenant : tenant.toLowerCase()
  return withOverrides(
    {
      issuer,
      audience,
      jwksUri: `${LOGIN}/${segment}/discovery/${v1 ? 'keys' : 'v2.0/keys'}`,
      algorithms: input.algorithms ?? ['RS256'],
      requiredClaims: ['tid'],
      rolesClaim: 'roles',
      scopesClaim: 'scp',
    },
    overrides,
  )
}
