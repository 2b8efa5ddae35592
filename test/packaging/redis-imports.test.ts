/**
 * `bearer-guard/redis` and `bearer-guard/presets` as built: their import graphs (the entry and every
 * chunk it reaches) load neither jose nor zod, nor carry a bundled copy of either (the CommonJS build
 * bundles jose), so a service that only shares revocations, or a preset read by a tool, does not pay
 * for the verifier. This file builds nothing: `npm test` builds first; alone, run `npm run build`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist')
/** Per entry, what its walk must reach (so an empty answer is not a parsing accident). */
const ENTRIES: [entry: string, reaches: { pkg: string } | { code: string }][] = [
  ['redis.js', { pkg: 'lru-cache' }],
  ['redis.cjs', { pkg: 'lru-cache' }],
  ['presets.js', { code: 'AuthError = class' }],
  ['presets.cjs', { code: 'AuthError = class' }],
]

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

describe('dist/redis and dist/presets', () => {
  it.each(ENTRIES)('%s loads neither jose nor zod', (entry, reaches) => {
    const file = join(dist, entry)
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm test builds before testing)`)
    }
    const { files, packages } = importGraph(file)
    const code = [...files].map((f) => readFileSync(f, 'utf8'))
    if ('pkg' in reaches) expect([...packages]).toContain(reaches.pkg)
    else expect(code.some((c) => c.includes(reaches.code))).toBe(true)
    expect([...packages].filter((p) => p === 'jose' || p === 'zod'), [...files].join('\n')).toEqual([])
    // esbuild marks each bundled module with its path: no copy of jose or zod rides along either
    expect(code.filter((c) => /\/\/ node_modules\/(jose|zod)\//.test(c)).length, [...files].join('\n')).toBe(0)
  })
})
