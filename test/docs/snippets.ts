/**
 * Extracts the fenced TypeScript blocks of Markdown files and type-checks them with the repo's
 * tsconfig (so `bearer-guard/*` resolves to `src/`), reporting errors as `file.md:line`.
 *
 * Conventions for docs authors:
 * - Every ` ```ts ` / ` ```typescript ` block is checked, as its own module (top-level `await` works).
 * - ` ```ts ignore ` (or `<!-- snippet:skip -->` on the line before the fence) skips a block that is
 *   intentionally partial.
 * - `<!-- snippet:prelude … -->` before a fence adds hidden code to that block only, e.g.
 *   `import express from 'express'` and `const app = express()`.
 * - A block whose first line is a file comment (`// lib/auth.ts`, `// app/api/me/route.ts — …`) or
 *   whose fence says `file=lib/auth.ts` is that file: other blocks of the same page can import it as
 *   `'@/lib/auth'` or by a relative path (`'./lib/auth'`, `'../lib/auth.js'`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

export interface Snippet {
  /** Markdown file, relative to the repo root, with `/` separators. */
  file: string
  /** 1-based line of the first code line (after the fence). */
  line: number
  code: string
  /** Hidden code from `<!-- snippet:prelude -->`, and the 1-based line of its first line. */
  prelude?: { code: string; line: number }
  /** The file this block stands for (`lib/auth.ts`), from `file=` or a first-line `// path.ts` comment. */
  path?: string
}

export interface SkippedSnippet {
  file: string
  line: number
}

export interface SnippetError {
  file: string
  line: number
  message: string
}

const OPEN = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript|tsx|mts)(?:\s+(.*))?$/
const SKIP_COMMENT = /^\s*<!--\s*snippet:skip\s*-->\s*$/
const PRELUDE_START = /^\s*<!--\s*snippet:prelude\s*$/
const FILE_INFO = /\b(?:file|title)="?([\w@./[\]()-]+\.m?tsx?)"?/
const FILE_COMMENT = /^\/\/\s*([\w@./[\]()-]+\.m?tsx?)(?:\s|$)/

/** The TypeScript blocks of one Markdown text. */
export function extractSnippets(file: string, markdown: string): { snippets: Snippet[]; skipped: SkippedSnippet[] } {
  const lines = markdown.split(/\r?\n/)
  const snippets: Snippet[] = []
  const skipped: SkippedSnippet[] = []
  let prelude: Snippet['prelude']
  let skipNext = false
  let inOtherFence: string | undefined
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string
    if (inOtherFence !== undefined) {
      if (isClosingFence(text, inOtherFence)) inOtherFence = undefined
      continue
    }
    if (PRELUDE_START.test(text)) {
      const start = i + 1
      const body: string[] = []
      while (++i < lines.length && !/-->\s*$/.test(lines[i] as string)) body.push(lines[i] as string)
      prelude = { code: body.join('\n'), line: start + 1 }
      continue
    }
    if (SKIP_COMMENT.test(text)) {
      skipNext = true
      continue
    }
    const open = OPEN.exec(text)
    if (!open) {
      const other = /^\s*(`{3,}|~{3,})/.exec(text)
      if (other) inOtherFence = other[1]
      // a prelude or skip marker applies to the next fence only when nothing but blank lines follow
      if (other || text.trim() !== '') {
        prelude = undefined
        skipNext = false
      }
      continue
    }
    const [, indent = '', fence = '```', , info = ''] = open
    const body: string[] = []
    const first = i + 2
    while (++i < lines.length) {
      const l = lines[i] as string
      if (isClosingFence(l, fence)) break
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart())
    }
    const path = FILE_INFO.exec(info)?.[1] ?? FILE_COMMENT.exec(body[0] ?? '')?.[1]
    if (skipNext || /\bignore\b/.test(info)) skipped.push({ file, line: first })
    else snippets.push({ file, line: first, code: body.join('\n'), ...(prelude ? { prelude } : {}), ...(path ? { path } : {}) })
    prelude = undefined
    skipNext = false
  }
  return { snippets, skipped }
}

