/**
 * Builds the browser app into examples/web/dist (served by the auth service at /app/ in cookie mode):
 * `src/main.ts` bundled by tsup (esbuild) into one ES module, plus the files in `public/`.
 *
 *   node --import tsx examples/web/build.ts
 *
 * The browser tests and `npm run demo -- --browser` call `buildWebAppIfNeeded()`, which rebuilds
 * only when a source is newer than the build.
 */
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'tsup'

const HERE = fileURLToPath(new URL('.', import.meta.url))
/** Where the build goes (the auth service's default `WEB_APP_DIR`). */
export const WEB_DIST = join(HERE, 'dist')
const PUBLIC = join(HERE, 'public')
const SOURCES = [
  join(HERE, 'src'),
  PUBLIC,
  join(HERE, '..', 'shared', 'web-client.ts'),
  fileURLToPath(import.meta.url),
]

export async function buildWebApp(outDir = WEB_DIST): Promise<void> {
  await build({
    config: false, // not the library's tsup.config.ts
    entry: { app: join(HERE, 'src', 'main.ts') },
    outDir,
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    clean: true,
    dts: false,
    splitting: false,
    silent: true,
    outExtension: () => ({ js: '.js' }),
  })
  for (const file of readdirSync(PUBLIC)) copyFileSync(join(PUBLIC, file), join(outDir, file))
}

function newest(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))))
}

/** Builds unless `dist/` is newer than every source. Returns whether it built. */
export async function buildWebAppIfNeeded(): Promise<boolean> {
  const built = join(WEB_DIST, 'app.js')
  if (existsSync(built) && existsSync(join(WEB_DIST, 'index.html'))) {
    if (statSync(built).mtimeMs > Math.max(...SOURCES.map(newest))) return false
  }
  await buildWebApp()
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWebApp()
  console.log(`built the web app into ${WEB_DIST}`)
}
