/**
 * Every relative link of the README and docs/ points at a file or folder that exists in a fresh
 * clone (nothing a build writes: api-docs/ appears only after `npm run docs`), and every `#anchor`
 * at a heading of the page it names.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { markdownFiles } from './snippets.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const GENERATED = ['api-docs', 'dist', 'coverage', 'node_modules', '.tmp']

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line)
    if (m) out.add((m[1] as string).trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'))
  }
  return out
}

/** Relative links `[text](target)` outside code fences and inline code. */
function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = []
  let fenced = false
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    if (fenced) return
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] as string
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) out.push({ target, line: i + 1 })
    }
  })
  return out
}

it.each(['README.md', ...markdownFiles(root)])('%s links only to what exists', (file) => {
  const text = readFileSync(join(root, file), 'utf8')
  const broken: string[] = []
  for (const { target, line } of links(text)) {
    const [path = '', anchor] = target.split('#')
    const to = path === '' ? join(root, file) : normalize(join(root, dirname(file), decodeURIComponent(path)))
    const first = to.slice(root.length).split(/[\\/]/).filter(Boolean)[0] ?? ''
    if (GENERATED.includes(first) || !existsSync(to)) broken.push(`${file}:${line}: ${target} (missing)`)
    else if (anchor && to.endsWith('.md') && !anchors(readFileSync(to, 'utf8')).has(anchor.toLowerCase())) {
      broken.push(`${file}:${line}: ${target} (no such heading)`)
    }
  }
  expect(broken).toEqual([])
})
