/**
 * The built `bearer-guard` bin as a child process, started the way npx starts it: the file named in
 * package.json `bin`, through a `node_modules/.bin` symlink, by its shebang. The build is the
 * package's own ESM build config (tsup.config.ts `esm`), written to a directory of this test's own, so it never
 * races test/packaging's build of dist/. Keys come from a real loopback issuer.
 */
import { spawn, execFile } from 'node:child_process'
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { freePort } from '../helpers/free-port.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }

let work: string
/** The file package.json `bin` names, in the test's build. */
let binFile: string
/** `node_modules/.bin/bearer-guard`, a symlink to it, as npm installs it. */
let npxBin: string
let issuer: TestIssuer

beforeAll(async () => {
  mkdirSync(join(root, '.tmp'), { recursive: true })
  work = mkdtempSync(join(root, '.tmp', 'cli-bin-'))
  const { build } = await import('tsup')
  const { esm } = await import('../../tsup.config.js')
  await build({ ...esm, outDir: join(work, 'dist'), silent: true, config: false })
  copyFileSync(join(root, 'package.json'), join(work, 'package.json'))
  binFile = join(work, pkg.bin['bearer-guard'] as string)
  mkdirSync(join(work, 'consumer', 'node_modules', '.bin'), { recursive: true })
  npxBin = join(work, 'consumer', 'node_modules', '.bin', 'bearer-guard')
  symlinkSync(binFile, npxBin)
  issuer = await createTestIssuer({ listen: true })
}, 120_000)

afterAll(async () => {
  await issuer?.close()
  if (work) rmSync(work, { recursive: true, force: true })
})

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the bin (asynchronously: the issuer answers from this process). */
function bearerGuard(args: string[], opts: { input?: string; env?: Record<string, string>; file?: string } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, ...opts.env }
    delete env.NO_COLOR
    if (opts.env?.NO_COLOR) env.NO_COLOR = opts.env.NO_COLOR
    const child = spawn(opts.file ?? npxBin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

const verify = () => ['--issuer', issuer.issuer, '--audience', 'https://api.test']

describe('the bin', () => {
  it('is the file package.json names, built with its shebang, executable, and runs through node_modules/.bin', async () => {
    expect(pkg.bin['bearer-guard']).toBe('dist/cli.js')
    expect(readFileSync(binFile, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    accessSync(binFile, constants.X_OK)
    const r = await bearerGuard(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: bearer-guard inspect <token \| ->/)
  })

  it('is in the package tarball (npm pack --dry-run)', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: work })
    const [packed] = JSON.parse(stdout) as [{ files: { path: string }[] }]
    expect(packed.files.map((f) => f.path)).toContain(pkg.bin['bearer-guard'])
  })
})

