import { rmSync } from 'node:fs'
import { defineConfig, type Options } from 'tsup'

const entry = {
  index: 'src/index.ts',
  'adapters/express': 'src/adapters/express.ts',
  'adapters/fastify': 'src/adapters/fastify.ts',
  'adapters/koa': 'src/adapters/koa.ts',
  'adapters/hono': 'src/adapters/hono.ts',
  'adapters/next': 'src/adapters/next.ts',
  'adapters/nestjs': 'src/adapters/nestjs.ts',
  testing: 'src/testing/index.ts',
  redis: 'src/redis/index.ts',
  presets: 'src/presets/index.ts',
  otel: 'src/otel/index.ts',
  mcp: 'src/mcp/index.ts',
}

const shared: Options = {
  dts: false,
  // one shared chunk per format, so AuthError is one class across subpaths
  splitting: true,
  // no source maps: the output is plain, unminified JavaScript with the source's names, and maps
  // without the sources (not shipped) would point nowhere; with them the tarball tripled
  sourcemap: false,
  // the two formats build in parallel: dist/ is emptied here, once, not by each of them
  clean: false,
  target: 'node20',
  treeshake: true,
  external: ['express', 'fastify', 'fastify-plugin', 'koa', 'hono', 'next', 'msw', 'ioredis', 'redis', '@opentelemetry/api', '@modelcontextprotocol/sdk'],
}

/** The ESM build, with the `bearer-guard` bin (package.json "bin": npx bearer-guard inspect; ESM only). */
export const esm: Options = { ...shared, entry: { ...entry, cli: 'src/cli/bin.ts' }, format: ['esm'] }

// a function, so that importing this file (test/cli builds the bin from `esm`) empties nothing
export default defineConfig(() => {
  rmSync('dist', { recursive: true, force: true })
  return [
    // declarations of both formats in one pass (.d.ts for import, .d.cts for require)
    { ...shared, entry, format: ['esm', 'cjs'], dts: { only: true } },
    esm,
    {
      ...shared,
      format: ['cjs'],
      // jose 6 is ESM-only and Node before 20.19 cannot require() ESM: the CommonJS build carries the
      // few jose functions it uses (PEM import on runtimes without node:crypto; the test issuer's signing)
      noExternal: ['jose'],
      // require('bearer-guard/fastify') is the plugin itself, carrying the named exports: the entry has
      // a default export only, which rollup's CommonJS output makes `module.exports` (types: fastify.ts)
      entry: { ...entry, 'adapters/fastify': 'src/adapters/fastify-cjs.ts' },
    },
  ]
})