function isClosingFence(line: string, fence: string): boolean {
  const t = line.trim()
  return t.startsWith(fence) && /^(`+|~+)$/.test(t)
}

/** Markdown files under `dir`, relative to `root`, sorted. */
export function markdownFiles(root: string, dir = 'docs'): string[] {
  const base = join(root, dir)
  let entries: string[]
  try {
    entries = readdirSync(base, { recursive: true }) as string[]
  } catch {
    return []
  }
  return entries
    .filter((e) => e.endsWith('.md'))
    .map((e) => relative(root, join(base, e)).split(sep).join('/'))
    .sort()
}

/** Reads and extracts every snippet of `files` (relative to `root`). */
export function collectSnippets(root: string, files: readonly string[]): { snippets: Snippet[]; skipped: SkippedSnippet[] } {
  const snippets: Snippet[] = []
  const skipped: SkippedSnippet[] = []
  for (const file of files) {
    const r = extractSnippets(file, readFileSync(join(root, file), 'utf8'))
    snippets.push(...r.snippets)
    skipped.push(...r.skipped)
  }
  return { snippets, skipped }
}

/**
 * How a snippet's imports resolve: `'bundler'` (the repo's tsconfig, as Vite, Next and tsx projects
 * do) or `'nodenext'` (a Node ESM project compiled by tsc: relative imports need their `.js`).
 */
export type SnippetMode = 'bundler' | 'nodenext'

/** Compiler options of the repo's tsconfig, minus the unused-locals checks (snippets are excerpts). */
function compilerOptions(root: string, mode: SnippetMode): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath)
  const options = { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false, incremental: false }
  return mode === 'nodenext' ? { ...options, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext } : options
}

/**
 * Type-checks snippets in one program. Each becomes a virtual module under `<root>/.snippets/`
 * (so `node_modules` and the tsconfig `paths` resolve as for a file of the repo).
 */
export function checkSnippets(root: string, snippets: readonly Snippet[], mode: SnippetMode = 'bundler'): SnippetError[] {
  // a page that augments types (`declare module 'bearer-guard'`, `declare global`) gets a program
  // of its own, so its augmentation does not leak into other pages; the rest share one program
  const augmenting = new Set(snippets.filter((s) => /\bdeclare\s+(module|global)\b/.test(s.code)).map((s) => s.file))
  const groups = [snippets.filter((s) => !augmenting.has(s.file)), ...[...augmenting].map((f) => snippets.filter((s) => s.file === f))]
  const options = compilerOptions(root, mode)
  return groups
    .filter((g) => g.length > 0)
    .flatMap((g) => checkGroup(root, options, g, mode))
    .sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1))
}

function checkGroup(root: string, options: ts.CompilerOptions, snippets: readonly Snippet[], mode: SnippetMode): SnippetError[] {
  // dir: where the block's relative imports start (its logical path, even for a duplicate name)
  const virtual = new Map<string, { snippet: Snippet; text: string; preludeLines: number; base: string; dir: string }>()
  snippets.forEach((snippet, n) => {
    const base = resolve(root, '.snippets', snippet.file.replace(/[/.]/g, '_'))
    let name = resolve(base, `__L${snippet.line}_${n}.ts`)
    if (snippet.path && !snippet.path.startsWith('..')) {
      const wanted = resolve(base, snippet.path)
      name = virtual.has(wanted) ? resolve(base, `__dup${n}`, snippet.path) : wanted
    }
    const preludeLines = snippet.prelude ? snippet.prelude.code.split('\n').length : 0
    const text = `${snippet.prelude ? `${snippet.prelude.code}\n` : ''}${snippet.code}\nexport {}\n`
    const dir = snippet.path && !snippet.path.startsWith('..') ? dirname(resolve(base, snippet.path)) : base
    virtual.set(name, { snippet, text, preludeLines, base, dir })
  })
  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile, directoryExists } = host
  const virtualDirs = new Set([...virtual.keys()].flatMap((f) => ancestors(f)))
  host.fileExists = (f) => virtual.has(resolve(f)) || fileExists.call(host, f)
  host.directoryExists = (d) => virtualDirs.has(resolve(d)) || (directoryExists ? directoryExists.call(host, d) : ts.sys.directoryExists(d))
  host.readFile = (f) => virtual.get(resolve(f))?.text ?? readFile.call(host, f)
  host.getSourceFile = (f, lang, onError, create) => {
    const v = virtual.get(resolve(f))
    return v ? ts.createSourceFile(f, v.text, lang, true, ts.ScriptKind.TS) : getSourceFile.call(host, f, lang, onError, create)
  }
  // '@/x' and relative imports between the blocks of one page resolve to that page's virtual files
  const findVirtual = (path: string) =>
    [path, path.replace(/\.(m?js|jsx)$/, '') + '.ts', `${path}.ts`, `${path}.tsx`, join(path, 'index.ts')].find((p) => virtual.has(p))
  host.resolveModuleNames = (names, containing, _reused, _redirected, _options, containingSourceFile) =>
    names.map((name) => {
      const from = virtual.get(resolve(containing))
      // ESM or CJS, as the nearest package.json says (under nodenext; bundler resolution ignores it)
      const format = containingSourceFile?.impliedNodeFormat
      // under nodenext a relative import resolves as tsc resolves it: './auth' fails, './auth.js' finds auth.ts
      if (from && mode === 'nodenext' && name.startsWith('.')) {
        return ts.resolveModuleName(name, resolve(from.dir, '__importer.ts'), options, host, undefined, undefined, format).resolvedModule
      }
      if (from && (name.startsWith('@/') || name.startsWith('.'))) {
        const target = name.startsWith('@/') ? resolve(from.base, name.slice(2)) : resolve(from.dir, name)
        const hit = findVirtual(target)
        if (hit) return { resolvedFileName: hit, extension: ts.Extension.Ts, isExternalLibraryImport: false }
      }
      return ts.resolveModuleName(name, containing, options, host, undefined, undefined, format).resolvedModule
    })
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })
  const errors: SnippetError[] = []
  for (const [name, v] of virtual) {
    const sf = program.getSourceFile(name)
    if (!sf) continue
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
    for (const d of diagnostics) {
      const at = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line
      const inPrelude = at < v.preludeLines && v.snippet.prelude
      const line = inPrelude ? (v.snippet.prelude as { line: number }).line + at : v.snippet.line + at - v.preludeLines
      errors.push({
        file: v.snippet.file,
        line,
        message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}${inPrelude ? ' (in snippet:prelude)' : ''}`,
      })
    }
  }
  return errors
}

function ancestors(file: string): string[] {
  const out: string[] = []
  for (let d = dirname(file); d !== dirname(d); d = dirname(d)) out.push(d)
  return out
}

/** `file:line: message` lines. */
export function formatErrors(errors: readonly SnippetError[]): string {
  return errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')
}
