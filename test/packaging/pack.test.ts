/**
 * The packaging checks pack into .tmp/pack/, never into the package root: a user's own
 * bearer-guard-*.tgz there survives `npm test` (attw's `--pack .` used to delete it).
 *
 * Runs `npm run check:packaging` in a copy of the package (its package.json, scripts, dist and
 * docs; node_modules linked), so the repo's own root is never touched.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
let copy: string

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  copy = mkdtempSync(join(root, '.tmp', 'pack-test-'))
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'scripts', 'dist']) {
    cpSync(join(root, f), join(copy, f), { recursive: true })
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir')
})

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true })
})

it("leaves the package root's own tarballs alone and packs into .tmp/pack", async () => {
  const name = `bearer-guard-${(JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { version: string }).version}.tgz`
  writeFileSync(join(copy, name), 'a user’s own tarball')
  writeFileSync(join(copy, 'bearer-guard-9.9.9.tgz'), 'another one')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  await promisify(execFile)(npm, ['run', 'check:packaging', '--silent'], { cwd: copy, timeout: 170_000 })
  expect(readFileSync(join(copy, name), 'utf8')).toBe('a user’s own tarball')
  expect(readFileSync(join(copy, 'bearer-guard-9.9.9.tgz'), 'utf8')).toBe('another one')
  expect(readdirSync(join(copy, '.tmp', 'pack')).filter((f) => f.endsWith('.tgz'))).toEqual([name])
}, 180_000)
