/**
 * The command line of `bearer-guard inspect`: flags parsed with `node:util` `parseArgs`, the
 * preset flags generated from the preset table, unknown flags named with a near miss, and the help.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import { parseArgs } from 'node:util'
import { flagOf, PRESETS, presetFlags } from './presets.js'

/** A mistake on the command line: exit code 2, the message on stderr. */
export class UsageError extends Error {
  override name = 'UsageError'
}

interface FlagSpec {
  type: 'boolean' | 'string'
  short?: string
  /** The value's placeholder in the help. */
  arg?: string
  help: string
}

/** Flags of every run. String flags may be repeated where a list makes sense (checked later). */
export const GENERAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  issuer: { type: 'string', arg: '<url|false>', help: 'expected iss; alone, discovery finds the keys. false: not checked (needs --jwks-uri)' },
  'jwks-uri': { type: 'string', arg: '<url>', help: 'the JWKS URL (then --issuer is only the expected iss)' },
  audience: { type: 'string', arg: '<aud|false>', help: "accepted aud; repeat for several. 'false' skips the check" },
  preset: { type: 'string', arg: '<name>', help: `an identity provider's preset: ${PRESETS.map((p) => p.name).join(', ')} (options below)` },
  algorithms: { type: 'string', arg: '<alg,…>', help: 'algorithm allowlist (default: every asymmetric algorithm; RS256 for most presets)' },
  'clock-tolerance': { type: 'string', arg: '<duration>', help: 'leeway for exp, nbf, iat (default 5s)' },
  'roles-claim': { type: 'string', arg: '<path>', help: 'where roles are read (default roles); repeat for several' },
  'scopes-claim': { type: 'string', arg: '<path>', help: 'where scopes are read (default scope, scp); repeat for several' },
  timeout: { type: 'string', arg: '<duration>', help: 'timeout of each key-source request (default 5s)' },
  json: { type: 'boolean', help: 'print one JSON object (for scripts)' },
  'show-token': { type: 'boolean', help: 'print the whole token (by default only its start and end)' },
  'no-color': { type: 'boolean', help: 'no colours (also: NO_COLOR=1; colours only on a terminal anyway)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
}

/** The flags that only a preset takes (`--realm-url`, …), with the presets that take each. */
export function presetOnlyFlags(): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [flag, presets] of presetFlags()) if (!(flag in GENERAL_FLAGS)) out.set(flag, presets)
  return out
}

/** Every flag name, general and preset. */
export function knownFlags(): string[] {
  return [...Object.keys(GENERAL_FLAGS), ...presetOnlyFlags().keys()]
}

export interface CommandLine {
  help: boolean
  json: boolean
  showToken: boolean
  noColor: boolean
  /** The token argument, or `-` for stdin. */
  input: string
  /** Every string flag given, each as the list of its values (in order). */
  values: Map<string, string[]>
}

const COMMANDS = ['inspect']

