/**
 * The presets of `bearer-guard/presets` as command-line flags, from one table: each preset's input
 * options, with their kind and whether they are required. The flags, the help text, the checks and
 * the call of the preset are all derived from it. The table is typed against each preset's input
 * interface: an option a preset gains and the table lacks is a compile error.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import type { IssuerOptions } from '../core/types.js'
import {
  auth0,
  cognito,
  entraId,
  google,
  keycloak,
  okta,
  type Auth0PresetOptions,
  type CognitoPresetOptions,
  type EntraIdPresetOptions,
  type GooglePresetOptions,
  type KeycloakPresetOptions,
  type OktaPresetOptions,
  type PresetOverrides,
} from '../presets/index.js'

/** How a flag's values become the preset's input. */
export type OptionKind =
  /** One string. */
  | 'string'
  /** One or more strings: the flag repeated, or (with `split`) comma-separated. */
  | 'list'
  /** One of `values`. */
  | 'enum'
  /** `true` or `false`. */
  | 'boolean'

export interface PresetOption {
  kind: OptionKind
  required: boolean
  /** `enum`: the accepted values. */
  values?: readonly string[]
  /** `list`: also split each value on commas. */
  split?: boolean
  /** Turns the flag's text into the preset's value (`'2'` → `2`). */
  parse?: (value: string) => unknown
  /** Help text, with an example value. */
  help: string
}

/** Every input option of a preset, with `required` matching the interface. */
type OptionTable<I> = {
  [K in keyof Required<I>]-?: PresetOption & { required: {} extends Pick<I, K> ? false : true }
}

export interface PresetEntry {
  /** The `--preset` value. */
  name: string
  /** The function of `bearer-guard/presets`. */
  fn: (input: never, overrides?: PresetOverrides<undefined>) => IssuerOptions<undefined>
  options: Readonly<Record<string, PresetOption>>
  /** A command line example of the preset's flags. */
  example: string
}

function entry<I>(
  name: string,
  fn: (input: I, overrides?: PresetOverrides<undefined>) => IssuerOptions<undefined>,
  options: OptionTable<I>,
  example: string,
): PresetEntry {
  return { name, fn: fn as PresetEntry['fn'], options: options as Record<string, PresetOption>, example }
}

const algorithms = { kind: 'list', required: false, split: true, help: 'signing algorithms, e.g. RS256,ES256 (default RS256)' } as const

