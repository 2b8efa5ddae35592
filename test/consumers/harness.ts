/**
 * Helpers of the consumer matrix: where fixture projects live, how they are installed from the packed
 * tarball (cached between runs), which Node binaries run them, and a child-process runner.
 *
 * Fixture projects live outside the repo (in the OS temp directory): Node and TypeScript look for
 * `node_modules` and `@types` in every parent directory, so a fixture under the repo would see the
 * repo's own dev dependencies (msw, @types/node, …) and could not prove that a project without them
 * works.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, parse, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Bump to throw away every cached fixture install. */
const CACHE_FORMAT = 1

/** The root of the cached fixture installs: `$BEARER_GUARD_CONSUMERS_CACHE`, else one directory per checkout in the OS temp dir. */
export function cacheRoot(): string {
  const fromEnv = process.env.BEARER_GUARD_CONSUMERS_CACHE
  if (fromEnv) return resolve(fromEnv)
  const checkout = createHash('sha256').update(repoRoot).digest('hex').slice(0, 10)
  return join(tmpdir(), `bearer-guard-consumers-${checkout}`)
}

/**
 * The environment for tools run in a fixture: the caller's, minus what npm scripts and vitest add
 * (`npm_*` settings of the repo's own npm run, `VITEST*`, `NODE_OPTIONS`, `NODE_PATH`), so a fixture
 * runs as it would in a user's shell. npm's registry, cache and proxy settings are kept.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|strict_ssl|cafile|userconfig)$/i
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.test(k)) continue
    if (/^(VITEST|TINYPOOL|NODE_OPTIONS$|NODE_PATH$|TSX_|FORCE_COLOR$|NO_COLOR$)/i.test(k)) continue
    env[k] = v
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(cmd: string, args: readonly string[], options: { cwd: string; timeout?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeout ?? 240_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        done({ code, stdout: String(stdout), stderr: String(stderr) + (error && typeof error.code !== 'number' ? `\n${error.message}` : '') })
      },
    )
  })
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
/** npm flags of every fixture install: no audit, no funding notes, no install scripts, cached tarballs first. */
const NPM_FLAGS = ['--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--loglevel=error']

async function npmInstall(cwd: string, args: readonly string[] = []): Promise<void> {
  const r = await run(npm, ['install', ...NPM_FLAGS, ...args], { cwd, timeout: 480_000 })
  if (r.code !== 0) throw new Error(`npm install in ${cwd} failed (${r.code}):\n${r.stderr || r.stdout}`)
}

/** A directory with a node_modules folder above `dir`, if any (a fixture there would see its packages). */
export function nodeModulesAbove(dir: string): string | undefined {
  let d = dirname(resolve(dir))
  const { root } = parse(d)
  for (;;) {
    if (existsSync(join(d, 'node_modules'))) return d
    if (d === root) return undefined
    d = dirname(d)
  }
}

/** A small project: its package.json dependencies (bearer-guard is added) and its files. */
export interface Fixture {
  name: string
  /** package.json fields other than the dependencies (e.g. `type`). */
  packageJson?: Record<string, unknown>
  dependencies: Record<string, string>
  devDependencies?: Record<string, string>
  files: Record<string, string>
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16)
}

/**
 * Installs `fixture` with the packed `tarball` as its `bearer-guard` dependency, the way a user's
 * project gets it from npm (`npm install`, its dependencies resolved from the registry or npm's cache).
 * The install is kept: the next run with the same dependency set only swaps in the new tarball.
 * Returns the project directory.
 */
export async function installFixture(fixture: Fixture, tarball: string): Promise<string> {
  const root = cacheRoot()
  const dir = join(root, fixture.name)
  const above = nodeModulesAbove(dir)
  if (above) throw new Error(`fixture ${dir} would see ${join(above, 'node_modules')}: set BEARER_GUARD_CONSUMERS_CACHE to a directory without node_modules above it`)

  // the tarball under a name of its content, so npm sees a new dependency when the package changed
  const bytes = await readFile(tarball)
  const tgzName = `bearer-guard-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.tgz`
  const tgzDir = join(root, 'tarballs')
  await mkdir(tgzDir, { recursive: true })
  if (!existsSync(join(tgzDir, tgzName))) await copyFile(tarball, join(tgzDir, tgzName))

  const ownDeps = JSON.parse(await readTarballPackageJson(tarball)) as { dependencies?: Record<string, string> }
  const key = hash({ CACHE_FORMAT, fixture: { ...fixture, files: undefined }, deps: ownDeps.dependencies, npmFlags: NPM_FLAGS })
  const keyFile = join(dir, '.fixture-key')
  const warm = existsSync(keyFile) && (await readFile(keyFile, 'utf8')) === key && existsSync(join(dir, 'node_modules'))
  if (!warm) await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })

  const pkg = {
    name: `consumer-${fixture.name}`,
    version: '0.0.0',
    private: true,
    ...fixture.packageJson,
    dependencies: { 'bearer-guard': `file:../tarballs/${tgzName}`, ...fixture.dependencies },
    devDependencies: fixture.devDependencies ?? {},
  }
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  for (const [file, text] of Object.entries(fixture.files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true })
    await writeFile(join(dir, file), text)
  }
  await npmInstall(dir)
  await writeFile(keyFile, key)
  // keep only the tarballs some fixture still names
  const used = new Set<string>()
  for (const name of await readdir(root)) {
    const p = join(root, name, 'package.json')
    if (existsSync(p)) used.add(/bearer-guard-[0-9a-f]+\.tgz/.exec(await readFile(p, 'utf8'))?.[0] ?? '')
  }
  for (const f of await readdir(tgzDir)) if (!used.has(f)) await rm(join(tgzDir, f), { force: true })
  return dir
}

async function readTarballPackageJson(tarball: string): Promise<string> {
  const r = await run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: dirname(tarball) })
  if (r.code !== 0) throw new Error(`cannot read package.json from ${tarball}: ${r.stderr}`)
  return r.stdout
}

/**
 * A Node binary of `version`, from npm's `node-<platform>-<arch>` package (what the `node` package
 * installs), cached beside the fixtures. The running Node when it is that version.
 */
export async function nodeBinary(version: string): Promise<string> {
  if (process.version === `v${version}`) return process.execPath
  const pkgName = `node-${process.platform}-${process.arch}`
  const dir = join(cacheRoot(), `node-${version}`)
  const bin = join(dir, 'node_modules', pkgName, 'bin', process.platform === 'win32' ? 'node.exe' : 'node')
  if (!existsSync(bin)) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'package.json'), '{ "name": "node-binary", "version": "0.0.0", "private": true }\n')
    await npmInstall(dir, [`${pkgName}@${version}`])
  }
  const r = await run(bin, ['--version'], { cwd: dir })
  if (r.stdout.trim() !== `v${version}`) throw new Error(`${bin} is not Node ${version}: ${r.stdout}${r.stderr}`)
  return bin
}
