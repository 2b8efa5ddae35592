/**
 * `bearer-guard inspect` in process (`runCli` with its streams and environment as arguments): the
 * command line, the preset table, decoding, times, bindings, escaping and colours. The built bin is
 * run as a child process in ./bin.test.ts.
 */
import { readFileSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as presets from 'bearer-guard/presets'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { parseCommandLine, suggest } from '../../src/cli/args.js'
import { HINT_IDS } from '../../src/cli/hints.js'
import { decodeInput, shorten, stripInput } from '../../src/cli/decode.js'
import { runCli, MAX_STDIN_BYTES } from '../../src/cli/main.js'
import { buildPlan } from '../../src/cli/plan.js'
import { flagOf, PRESETS } from '../../src/cli/presets.js'
import { safe, useColor } from '../../src/cli/render.js'
import { span } from '../../src/cli/time.js'
import { freezeClock } from '../helpers/clock.js'

interface Run {
  code: number
  out: string
  err: string
}

async function cli(args: string[], opts: { stdin?: string | Uint8Array[]; isTTY?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
  let out = ''
  let err = ''
  const chunks = opts.stdin === undefined ? [] : typeof opts.stdin === 'string' ? [opts.stdin] : opts.stdin
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s), isTTY: opts.isTTY },
    stderr: { write: (s: string) => (err += s) },
    stdin: (async function* () {
      yield* chunks
    })(),
    env: opts.env ?? {},
  })
  return { code, out, err }
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** A JWT-shaped token with these parts (the signature is not checked when decoding). */
const jwt = (header: Record<string, unknown>, claims: Record<string, unknown>, sig = 'c2lnbmF0dXJl') => `${b64(header)}.${b64(claims)}.${sig}`

let issuer: TestIssuer
let server: { url: string; close(): Promise<void> }

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, kid: 'k1' })
  server = issuer.server as NonNullable<TestIssuer['server']>
})
afterAll(async () => {
  await issuer.close()
})

