/**
 * From the flags to the options of `createVerifier`: a key source (`--issuer` discovery,
 * `--jwks-uri`, or a `--preset` with its flags), the checks, and the facts hints compare against.
 * `--issuer false` and `--audience false` are explicit opt-outs, as in the library; leaving either
 * out is a usage error that names the token's own value.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import { parseDuration } from '../core/duration.js'
import type { IssuerOptions, Logger } from '../core/types.js'
import type { PresetOverrides } from '../presets/index.js'
import { presetOnlyFlags, suggest, UsageError } from './args.js'
import type { VerifyConfig } from './hints.js'
import { findPreset, flagOf, PRESETS, presetInput } from './presets.js'

export interface Plan {
  options: IssuerOptions<undefined>
  config: VerifyConfig
}

/** Flags that only make sense with a key source. */
const VERIFY_FLAGS = ['audience', 'algorithms', 'clock-tolerance', 'roles-claim', 'scopes-claim', 'timeout']

const DEFAULT_TIMEOUT = '5s'

/**
 * The verifier's options for these flags, or `undefined` when no key source was given (decode only).
 * Throws `UsageError`; `claims` (the decoded token, if any) make the messages name its own values.
 */
export function buildPlan(values: ReadonlyMap<string, readonly string[]>, claims: Record<string, unknown> | undefined, logger: Logger): Plan | undefined {
  const one = (flag: string): string | undefined => {
    const list = values.get(flag)
    if (list === undefined || list.length === 0) return undefined
    if (list.length > 1) throw new UsageError(`--${flag} was given ${list.length} times; it takes one value`)
    return list[0]
  }
  const presetName = one('preset')
  const preset = presetName === undefined ? undefined : findPreset(presetName)
  if (presetName !== undefined && !preset) {
    const near = suggest(presetName, PRESETS.map((p) => p.name))
    throw new UsageError(`unknown preset '${presetName}'${near ? `: did you mean '${near}'?` : ''} (presets: ${PRESETS.map((p) => p.name).join(', ')})`)
  }
  for (const [flag, owners] of presetOnlyFlags()) {
    if (!values.has(flag)) continue
    if (!preset) throw new UsageError(`--${flag} is an option of --preset ${owners.join(' or --preset ')}`)
    if (!owners.includes(preset.name)) {
      const own = Object.keys(preset.options).map((k) => `--${flagOf(k)}`).join(', ')
      throw new UsageError(`--preset ${preset.name} takes no --${flag} (its options: ${own})`)
    }
  }

  const timeout = one('timeout') ?? DEFAULT_TIMEOUT
  const tolerance = one('clock-tolerance')
  for (const [flag, value] of [['timeout', timeout], ['clock-tolerance', tolerance]] as const) {
    if (value !== undefined && parseDuration(value) === undefined) throw new UsageError(`--${flag} must be a duration such as 5s, 30s or 1m, got '${value}'`)
  }
  const algorithms = values.get('algorithms')?.flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '')
  const list = (flag: string) => {
    const v = values.get(flag)
    return v === undefined ? undefined : v.length === 1 ? (v[0] as string) : [...v]
  }
  const common: PresetOverrides<undefined> = {
    ...(tolerance !== undefined ? { clockTolerance: tolerance } : {}),
    ...(values.has('roles-claim') ? { rolesClaim: list('roles-claim') } : {}),
    ...(values.has('scopes-claim') ? { scopesClaim: list('scopes-claim') } : {}),
    jwks: { timeout },
    cache: false,
    logger,
  }
  const audience = values.get('audience')
  if (audience?.includes('false') && audience.length > 1) throw new UsageError("--audience false cannot be combined with audience values")
  const tokenAud = claims === undefined ? undefined : typeof claims.aud === 'string' ? claims.aud : Array.isArray(claims.aud) && typeof claims.aud[0] === 'string' ? claims.aud[0] : undefined
  const tokenIss = typeof claims?.iss === 'string' ? claims.iss : undefined

  let options: IssuerOptions<undefined>
  if (preset) {
    const given = new Map(values)
    const overrides: PresetOverrides<undefined> = { ...common }
    if (audience?.[0] === 'false') {
      if (preset.options.audience?.required) throw new UsageError(`--audience false: the ${preset.name} preset needs this API's audience (${preset.options.audience.help})`)
      given.delete('audience')
      overrides.audience = false
    }
    const issuer = one('issuer')
    if (issuer !== undefined && !('issuer' in preset.options)) {
      given.delete('issuer')
      overrides.issuer = issuer === 'false' ? false : issuer
    }
    const jwksUri = one('jwks-uri')
    if (jwksUri !== undefined) overrides.jwksUri = jwksUri
    if (algorithms !== undefined && !('algorithms' in preset.options)) overrides.algorithms = algorithms as IssuerOptions['algorithms']
    const input = presetInput(preset, given)
    if (typeof input === 'string') throw new UsageError(input)
    try {
      options = preset.fn(input as never, overrides)
    } catch (error) {
      // the preset's TypeError names its option: name the flag instead
      const message = (error as Error).message
      const m = /invalid option "(\w+)": (.*)$/s.exec(message)
      throw new UsageError(m ? `--${flagOf(m[1] as string)}: ${m[2]}` : message)
    }
  } else {
    const issuer = one('issuer')
    const jwksUri = one('jwks-uri')
    if (issuer === undefined && jwksUri === undefined) {
      const stray = VERIFY_FLAGS.find((f) => values.has(f))
      if (stray) throw new UsageError(`--${stray} needs a key source: --issuer <url>, --jwks-uri <url> or --preset <name>`)
      return undefined
    }
    if (issuer === 'false' && jwksUri === undefined) {
      throw new UsageError('--issuer false leaves no key source: add --jwks-uri <url> (or give --issuer <url> to discover the keys)')
    }
    if (issuer === undefined) {
      throw new UsageError(
        `--jwks-uri needs --issuer <expected iss>${tokenIss !== undefined ? ` (this token says ${JSON.stringify(tokenIss)})` : ''}, or --issuer false to skip the check`,
      )
    }
    if (audience === undefined) {
      throw new UsageError(
        `verifying needs --audience <aud>${tokenAud !== undefined ? ` (this token is for ${JSON.stringify(tokenAud)})` : ''}, or --audience false to skip the check`,
      )
    }
    options = {
      ...common,
      issuer: issuer === 'false' ? false : issuer,
      audience: audience[0] === 'false' ? false : audience.length === 1 ? (audience[0] as string) : audience,
      ...(jwksUri !== undefined ? { jwksUri } : {}),
      ...(algorithms !== undefined ? { algorithms: algorithms as IssuerOptions['algorithms'] } : {}),
    }
  }
  return { options, config: configOf(options, preset?.name) }
}

/** What hints compare the token with, read from the verifier's options. */
export function configOf(options: IssuerOptions<undefined>, preset: string | undefined): VerifyConfig {
  const asList = (v: unknown): readonly string[] | false | 'function' =>
    typeof v === 'function' ? 'function' : v === false ? false : typeof v === 'string' ? [v] : Array.isArray(v) ? (v as string[]) : false
  const jwksUri = options.jwksUri
  return {
    source: jwksUri !== undefined ? { type: 'jwks', uri: String(jwksUri) } : { type: 'discovery', issuer: String(options.issuer) },
    issuer: asList(options.issuer),
    audience: asList(options.audience),
    algorithms: options.algorithms,
    clockTolerance: parseDuration(options.clockTolerance ?? 5) ?? 5,
    timeout: String(options.jwks?.timeout ?? DEFAULT_TIMEOUT),
    preset,
  }
}