/** Parses `argv` (after the program name). Throws `UsageError`. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {}
  for (const [name, spec] of Object.entries(GENERAL_FLAGS)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.type === 'string' ? { multiple: true } : {}) }
  }
  for (const flag of presetOnlyFlags().keys()) options[flag] = { type: 'string', multiple: true }

  // first pass, lenient: name unknown flags ourselves (with a near miss) before parseArgs's own errors
  const loose = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true })
  for (const token of loose.tokens ?? []) {
    if (token.kind !== 'option' || token.name in options) continue
    if (!token.rawName.startsWith('--')) throw new UsageError(`unknown option ${token.rawName}`)
    const near = suggest(token.name, knownFlags())
    throw new UsageError(`unknown option ${token.rawName}${near ? `: did you mean --${near}?` : ''}`)
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] as string)
  }
  const v = parsed.values as Record<string, string[] | boolean | undefined>
  const help = v.help === true
  const positionals = [...parsed.positionals]
  const command = positionals.shift()
  if (command === undefined || command === 'help') {
    if (help || command === 'help') return { help: true, json: false, showToken: false, noColor: false, input: '', values: new Map() }
    throw new UsageError('no command: bearer-guard inspect <token | ->')
  }
  if (!COMMANDS.includes(command)) {
    const near = suggest(command, COMMANDS)
    throw new UsageError(`unknown command '${command}'${near ? `: did you mean '${near}'?` : ''} (commands: ${COMMANDS.join(', ')})`)
  }
  const values = new Map<string, string[]>()
  for (const [name, value] of Object.entries(v)) if (Array.isArray(value)) values.set(name, value)
  const line = { help, json: v.json === true, showToken: v['show-token'] === true, noColor: v['no-color'] === true, input: '', values }
  if (help) return line
  if (positionals.length === 0) throw new UsageError('no token: bearer-guard inspect <token | -> (- reads it from stdin)')
  if (positionals.length > 1) throw new UsageError(`one token at a time: got ${positionals.length} arguments (quote a token pasted with "Bearer ")`)
  line.input = positionals[0] as string
  return line
}

/** The known name `name` most likely means: another spelling, a typo, or a prefix. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '')
  const given = norm(name)
  const same = known.find((k) => norm(k) === given)
  if (same !== undefined) return same
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = distance(given, norm(k))
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  if (best !== undefined && bestDistance <= (given.length <= 4 ? 1 : 2)) return best
  return given.length >= 3 ? known.find((k) => norm(k).startsWith(given)) : undefined
}

/** Levenshtein distance with adjacent transpositions. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[]
    const prev = d[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

/** The help text, with the preset flags from the preset table. */
export function helpText(): string {
  const flag = (name: string, spec: FlagSpec) => `  ${`--${name}${spec.short ? `, -${spec.short}` : ''}${spec.arg ? ` ${spec.arg}` : ''}`.padEnd(28)} ${spec.help}`
  const group = (names: string[]) => names.map((n) => flag(n, GENERAL_FLAGS[n] as FlagSpec)).join('\n')
  const presets = PRESETS.map((p) => {
    const opts = Object.entries(p.options).map(([key, o]) => {
      const values = o.kind === 'enum' ? ` <${o.values?.join('|')}>` : o.kind === 'boolean' ? ' <true|false>' : ' <value>'
      return `      ${`--${flagOf(key)}${values}`.padEnd(34)} ${o.required ? '(required) ' : ''}${o.help}${o.kind === 'list' ? '; repeatable' : ''}`
    })
    return `  --preset ${p.name}\n${opts.join('\n')}`
  }).join('\n')
  return `Usage: bearer-guard inspect <token | -> [options]

Decodes an access token (header, claims, times relative to now; DPoP and certificate binding).
Given a key source, verifies it with bearer-guard's own verifier and says why it is refused,
with a hint. The token may carry its "Bearer " prefix; "-" reads it from stdin, which keeps it
out of the shell history. The token is printed shortened unless --show-token.

Examples:
  bearer-guard inspect "$TOKEN"
  pbpaste | bearer-guard inspect -
  bearer-guard inspect - --issuer https://auth.example.com/ --audience https://api.example.com
  bearer-guard inspect - --jwks-uri https://auth.example.com/keys --issuer false --audience orders-api
  bearer-guard inspect - --preset keycloak --realm-url https://kc.example.com/realms/main --client-id orders-api
  bearer-guard inspect - --preset auth0 --domain example.us.auth0.com --audience https://api.example.com
  bearer-guard inspect - --issuer https://auth.example.com/ --audience api --json | jq .outcome

Key source (verifies the token; --audience is then required, false to skip it):
${group(['issuer', 'jwks-uri', 'audience', 'preset'])}

Verification:
${group(['algorithms', 'clock-tolerance', 'roles-claim', 'scopes-claim', 'timeout'])}

Output:
${group(['json', 'show-token', 'no-color', 'help'])}

Presets (a preset's own flags; the flags above apply too, and --issuer or --jwks-uri override the preset's):
${presets}

Exit codes:
  0  valid (or decoded, when no key source was given)
  1  refused, or not a JWT
  2  usage error, empty input, or the key source is down (503)
`
}
