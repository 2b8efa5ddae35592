/**
 * The Nest harnesses (harnesses/nest.ts) on NestJS 11, the previous major, next to the Nest 12 of
 * the repository: test/adapters/nestjs-11 installs Nest 11 (a `file:` dev dependency), and the
 * harness is bundled with bearer-guard's sources (as a user's build would) into that folder, so
 * that its `@nestjs/*` imports resolve to Nest 11. The bundle goes to `nestjs-11/.tmp/` (git-ignored)
 * and is removed by `dispose()`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import type { Harness } from '../conformance-cases.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const fixture = join(root, 'test/adapters/nestjs-11')

export interface Nest11 {
  /** The versions of `@nestjs/core` and `@nestjs/common` the bundle loads (checked by class identity). */
  versions: { core: string; common: string }
  express: Harness
  fastify: Harness
  dispose(): Promise<void>
}

export async function loadNest11(): Promise<Nest11> {
  await mkdir(join(fixture, '.tmp'), { recursive: true })
  const dir = await mkdtemp(join(fixture, '.tmp', 'harness-'))
  const outfile = join(dir, 'nest.mjs')
  await build({
    // the harnesses, and Nest's HttpException to tell which Nest the bundle loaded
    stdin: {
      contents: `export * from './test/adapters/harnesses/nest.ts'\nexport { HttpException } from '@nestjs/common'`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // legacy decorators, no decorator metadata (as tsup/esbuild builds bearer-guard itself)
    tsconfig: join(root, 'tsconfig.json'),
    alias: {
      'bearer-guard': join(root, 'src/index.ts'),
      'bearer-guard/nestjs': join(root, 'src/adapters/nestjs.ts'),
      'bearer-guard/testing': join(root, 'src/testing/index.ts'),
    },
    // every other package stays external: resolved from the bundle's folder, so Nest is Nest 11
    packages: 'external',
    logLevel: 'silent',
  })
  const require = createRequire(outfile)
  const versions = {
    core: (require('@nestjs/core/package.json') as { version: string }).version,
    common: (require('@nestjs/common/package.json') as { version: string }).version,
  }
  const harnesses = (await import(pathToFileURL(outfile).href)) as {
    nestExpressHarness: Harness
    nestFastifyHarness: Harness
    HttpException: unknown
  }
  if (harnesses.HttpException !== (require('@nestjs/common') as { HttpException: unknown }).HttpException) {
    throw new Error(`the Nest 11 bundle did not load the @nestjs/common of ${fixture}`)
  }
  return {
    versions,
    express: rename(harnesses.nestExpressHarness, 'nestjs 11 express', versions.core),
    fastify: rename(harnesses.nestFastifyHarness, 'nestjs 11 fastify', versions.core),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}

function rename(harness: Harness, name: Harness['name'], version: string): Harness {
  return { ...harness, name, transport: `Nest ${version}, ${harness.transport}` }
}
