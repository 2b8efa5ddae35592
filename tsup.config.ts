import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/koa': 'src/adapters/koa.ts',
    'adapters/hono': 'src/adapters/hono.ts',
    'adapters/next': 'src/adapters/next.ts',
    testing: 'src/testing/index.ts',
    redis: 'src/redis/index.ts',
    presets: 'src/presets/index.ts',
    // the `bearer-guard` bin (package.json "bin"): npx bearer-guard inspect
    cli: 'src/cli/bin.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // one shared chunk for both formats, so AuthError is one class across subpaths
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  external: [
    'express', 'fastify', 'fastify-plugin', 'koa', 'hono', 'next', 'msw', 'ioredis', 'redis',
  ],
})
