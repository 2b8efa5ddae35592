/**
 * `cognito()`: verifier options for tokens of an Amazon Cognito user pool.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { Algorithm, AudiencePredicate, IssuerOptions } from '../core/types.js'
import { presetError, rejectClaim, stringList, withOverrides, type PresetOverrides } from './shared.js'

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/

/** Input of {@link cognito}. */
export interface CognitoPresetOptions {
  /** The user pool ID, `<region>_<id>` (`eu-west-1_AbCdEf123`). */
  userPoolId: string
  /** The pool's AWS region. Default: the prefix of `userPoolId`; when given, it must match it. */
  region?: string
  /**
   * The app client ID(s) allowed: compared with `client_id` in access tokens (which have no `aud`)
   * and with `aud` in ID tokens.
   */
  clientId: string | readonly string[]
  /**
   * `'access'` (default): access tokens only (`token_use: "access"`). `'id'`: ID tokens only, for
   * services that are handed a user's ID token; prefer access tokens for APIs.
   */
  tokenUse?: 'access' | 'id'
  /** Default: `['RS256']`. */
  algorithms?: readonly Algorithm[]
}

/**
 * Verifier options for a Cognito user pool: issuer `https://cognito-idp.<region>.amazonaws.com/<pool>`,
 * keys from `<issuer>/.well-known/jwks.json`, RS256, `token_use` checked, roles from
 * `cognito:groups`, scopes from `scope`.
 *
 * Access tokens have no `aud`: the audience check is a function that requires `client_id` to be one
 * of `clientId` (it is not switched off). ID tokens are checked on `aud` as usual.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example Access tokens of one app client; groups become roles.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { cognito } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier(
 *   cognito({ userPoolId: 'eu-west-1_AbCdEf123', clientId: '1example23456789' }),
 * )
 * ```
 *
 * @param input User pool ID, region, app client ID(s), token use, algorithms.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function cognito<S extends ZodType | undefined = undefined>(
  input: CognitoPresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const pool = input?.userPoolId
  const match = typeof pool === 'string' ? POOL_ID.exec(pool) : null
  if (!match) {
    throw presetError('cognito', 'userPoolId', `expected '<region>_<id>' such as 'eu-west-1_AbCdEf123', got '${String(pool)}'`)
  }
  const region = match[1] as string
  if (input.region !== undefined && input.region !== region) {
    throw presetError('cognito', 'region', `'${String(input.region)}' does not match the user pool's region '${region}'`)
  }
  const clientIds = stringList('cognito', 'clientId', input.clientId)
  const tokenUse = input.tokenUse ?? 'access'
  if (tokenUse !== 'access' && tokenUse !== 'id') {
    throw presetError('cognito', 'tokenUse', `expected 'access' or 'id', got '${String(tokenUse)}'`)
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${pool}`
  const audience: readonly string[] | AudiencePredicate =
    tokenUse === 'id'
      ? clientIds
      : function cognitoClientId(_aud, claims) {
          const id = claims.client_id
          if (typeof id !== 'string') throw rejectClaim('client_id', 'client_id missing (Cognito access tokens carry client_id, not aud)')
          if (!clientIds.includes(id)) {
            throw rejectClaim('client_id', `client_id mismatch: got "${id.slice(0, 128)}", expected ${clientIds.map((v) => JSON.stringify(v)).join(' or ')}`)
          }
          return true
        }
  return withOverrides(
    {
      issuer,
      audience,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      algorithms: input.algorithms ?? ['RS256'],
      tokenType: { claim: 'token_use', value: tokenUse },
      requiredClaims: tokenUse === 'access' ? ['client_id'] : [],
      rolesClaim: 'cognito:groups',
      scopesClaim: 'scope',
    },
    overrides,
  )
}
