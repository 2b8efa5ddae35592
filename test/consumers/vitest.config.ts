/**
 * The consumer matrix (`npm run test:consumers`, a step of `npm test`): fixture projects install the
 * packed tarball and import, require and type-check it as users' projects do. See ./fixtures.ts.
 * Needs a built dist/ (`npm run build`); installs are cached between runs (./harness.ts).
 */
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'consumers',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/consumers/**/*.test.ts'],
    globalSetup: ['test/consumers/setup.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
  },
})
