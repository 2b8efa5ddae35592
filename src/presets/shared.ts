/**
 * Helpers shared by the presets: input checks that name the preset and option, and the merge of
 * user overrides into a preset's options.
 *
 * @module bearer-guard/presets
 */
import type { ZodType } from 'zod'
import { InvalidTokenError } from '../core/errors.js'
import type { IntrospectionOptions, IssuerOptions } from '../core/types.js'

/**
 * Options a user adds to or changes in a preset: any verifier option. A key source given here
 * (`jwksUri`, `keys`, `secret`) replaces the preset's one; `jwks` settings are merged;
 * `requiredClaims` are added to the preset's.
 */
export type PresetOverrides<S extends ZodType | undefined = undefined> = Partial<IssuerOptions<S>>

const KEY_SOURCES = ['jwksUri', 'keys', 'secret'] as const

/** A `TypeError` thrown when a preset is called, naming the preset and the option. */
export function presetError(preset: string, option: string, message: string): TypeError {
  return new TypeError(`bearer-guard/presets: ${preset}(): invalid option "${option}": ${message}`)
}

/** A 401 with a precise server-side reason, thrown from a preset's issuer or audience function. */
export function rejectClaim(claim: string, reason: string): InvalidTokenError {
  return new InvalidTokenError({ reason, claim })
}

/** A non-empty string or list of non-empty strings, as a list; throws naming the option. */
export function stringList(preset: string, option: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (!list || list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw presetError(preset, option, 'expected a non-empty string or a non-empty array of strings')
  }
  return list as string[]
}

/** An absolute https URL without trailing slashes (http only for loopback hosts). */
export function httpsUrl(preset: string, option: string, value: unknown, example: string): URL {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  const loopback = url !== undefined && /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/.test(url.hostname)
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.search || url.hash) {
    throw presetError(preset, option, `expected an https URL such as '${example}'`)
  }
  return url
}

/** Removes trailing slashes. */
export function trimSlashes(value: string): string {
  return value.replace(/\/+$/, '')
}

/** Merges a preset's options with user overrides (see {@link PresetOverrides}). */
export function withOverrides<S extends ZodType | undefined>(
  base: IssuerOptions<undefined>,
  overrides: PresetOverrides<S> | undefined,
): IssuerOptions<S> {
  if (overrides === undefined) return base as IssuerOptions<S>
  const out: Record<string, unknown> = { ...base }
  if (KEY_SOURCES.some((k) => overrides[k] !== undefined)) {
    for (const k of KEY_SOURCES) delete out[k]
  }
  Object.assign(out, overrides)
  if (base.jwks && overrides.jwks) out.jwks = { ...base.jwks, ...overrides.jwks }
  if (base.introspection && overrides.introspection) out.introspection = { ...base.introspection, ...overrides.introspection }
  if (base.requiredClaims && overrides.requiredClaims) {
    out.requiredClaims = [...new Set([...base.requiredClaims, ...overrides.requiredClaims])]
  }
  return out as unknown as IssuerOptions<S>
}

/**
 * The `introspection` input of a preset that knows its provider's endpoint: the options of
 * `IntrospectionOptions` but `endpoint`, which the preset sets.
 */
export type PresetIntrospection = Omit<IntrospectionOptions, 'endpoint'>

/** The `introspection` option at `endpoint`, or `undefined` when not asked for; a `TypeError` for a non-object. */
export function presetIntrospection(preset: string, input: unknown, endpoint: string, clientId?: string): IntrospectionOptions | undefined {
  if (input === undefined) return undefined
  if (typeof input !== 'object' || input === null) {
    throw presetError(preset, 'introspection', 'expected the introspection client: { clientId, clientSecret } (see docs/introspection.md)')
  }
  const given = input as Partial<IntrospectionOptions>
  return { ...given, endpoint, clientId: given.clientId ?? (clientId as string) }
}
