#!/usr/bin/env node
// `npm pack` of the built package into a directory of our own (default .tmp/pack/), never into the
// repo root, where a user's own bearer-guard-*.tgz may lie. Prints the tarball's absolute path.
// The packaging checks (publint, attw) and the consumer matrix (test/consumers/) read this tarball:
// the files exactly as npm delivers them.
//
//   node scripts/pack.mjs [dir]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Packs the repo (its dist/ must be built) into `dir`, replacing older tarballs there; returns the tarball path. */
export function pack(dir = join(root, '.tmp', 'pack')) {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  mkdirSync(dir, { recursive: true })
  for (const f of readdirSync(dir)) if (f.endsWith('.tgz')) rmSync(join(dir, f))
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}`)
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))
  return join(dir, info.filename)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(pack(process.argv[2] ? resolve(process.argv[2]) : undefined))
}
