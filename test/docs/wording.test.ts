/**
 * User-facing text speaks of the user's system: the docs, the README and what the demo prints never
 * send a reader to the design notes this library was first built from ("the seed", its § numbers).
 * `seed-client` is the example auth service's client id, a value, not a reference.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { markdownFiles } from './snippets.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const INTERNAL = /\bseed\b(?!-client)|seed-unified-auth|§[一二三四五六七八九十]/i

it.each([...markdownFiles(root), 'README.md'])('%s does not refer to the seed design notes', (file) => {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const hits = lines.map((text, i) => `${file}:${i + 1}: ${text}`).filter((l) => INTERNAL.test(l.slice(l.indexOf(': ') + 2)))
  expect(hits).toEqual([])
})

it('examples/demo.ts prints nothing about the seed', () => {
  const code = readFileSync(join(root, 'examples/demo.ts'), 'utf8')
  const printed = [...code.matchAll(/console\.(?:log|error)\(([^;]*?)\)\s*$/gm)].map((m) => m[1] as string)
  expect(printed.length).toBeGreaterThan(5)
  expect(printed.filter((p) => INTERNAL.test(p))).toEqual([])
})
