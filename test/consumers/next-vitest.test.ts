/**
 * Users unit-test their Next route handlers with vitest, which loads bearer-guard/next from
 * node_modules with Node's own loader (dependencies are not transformed): the fixture's own vitest
 * runs a test that wraps a handler in `withAuth` and calls it with and without a token.
 */
import { expect, inject, it } from 'vitest'
import { run } from './harness.js'

it('a vitest file imports bearer-guard/next from node_modules and calls withAuth', async () => {
  const dir = inject('fixtureDirs').node
  const r = await run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/route.test.ts'], { cwd: dir })
  expect(`${r.stdout}\n${r.stderr}`).toMatch(/1 passed/)
  expect(r.code).toBe(0)
})