describe('the preset table', () => {
  it('has an entry for every preset function of bearer-guard/presets', () => {
    const functions = Object.values(presets).filter((v) => typeof v === 'function')
    expect(functions.length).toBeGreaterThanOrEqual(6)
    expect(new Set(PRESETS.map((p) => p.fn))).toEqual(new Set(functions))
  })

  it.each(PRESETS.map((p) => [p.name, p] as const))('%s: its example gives the options the preset gives', (_name, preset) => {
    const line = parseCommandLine(['inspect', 'x', '--preset', preset.name, ...preset.example.split(' ')])
    const plan = buildPlan(line.values, undefined, { warn() {} })
    const input: Record<string, unknown> = {}
    const args = preset.example.split(' ')
    for (let i = 0; i < args.length; i += 2) {
      const key = Object.keys(preset.options).find((k) => `--${flagOf(k)}` === args[i]) as string
      const option = preset.options[key]
      input[key] = option?.kind === 'list' ? [args[i + 1]] : args[i + 1]
    }
    const direct = preset.fn(input as never)
    expect(plan?.options.jwksUri).toBe(direct.jwksUri)
    expect(typeof plan?.options.issuer === 'function' ? 'function' : plan?.options.issuer).toEqual(typeof direct.issuer === 'function' ? 'function' : direct.issuer)
    expect(plan?.options.algorithms).toEqual(direct.algorithms)
    expect(plan?.config.preset).toBe(preset.name)
  })

  const required = PRESETS.flatMap((p) =>
    Object.entries(p.options)
      .filter(([, o]) => o.required)
      .map(([key]) => [p.name, flagOf(key), p] as const),
  )
  it.each(required)('%s without --%s is a usage error naming the flag', async (name, flag, preset) => {
    const args = preset.example.split(' ')
    const at = args.indexOf(`--${flag}`)
    const without = at === -1 ? args : [...args.slice(0, at), ...args.slice(at + 2)]
    const r = await cli(['inspect', jwt({ alg: 'RS256' }, { exp: 1 }), '--preset', name, ...without])
    expect(r.code).toBe(2)
    expect(r.err).toContain(`--preset ${name} needs --${flag}`)
    expect(r.out).toBe('')
  })

  it("names the flag, not the preset's option, when the preset refuses a value", async () => {
    const r = await cli(['inspect', 'x', '--preset', 'keycloak', '--realm-url', 'https://kc.example.com/main', '--client-id', 'api'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--realm-url: expected a realm URL ending in /realms/<realm>')
  })

  it('checks enum and boolean flags, and takes lists repeated or comma-separated', () => {
    const values = (args: string[]) => parseCommandLine(['inspect', 'x', ...args]).values
    expect(() => buildPlan(values(['--preset', 'keycloak', '--realm-url', 'https://kc.test/realms/a', '--client-id', 'api', '--roles', 'all']), undefined, { warn() {} })).toThrow(
      "--roles must be one of realm, client, both, got 'all'",
    )
    expect(() =>
      buildPlan(values(['--preset', 'entra-id', '--tenant-id', 'common', '--audience', 'api', '--require-scope-or-role', 'no']), undefined, { warn() {} }),
    ).toThrow("--require-scope-or-role must be true or false, got 'no'")
    const plan = buildPlan(
      values(['--preset', 'cognito', '--user-pool-id', 'eu-west-1_Ab1', '--client-id', 'a', '--client-id', 'b', '--algorithms', 'RS256,RS384']),
      undefined,
      { warn() {} },
    )
    expect(plan?.options.algorithms).toEqual(['RS256', 'RS384'])
    expect(plan?.options.issuer).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab1')
  })

  it('refuses a preset flag without its preset, or with another preset', async () => {
    let r = await cli(['inspect', 'x', '--realm-url', 'https://kc.test/realms/a'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--realm-url is an option of --preset keycloak')
    r = await cli(['inspect', 'x', '--client-id', 'a'])
    expect(r.err).toContain('--client-id is an option of --preset keycloak or --preset cognito or --preset okta')
    r = await cli(['inspect', 'x', '--preset', 'auth0', '--domain', 'a.auth0.com', '--audience', 'api', '--realm-url', 'https://kc.test/realms/a'])
    expect(r.err).toContain('--preset auth0 takes no --realm-url (its options: --domain, --audience, --profile, --algorithms)')
  })

  it('keeps --audience false for a preset whose audience is optional, and refuses it where it is required', async () => {
    const values = (args: string[]) => parseCommandLine(['inspect', 'x', ...args]).values
    const plan = buildPlan(values(['--preset', 'keycloak', '--realm-url', 'https://kc.test/realms/a', '--client-id', 'api', '--audience', 'false']), undefined, { warn() {} })
    expect(plan?.options.audience).toBe(false)
    expect(() => buildPlan(values(['--preset', 'auth0', '--domain', 'a.auth0.com', '--audience', 'false']), undefined, { warn() {} })).toThrow(
      "--audience false: the auth0 preset needs this API's audience",
    )
  })
})

describe('the command line', () => {
  it.each([
    [['inspect', 'x', '--audiance', 'a'], 'unknown option --audiance: did you mean --audience?'],
    [['inspect', 'x', '--realmUrl', 'u'], 'unknown option --realmUrl: did you mean --realm-url?'],
    [['inspect', 'x', '--jwks-url', 'u'], 'unknown option --jwks-url: did you mean --jwks-uri?'],
    [['inspect', 'x', '--jsno'], 'unknown option --jsno: did you mean --json?'],
    [['inspect', 'x', '--frobnicate'], 'unknown option --frobnicate\n'],
    [['inspect', 'x', '-x'], 'unknown option -x\n'],
    [['inspect', 'x', '--preset', 'entraId'], "unknown preset 'entraId': did you mean 'entra-id'?"],
    [['inpsect', 'x'], "unknown command 'inpsect': did you mean 'inspect'?"],
    [[], 'no command'],
    [['inspect'], 'no token'],
    [['inspect', 'a', 'b'], 'one token at a time: got 2 arguments'],
    [['inspect', 'x', '--issuer'], "Option '--issuer <value>' argument missing"],
    [['inspect', 'x', '--json=yes'], "Option '--json' does not take an argument"],
    [['inspect', ''], 'empty token'],
    [['inspect', 'Bearer '], 'empty token'],
    [['inspect', 'Bearer'], 'empty token after "Bearer"'],
    [['inspect', 'x', '--audience', 'a'], '--audience needs a key source: --issuer <url>, --jwks-uri <url> or --preset <name>'],
    [['inspect', 'x', '--issuer', 'false'], '--issuer false leaves no key source'],
    [['inspect', 'x', '--issuer', 'https://a.test', '--issuer', 'https://b.test', '--audience', 'a'], '--issuer was given 2 times'],
    [['inspect', 'x', '--issuer', 'https://a.test', '--audience', 'false', '--audience', 'a'], '--audience false cannot be combined'],
    [['inspect', 'x', '--issuer', 'https://a.test', '--audience', 'a', '--timeout', 'soon'], "--timeout must be a duration such as 5s, 30s or 1m, got 'soon'"],
    [['inspect', 'x', '--issuer', 'https://a.test', '--audience', 'a', '--algorithms', 'RS257'], 'invalid option "algorithms[0]"'],
  ])('%j is a usage error (exit 2): %s', async (args, message) => {
    const r = await cli(args)
    expect(r.code).toBe(2)
    expect(r.err).toContain(message)
    expect(r.err).toContain("Run 'bearer-guard inspect --help' for usage.")
    expect(r.out).toBe('')
  })

  it("names the token's own iss and aud when --issuer or --audience is missing", async () => {
    const token = jwt({ alg: 'RS256' }, { iss: 'https://kc.test/realms/a', aud: ['orders'], exp: 1 })
    let r = await cli(['inspect', token, '--jwks-uri', 'https://kc.test/keys', '--audience', 'orders'])
    expect(r.err).toContain('--jwks-uri needs --issuer <expected iss> (this token says "https://kc.test/realms/a"), or --issuer false to skip the check')
    r = await cli(['inspect', token, '--issuer', 'https://kc.test/realms/a'])
    expect(r.err).toContain('verifying needs --audience <aud> (this token is for "orders"), or --audience false to skip the check')
  })

  it('prints the help with every preset and its flags, from the table', async () => {
    for (const args of [['--help'], ['help'], ['inspect', '--help'], ['inspect', '-h']]) {
      const r = await cli(args)
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/^Usage: bearer-guard inspect <token \| -> \[options\]/)
      expect(r.out).toContain('Examples:')
      for (const p of PRESETS) {
        expect(r.out).toContain(`--preset ${p.name}`)
        for (const [key, o] of Object.entries(p.options)) expect(r.out).toMatch(new RegExp(`--${flagOf(key)} .*${o.required ? '\\(required\\)' : ''}`))
      }
      expect(r.out).toContain('2  usage error, empty input, or the key source is down (503)')
    }
  })

  it('suggests another spelling, a typo or a prefix, and nothing for a stranger', () => {
    const known = ['audience', 'jwks-uri', 'realm-url', 'issuer']
    expect(suggest('audiance', known)).toBe('audience')
    expect(suggest('jwks_uri', known)).toBe('jwks-uri')
    expect(suggest('iss', known)).toBe('issuer')
    expect(suggest('zzz', known)).toBeUndefined()
  })
})

describe('reading the token', () => {
  it('takes it with or without Bearer, an Authorization: name or quotes', () => {
    expect(stripInput('  Bearer abc.def.ghi\n')).toEqual({ token: 'abc.def.ghi', scheme: 'Bearer' })
    expect(stripInput('bearer abc')).toEqual({ token: 'abc', scheme: 'Bearer' })
    expect(stripInput('Authorization: Bearer abc')).toEqual({ token: 'abc', scheme: 'Bearer' })
    expect(stripInput('DPoP abc')).toEqual({ token: 'abc', scheme: 'DPoP' })
    expect(stripInput('"abc.def.ghi"')).toEqual({ token: 'abc.def.ghi', scheme: undefined })
    expect(stripInput('abc')).toEqual({ token: 'abc', scheme: undefined })
  })

  it('reads stdin with -, in chunks', async () => {
    const token = jwt({ alg: 'RS256' }, { sub: 'from-stdin', exp: 2e9 })
    const r = await cli(['inspect', '-', '--json'], { stdin: [new TextEncoder().encode(`Bearer ${token.slice(0, 10)}`), new TextEncoder().encode(`${token.slice(10)}\n`)] })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.claims.sub).toBe('from-stdin')
    expect(report.input.scheme).toBe('Bearer')
  })

  it('refuses empty stdin and stdin over the cap (exit 2)', async () => {
    let r = await cli(['inspect', '-'], { stdin: '\n' })
    expect(r.code).toBe(2)
    expect(r.err).toContain('empty input: no token on stdin')
    r = await cli(['inspect', '-'], { stdin: [new Uint8Array(MAX_STDIN_BYTES), new Uint8Array(1)] })
    expect(r.code).toBe(2)
    expect(r.err).toContain(`stdin holds more than ${MAX_STDIN_BYTES} bytes`)
  })

  it.each([
    ['a JWE', `${b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'enc-1' })}.a.b.c.d`, 'jwe', 'JWE (encrypted) tokens are not accepted'],
    ['a Google access token', 'ya29.a0AfH6SMBx-opaque_token', 'opaque', 'Google OAuth access token'],
    ['an opaque token', 'dGhpcyBpcyBvcGFxdWU', 'opaque', 'token introspection (RFC 7662)'],
    ['a JWS without claims', `${b64({ alg: 'RS256' })}.${b64('hello')}.c2ln`, 'jws', 'payload is not a JSON object'],
    ['garbage', '%%% not <a> token', 'malformed', 'whitespace'],
    ['garbage without spaces', '%%%', 'malformed', 'not a token: characters outside the RFC 6750 token syntax'],
  ])('says what %s is, and exits 1', async (_what, input, kind, text) => {
    const r = await cli(['inspect', input, '--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.out)
    expect(report.input.kind).toBe(kind)
    expect(report.claims).toBeNull()
    expect(report.outcome).toMatchObject({ valid: false, code: 'invalid_token' })
    expect(`${report.outcome.reason} ${report.outcome.hint}`).toContain(text)
    const text2 = await cli(['inspect', input])
    expect(text2.code).toBe(1)
    expect(text2.out).toMatch(/^result +NOT A JWT {2}401 invalid_token/m)
  })

  it("shows a JWE's header, which is in clear", async () => {
    const r = await cli(['inspect', `${b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })}.a.b.c.d`])
    expect(r.out).toMatch(/^ {2}enc +"A256GCM"$/m)
  })

  it('notes an unsigned token and a token without exp, and still decodes it (exit 0)', async () => {
    const r = await cli(['inspect', jwt({ alg: 'none' }, { sub: 'x' }, '')])
    expect(r.code).toBe(0)
    expect(r.out).toContain('alg "none": an unsigned token, never accepted')
    expect(r.out).toContain('no exp: bearer-guard refuses tokens without an expiry')
  })

  it('prints the token shortened, and whole only with --show-token', async () => {
    const token = jwt({ alg: 'RS256' }, { sub: 'x', exp: 2e9 })
    let r = await cli(['inspect', token])
    expect(r.out).not.toContain(token)
    expect(r.out).toContain(`${token.slice(0, 12)}…${token.slice(-6)}`)
    r = await cli(['inspect', token, '--show-token', '--json'])
    expect(JSON.parse(r.out).input.token).toBe(token)
  })

  it('shows at most three eighths of a short token', () => {
    expect(shorten('x')).toBe('…')
    expect(shorten('abcdefghijklmnopqrst')).toBe('abcde…st')
    expect(shorten('0123456789abcdefghijklmnopqrstuvwxyzABCD')).toBe('0123456789…zABCD')
  })
})

describe('times', () => {
  it('are relative to now, in text and in JSON', async () => {
    const iat = 1_700_000_000
    freezeClock((iat + 480) * 1000)
    const token = jwt({ alg: 'RS256' }, { iat, nbf: iat + 490, exp: iat + 300, auth_time: iat - 7200 })
    const r = await cli(['inspect', token])
    expect(r.out).toMatch(/^ {2}iat +1700000000 {2}2023-11-14T22:13:20\.000Z {2}issued 8 min ago$/m)
    expect(r.out).toMatch(/^ {2}exp +1700000300 {2}2023-11-14T22:18:20\.000Z {2}expired 3 min ago$/m)
    expect(r.out).toMatch(/^ {2}nbf +1700000490 .* nbf in 10 s \(not valid yet\)$/m)
    expect(r.out).toMatch(/^ {2}auth_time +1699992800 .* authenticated 2 h ago$/m)
    const json = JSON.parse((await cli(['inspect', token, '--json'])).out)
    expect(json.times.exp).toEqual({ value: iat + 300, iso: '2023-11-14T22:18:20.000Z', relative: -180, text: 'expired 3 min ago' })
    expect(json.times.nbf.relative).toBe(10)
  })

  it('round down within one unit', () => {
    expect([0, 59, 60, 3599, 3600, 172_799, 172_800].map(span)).toEqual(['0 s', '59 s', '1 min', '59 min', '1 h', '47 h', '2 d'])
  })
})

describe('bindings', () => {
  it('says a DPoP-bound token is bound, with the thumbprint', async () => {
    const token = jwt({ alg: 'ES256' }, { exp: 2e9, cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } })
    const r = await cli(['inspect', token])
    expect(r.out).toMatch(/^bound +DPoP-bound \(cnf\.jkt\): key thumbprint \(RFC 7638\) 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I$/m)
    expect(JSON.parse((await cli(['inspect', token, '--json'])).out).binding).toEqual({ type: 'dpop', claim: 'cnf.jkt', thumbprint: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' })
  })

  it('says a certificate-bound token is bound, with the certificate thumbprint', async () => {
    const r = await cli(['inspect', jwt({ alg: 'RS256' }, { exp: 2e9, cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } })])
    expect(r.out).toMatch(/^bound +certificate-bound \(cnf\.x5t#S256\): certificate thumbprint bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2$/m)
    expect(r.out).toContain('mutual TLS')
  })

  it('computes the RFC 7638 thumbprint of a cnf.jwk', async () => {
    const { publicKey } = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const r = await cli(['inspect', jwt({ alg: 'RS256' }, { exp: 2e9, cnf: { jwk } }), '--json'])
    expect(JSON.parse(r.out).binding).toEqual({ type: 'jwk', claim: 'cnf.jwk', thumbprint: await calculateJwkThumbprint(jwk, 'sha256') })
  })
})

describe('output safety and colours', () => {
  it('escapes control, C1 and bidi characters from the token, so a claim cannot drive the terminal', async () => {
    const hostile = { 'na\u001b[2Jme': 'x\u001b]0;pwned\u0007y', csi: 'a\u009b31mb', bidi: 'abc\u202edcba', nl: 'line\nfake: line' }
    const r = await cli(['inspect', jwt({ alg: 'RS256', kid: '\u001b[31mred' }, { ...hostile, exp: 2e9 })])
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(r.out).toContain('na\\u001b[2Jme')
    expect(r.out).toContain('a\\u009b31mb')
    expect(r.out).toContain('abc\\u202edcba')
    expect(r.out).not.toMatch(/^fake: line/m)
    expect(safe('\u2028\u2066')).toBe('\\u2028\\u2066')
  })

  it('colours only on a terminal without NO_COLOR or --no-color, and never JSON', async () => {
    expect(useColor(true, {}, false)).toBe(true)
    expect(useColor(undefined, {}, false)).toBe(false)
    expect(useColor(true, { NO_COLOR: '1' }, false)).toBe(false)
    expect(useColor(true, { NO_COLOR: '' }, false)).toBe(true)
    expect(useColor(true, {}, true)).toBe(false)
    const token = jwt({ alg: 'RS256' }, { exp: 2e9 })
    expect((await cli(['inspect', token], { isTTY: true })).out).toContain('\u001b[1m')
    expect((await cli(['inspect', token], { isTTY: false })).out).not.toContain('\u001b')
    expect((await cli(['inspect', token], { isTTY: true, env: { NO_COLOR: '1' } })).out).not.toContain('\u001b')
    expect((await cli(['inspect', token, '--no-color'], { isTTY: true })).out).not.toContain('\u001b')
    expect((await cli(['inspect', token, '--json'], { isTTY: true })).out).not.toContain('\u001b')
  })
})

describe('verifying (a real loopback issuer)', () => {
  it('verifies through a preset, with --jwks-uri overriding its URL, and reads the roles the preset reads', async () => {
    const token = await issuer.sign(
      { typ: 'Bearer', iss: `${server.url}/realms/main`, realm_access: { roles: ['admin'] }, resource_access: { orders: { roles: ['reader'] } }, scope: 'openid orders' },
      { audience: 'orders' },
    )
    const r = await cli(['inspect', token, '--preset', 'keycloak', '--realm-url', `${server.url}/realms/main`, '--client-id', 'orders', '--jwks-uri', issuer.jwksUri, '--json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.outcome).toMatchObject({ valid: true, subject: 'user-123', roles: ['admin', 'reader'], scopes: ['openid', 'orders'], audience: ['orders'] })
    expect(report.keySource).toBe(`${issuer.jwksUri} (preset keycloak)`)
    expect(report.outcome.expiresIn).toBeGreaterThan(0)
    expect(report.outcome.expiresIn).toBeLessThanOrEqual(300)
  })

  it("answers a preset's derived JWKS URL that does not exist with exit 2 and the URL", async () => {
    const r = await cli(['inspect', await issuer.sign(), '--preset', 'keycloak', '--realm-url', `${server.url}/realms/main`, '--client-id', 'orders'])
    expect(r.code).toBe(2)
    expect(r.out).toMatch(/^result +KEY SOURCE DOWN {2}503 temporarily_unavailable/m)
    expect(r.out).toContain(`check ${server.url}/realms/main/protocol/openid-connect/certs`)
  })

  it("keeps the verifier's logger warnings off stdout: stderr in text, `warnings` in JSON", async () => {
    issuer.simulate('jwks', 500)
    try {
      const args = ['inspect', await issuer.sign(), '--jwks-uri', issuer.jwksUri, '--issuer', issuer.issuer, '--audience', 'https://api.test']
      const text = await cli(args)
      expect(text.code).toBe(2)
      expect(text.out).not.toContain('answering 503 until')
      expect(text.err).toContain('bearer-guard: warning: JWKS unavailable, answering 503 until it can be fetched')
      const json = await cli([...args, '--json'])
      expect(json.err).toBe('')
      expect(JSON.parse(json.out).warnings).toEqual([expect.stringContaining('JWKS unavailable, answering 503 until it can be fetched')])
    } finally {
      issuer.simulate('jwks', null)
    }
  })
})

describe('decodeInput', () => {
  it('decodes without verifying', () => {
    const d = decodeInput(jwt({ alg: 'RS256', kid: 'k' }, { sub: 'x', exp: 2 }))
    expect(d).toMatchObject({ kind: 'jwt', header: { alg: 'RS256', kid: 'k' }, claims: { sub: 'x', exp: 2 }, notes: [] })
  })
})

describe('docs/observability.md', () => {
  const page = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8')

  it("lists every preset's flags, required and optional, as the table has them", () => {
    for (const p of PRESETS) {
      const row = page.split('\n').find((l) => l.startsWith(`| \`--preset ${p.name}\` |`))
      expect(row, p.name).toBeDefined()
      const [, required, optional] = (row as string).split(' | ')
      for (const [key, o] of Object.entries(p.options)) expect(o.required ? required : optional, `${p.name} --${flagOf(key)}`).toContain(`\`--${flagOf(key)}`)
    }
  })

  it('names every hint rule', () => {
    for (const id of HINT_IDS) expect(page, id).toContain(`\`${id}\``)
  })
})
