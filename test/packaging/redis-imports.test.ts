/**
 * `bearer-guard/redis` as built: its import graph (the entry and every chunk it reaches) loads
 * neither jose nor zod, so a service that only shares revocations does not pay for the verifier.
 * This file builds nothing: `npm test` builds first; alone, run `npm run build` before it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist')
const ENTRIES = ['redis.js', 'redis.cjs']

/** Every file reached from `file` by relative imports, and the bare packages those files load. */
function importGraph(file: string, files = new Set<string>(), packages = new Set<string>()) {
  if (files.has(file)) return { files, packages }
  files.add(file)
  const code = readFileSync(file, 'utf8')
  const specifiers = [
    ...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
    ...code.matchAll(/\bfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ].map((m) => m[1] as string)
  for (const s of specifiers) {
    if (s.startsWith('.')) importGraph(resolve(dirname(file), s), files, packages)
    else packages.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string))
  }
  return { files, packages }
}

describe('dist/redis', () => {
  it.each(ENTRIES)('%s loads neither jose nor zod', (entry) => {
    const file = join(dist, entry)
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm test builds before testing)`)
    }
    const { files, packages } = importGraph(file)
    // the walk reached the store's own dependency, so an empty answer is not a parsing accident
    expect([...packages]).toContain('lru-cache')
    expect([...packages].filter((p) => p === 'jose' || p === 'zod'), [...files].join('\n')).toEqual([])
  })
})
