/**
 * A second copy of bearer-guard, as when an app loads the CJS build beside the ESM one (a CJS
 * dependency `require`s the package while the app `import`s it): an esbuild bundle of src/ in
 * another module format, with its own `AuthError` classes. Only the `Symbol.for` brands are shared.
 *
 * The bundles are written to .tmp/ (git-ignored) and removed by `dispose()`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../..', import.meta.url))
const require = createRequire(import.meta.url)

/** The frameworks stay external: one copy of Express, Koa, … as in an app. */
const FRAMEWORKS = ['express', 'fastify', 'fastify-plugin', 'koa', 'hono', 'next', 'msw', 'ioredis']

export interface SecondCopy {
  /** `require(<bundle of entry>)`. */
  load<T = Record<string, any>>(entry: string): T
  dispose(): Promise<void>
}

/**
 * Builds CommonJS bundles of the given src/ entries (each with its own copy of the core), e.g.
 * `{ core: 'src/index.ts', express: 'src/adapters/express.ts' }`.
 */
export async function buildSecondCopy(entries: Record<string, string>): Promise<SecondCopy> {
  await mkdir(join(root, '.tmp'), { recursive: true })
  const dir = await mkdtemp(join(root, '.tmp', 'second-copy-'))
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(root, path)])),
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    // no splitting in CJS: every entry carries its own core, as a second build would
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: FRAMEWORKS.flatMap((name) => [name, `${name}/*`]),
    logLevel: 'silent',
  })
  return {
    load: (entry) => require(join(dir, `${entry}.cjs`)),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}
