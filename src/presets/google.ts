/**
 * `google()`: verifier options for Google-signed OIDC ID tokens used as service credentials.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import type { AudiencePredicate, IssuerOptions } from '../core/types.js'
import { presetError, rejectClaim, stringList, withOverrides, type PresetOverrides } from './shared.js'

/** Input of {@link google}. */
export interface GooglePresetOptions {
  /**
   * The audience the caller asked for: your service's URL (Cloud Run, Cloud Tasks, Cloud Scheduler,
   * Pub/Sub push) or your OAuth client ID (Sign in with Google).
   */
  audience: string | readonly string[]
  /**
   * Accepted `email` values (service accounts such as `pusher@project.iam.gserviceaccount.com`), with
   * `email_verified: true`. Strongly advised: any Google account can mint an ID token for any audience.
   */
  emails?: readonly string[]
  /** Accepted Google Workspace domain(s), from the `hd` claim. */
  hostedDomain?: string | readonly string[]
}

/**
 * Verifier options for Google ID tokens: issuer `https://accounts.google.com` (or the historical
 * `accounts.google.com`), keys from `https://www.googleapis.com/oauth2/v3/certs`, RS256, `aud`, and
 * optionally the caller's `email` and Workspace domain (`hd`).
 *
 * Google OAuth *access* tokens (`ya29.…`) are opaque, not JWTs: they cannot be verified here.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example Pub/Sub push to a Cloud Run service, from one service account.
 * ```ts
 * import { createVerifier } from 'bearer-guard'
 * import { google } from 'bearer-guard/presets'
 *
 * const verifier = createVerifier(
 *   google({
 *     audience: 'https://orders-abc123-ew.a.run.app/push',
 *     emails: ['pusher@my-project.iam.gserviceaccount.com'],
 *   }),
 * )
 * ```
 *
 * @param input Audience, allowed emails and hosted domains.
 * @param overrides Any verifier option, merged last (see `PresetOverrides`).
 */
export function google<S extends ZodType | undefined = undefined>(
  input: GooglePresetOptions,
  overrides?: PresetOverrides<S>,
): IssuerOptions<S> {
  const audiences = stringList('google', 'audience', input?.audience)
  const emails = input.emails === undefined ? undefined : stringList('google', 'emails', input.emails)
  const domains = input.hostedDomain === undefined ? undefined : stringList('google', 'hostedDomain', input.hostedDomain)
  if (emails?.some((e) => !e.includes('@'))) throw presetError('google', 'emails', 'expected email addresses')
  const audience: readonly string[] | AudiencePredicate =
    !emails && !domains
      ? audiences
      : function googleAudienceAndCaller(aud, claims) {
          if (!aud.some((a) => audiences.includes(a))) {
            throw rejectClaim('aud', `aud mismatch: got ${JSON.stringify(aud).slice(0, 200)}, expected ${audiences.map((v) => JSON.stringify(v)).join(' or ')}`)
          }
          if (emails) {
            if (typeof claims.email !== 'string' || !emails.includes(claims.email)) {
              throw rejectClaim('email', `email ${JSON.stringify(claims.email)?.slice(0, 200)} is not one of "emails"`)
            }
            if (claims.email_verified !== true) throw rejectClaim('email_verified', 'email_verified is not true')
          }
          if (domains && (typeof claims.hd !== 'string' || !domains.includes(claims.hd))) {
            throw rejectClaim('hd', `hd ${JSON.stringify(claims.hd)?.slice(0, 200)} is not one of "hostedDomain"`)
          }
          return true
        }
  return withOverrides(
    {
      issuer: ['https://accounts.google.com', 'accounts.google.com'],
      audience,
      jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
      algorithms: ['RS256'],
    },
    overrides,
  )
}