describe('bearer-guard inspect, against a loopback issuer (discovery)', () => {
  it('valid: exit 0, the outcome and the key lines', async () => {
    // 630 s: "10 min" until the run takes over half a minute
    const r = await bearerGuard(['inspect', await issuer.sign({ roles: ['admin'], scope: 'read:orders write:orders' }, { expiresIn: '630s' }), ...verify()])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^kind +JWT, signed with RS256$/m)
    expect(r.stdout).toMatch(/^ {2}exp +\d+ {2}\S+Z {2}expires in 10 min$/m)
    expect(r.stdout).toMatch(new RegExp(`^result +VALID {2}verified with discovery from ${issuer.issuer}$`, 'm'))
    expect(r.stdout).toMatch(/^subject +"user-123"$/m)
    expect(r.stdout).toMatch(/^roles +admin$/m)
    expect(r.stdout).toMatch(/^scopes +read:orders write:orders$/m)
    expect(r.stdout).toMatch(/^expires +in 10 min {2}\S+Z$/m)
  })

  it('expired: exit 1, the reason and a hint with the clock', async () => {
    const r = await bearerGuard(['inspect', await issuer.expired(), ...verify()])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^ {2}exp +\d+ {2}\S+Z {2}expired 10 min ago$/m)
    expect(r.stdout).toMatch(/^result +REFUSED {2}401 invalid_token: token expired {2}\(claim exp\)$/m)
    expect(r.stdout).toMatch(/^reason +exp \d+ is past: now \d+, tolerance 5s$/m)
    expect(r.stdout).toMatch(/^hint +expired 10 min ago \(exp \S+Z, now \S+Z by this machine's clock, tolerance 5 s; it was issued 1 h ago and lived 50 min\)/m)
  })

  it('wrong audience: exit 1, and the hint names the audience to set', async () => {
    const r = await bearerGuard(['inspect', await issuer.sign({}, { audience: 'https://billing.test' }), ...verify()])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^reason +aud mismatch: got \["https:\/\/billing\.test"\], expected "https:\/\/api\.test"$/m)
    expect(r.stdout).toContain(`hint      aud mismatch: the token is for "https://billing.test" (expected "https://api.test") — set audience: 'https://billing.test' (--audience https://billing.test) or request the token for this API`)
  })

  it('tampered: exit 1, signature verification failed', async () => {
    const [h, p, s] = (await issuer.sign()).split('.') as [string, string, string]
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['admin'] }
    const r = await bearerGuard(['inspect', `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`, ...verify()])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^result +REFUSED {2}401 invalid_token: invalid token$/m)
    expect(r.stdout).toMatch(/^reason +signature verification failed$/m)
    expect(r.stdout).toMatch(/^hint +the signature does not verify with the key of kid "[^"]+": the token was altered after signing/m)
  })

  it('not a JWT: exit 1, and what it is', async () => {
    const r = await bearerGuard(['inspect', 'ya29.a0AfH6SMBx-opaque', ...verify()])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^kind +opaque token — not a JWT$/m)
    expect(r.stdout).toMatch(/^result +NOT A JWT {2}401 invalid_token: invalid token$/m)
    expect(r.stdout).toContain('Google OAuth access token')
  })

  it('reads the token from stdin with -, "Bearer " included', async () => {
    const r = await bearerGuard(['inspect', '-', ...verify()], { input: `Bearer ${await issuer.sign()}\n` })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^token +eyJ\S{9}…\S{6} {2}\(\d+ characters; "Bearer " removed\)$/m)
    expect(r.stdout).toMatch(/^result +VALID/m)
  })

  it('--json: one object scripts can parse, with the outcome', async () => {
    const r = await bearerGuard(['inspect', await issuer.expired(), ...verify(), '--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout)
    expect(report.header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' })
    expect(report.claims).toMatchObject({ sub: 'user-123', aud: 'https://api.test' })
    expect(report.times.exp).toMatchObject({ text: 'expired 10 min ago', iso: expect.stringMatching(/Z$/) })
    expect(report.times.exp.relative).toBeLessThanOrEqual(-600)
    expect(report.outcome).toMatchObject({
      valid: false,
      status: 401,
      code: 'invalid_token',
      description: 'token expired',
      reason: expect.stringMatching(/^exp \d+ is past/),
      claim: 'exp',
      hintId: 'expired',
      hint: expect.stringContaining('expired 10 min ago'),
    })
    const valid = JSON.parse((await bearerGuard(['inspect', await issuer.sign(), ...verify(), '--json'])).stdout)
    expect(valid.outcome).toMatchObject({ valid: true, subject: 'user-123', issuer: issuer.issuer, audience: ['https://api.test'] })
  })

  it('decoded without a key source: exit 0', async () => {
    const r = await bearerGuard(['inspect', await issuer.sign()])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^result +not verified: no key source given$/m)
    // never a suggestion to trust the keys the token itself names
    expect(r.stdout).toContain('--issuer <the issuer you trust>')
    expect(r.stdout).not.toContain(`--issuer ${issuer.issuer}`)
  })

  it('usage errors: exit 2, on stderr', async () => {
    const r = await bearerGuard(['inspect', await issuer.sign(), '--audiance', 'x'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('unknown option --audiance: did you mean --audience?')
    const empty = await bearerGuard(['inspect', '-'], { input: '' })
    expect(empty.code).toBe(2)
  })

  it('key source down (a loopback port that refuses): exit 2 with the root cause', async () => {
    const port = await freePort()
    const r = await bearerGuard(['inspect', await issuer.sign(), '--jwks-uri', `http://127.0.0.1:${port}/jwks`, '--issuer', issuer.issuer, '--audience', 'https://api.test'])
    expect(r.code).toBe(2)
    expect(r.stdout).toMatch(/^result +KEY SOURCE DOWN {2}503 temporarily_unavailable: authorization keys unavailable, retry later$/m)
    expect(r.stdout).toMatch(new RegExp(`^reason +JWKS unavailable: GET http://127\\.0\\.0\\.1:${port}/jwks failed: connection refused: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`, 'm'))
    expect(r.stdout).toMatch(new RegExp(`^hint +connection refused: nothing listens at 127\\.0\\.0\\.1:${port}`, 'm'))
    // the verifier's own warning goes to stderr, not into the report
    expect(r.stderr).toContain('bearer-guard: warning: JWKS unavailable')
    const json = JSON.parse((await bearerGuard(['inspect', await issuer.sign(), '--jwks-uri', `http://127.0.0.1:${port}/jwks`, '--issuer', 'false', '--audience', 'false', '--json'])).stdout)
    expect(json.outcome).toMatchObject({ valid: false, status: 503, hintId: 'key-source-refused', cause: { kind: 'network', code: 'ECONNREFUSED' } })
  })
})

describe('colours', () => {
  it('are off when stdout is not a terminal', async () => {
    const r = await bearerGuard(['inspect', await issuer.sign(), ...verify()])
    expect(r.stdout).toMatch(/^result +VALID/m)
    expect(r.stdout).not.toContain('\u001b')
  })

  // util-linux `script` gives the bin a pseudo-terminal
  const hasScript = existsSync('/usr/bin/script')
  it.skipIf(!hasScript)('are on on a terminal, and off there with NO_COLOR', async () => {
    const token = await issuer.sign()
    const command = `${npxBin} inspect ${token}`
    const onTty = await bearerGuard(['-qec', command, '/dev/null'], { file: 'script' })
    expect(onTty.stdout).toContain('\u001b[1m')
    expect(onTty.stdout).toContain('result')
    const noColor = await bearerGuard(['-qec', command, '/dev/null'], { file: 'script', env: { NO_COLOR: '1' } })
    expect(noColor.stdout).toContain('result')
    expect(noColor.stdout).not.toContain('\u001b[')
  })
})
