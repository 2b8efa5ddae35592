import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url))
const alias = [
  { find: /^bearer-guard$/, replacement: src('index.ts') },
  { find: /^bearer-guard\/(express|fastify|koa|hono|next|nestjs)$/, replacement: src('adapters/$1.ts') },
  { find: /^bearer-guard\/(testing|redis|presets|otel|mcp)$/, replacement: src('$1/index.ts') },
]

export default defineConfig({
  resolve: { alias },
  test: {
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'src/core/**': { lines: 90 } },
    },
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          // the consumer matrix installs the packed tarball: its own step (npm run test:consumers)
          exclude: [...configDefaults.exclude, 'test/consumers/**'],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 60_000,
          // type tests (*.test-d.ts): type-checked (the repo's tsconfig, these files only) by every run, never executed
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './test/tsconfig.test-d.json' },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'edge',
          include: ['test/core/**/*.test.ts'],
          exclude: ['test/core/**/*.node.test.ts'],
          environment: 'edge-runtime',
          setupFiles: ['test/setup/edge-runtime.ts'],
          testTimeout: 20_000,
        },
      },
    ],
  },
})