/** The presets, by `--preset` name. */
export const PRESETS: readonly PresetEntry[] = [
  entry<Omit<KeycloakPresetOptions, 'introspection'>>(
    'keycloak',
    keycloak,
    {
      realmUrl: { kind: 'string', required: true, help: "the realm URL, the tokens' iss: https://kc.example.com/realms/main" },
      clientId: { kind: 'string', required: true, help: "this API's client ID (client roles; the default audience)" },
      audience: { kind: 'list', required: false, help: 'accepted aud values (default: the client ID)' },
      roles: { kind: 'enum', required: false, values: ['realm', 'client', 'both'], help: 'which roles count (default both)' },
      algorithms,
    },
    '--realm-url https://kc.example.com/realms/main --client-id orders-api',
  ),
  entry<Auth0PresetOptions>(
    'auth0',
    auth0,
    {
      domain: { kind: 'string', required: true, help: "the tenant's domain: example.us.auth0.com" },
      audience: { kind: 'list', required: true, help: "the API's Identifier: https://api.example.com" },
      profile: { kind: 'enum', required: false, values: ['auth0', 'rfc9068'], help: 'token profile (default auth0)' },
      algorithms,
    },
    '--domain example.us.auth0.com --audience https://api.example.com',
  ),
  entry<EntraIdPresetOptions>(
    'entra-id',
    entraId,
    {
      tenantId: { kind: 'string', required: true, help: 'directory (tenant) ID GUID, or common, organizations, consumers' },
      audience: { kind: 'list', required: true, help: "the API's application (client) ID, or its App ID URI (api://…)" },
      version: { kind: 'enum', required: false, values: ['1', '2'], parse: Number, help: 'access-token version (default 2)' },
      tenants: { kind: 'list', required: false, help: 'multi-tenant: the tenant IDs allowed' },
      requireScopeOrRole: { kind: 'boolean', required: false, help: 'refuse tokens with neither scp nor roles (default true)' },
      algorithms,
    },
    '--tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --audience 6e74172b-be56-4843-9ff4-e66a39bb12e3',
  ),
  entry<CognitoPresetOptions>(
    'cognito',
    cognito,
    {
      userPoolId: { kind: 'string', required: true, help: 'the user pool ID: eu-west-1_AbCdEf123' },
      region: { kind: 'string', required: false, help: "the pool's region (default: from the pool ID)" },
      clientId: { kind: 'list', required: true, help: 'the app client ID(s) allowed' },
      tokenUse: { kind: 'enum', required: false, values: ['access', 'id'], help: 'access or id tokens (default access)' },
      algorithms,
    },
    '--user-pool-id eu-west-1_AbCdEf123 --client-id 1example23456789',
  ),
  entry<Omit<OktaPresetOptions, 'introspection'>>(
    'okta',
    okta,
    {
      issuer: { kind: 'string', required: true, help: 'the authorization server: https://dev-123456.okta.com/oauth2/default' },
      audience: { kind: 'list', required: true, help: "the authorization server's audience: api://default" },
      clientId: { kind: 'list', required: false, help: 'the clients (cid) allowed' },
      algorithms,
    },
    '--issuer https://dev-123456.okta.com/oauth2/default --audience api://default',
  ),
  entry<GooglePresetOptions>(
    'google',
    google,
    {
      audience: { kind: 'list', required: true, help: 'the audience the caller asked for: your service URL or OAuth client ID' },
      emails: { kind: 'list', required: false, help: 'service-account emails allowed' },
      hostedDomain: { kind: 'list', required: false, help: 'Workspace domain(s) allowed (hd)' },
    },
    '--audience https://orders-abc123-ew.a.run.app --emails pusher@my-project.iam.gserviceaccount.com',
  ),
]

/** `realmUrl` → `realm-url`. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/** The preset of a `--preset` value, if any. */
export function findPreset(name: string): PresetEntry | undefined {
  return PRESETS.find((p) => p.name === name)
}

/** Every flag some preset takes, with the presets that take it. */
export function presetFlags(): Map<string, string[]> {
  const flags = new Map<string, string[]>()
  for (const p of PRESETS) {
    for (const key of Object.keys(p.options)) {
      const flag = flagOf(key)
      flags.set(flag, [...(flags.get(flag) ?? []), p.name])
    }
  }
  return flags
}

/**
 * A preset's input from the flags' values (each flag given as a list of strings), or a message
 * naming the flag that is missing or wrong.
 */
export function presetInput(preset: PresetEntry, values: ReadonlyMap<string, readonly string[]>): Record<string, unknown> | string {
  const input: Record<string, unknown> = {}
  for (const [key, opt] of Object.entries(preset.options)) {
    const flag = flagOf(key)
    const given = values.get(flag)
    if (given === undefined || given.length === 0) {
      if (opt.required) return `--preset ${preset.name} needs --${flag} (${opt.help})`
      continue
    }
    if (opt.kind === 'list') {
      input[key] = opt.split ? given.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '') : [...given]
      continue
    }
    if (given.length > 1) return `--${flag} was given ${given.length} times; --preset ${preset.name} takes one value`
    const value = given[0] as string
    if (opt.kind === 'enum' && !opt.values?.includes(value)) {
      return `--${flag} must be one of ${opt.values?.join(', ')}, got '${value}'`
    }
    if (opt.kind === 'boolean') {
      if (value !== 'true' && value !== 'false') return `--${flag} must be true or false, got '${value}'`
      input[key] = value === 'true'
      continue
    }
    input[key] = opt.parse ? opt.parse(value) : value
  }
  return input
}
