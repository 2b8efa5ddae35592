/**
 * Every fenced TypeScript block in docs/**\/*.md compiles against src/, with bundler resolution (the
 * repo's tsconfig) and as a Node ESM project under NodeNext, where relative imports need their `.js`
 * (see ./snippets.ts for the `ignore` fence, `<!-- snippet:skip -->` and `<!-- snippet:prelude -->`
 * conventions).
 */
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  checkSnippets,
  collectSnippets,
  extractSnippets,
  formatErrors,
  markdownFiles,
  type SnippetError,
  type SnippetMode,
} from './snippets.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('the snippet extractor and checker', () => {
  const md = [
    '# Title', //                                   1
    '```ts', //                                     2
    "import { createVerifier } from 'bearer-guard'", // 3
    "const v = createVerifier({ issuer: 'https://a.example', audience: 'b' })", // 4
    'const n: number = v', //                       5
    '```', //                                       6
    '```ts ignore', //                              7
    'app.use(requireAuth(verifier))', //            8
    '```', //                                       9
    '<!-- snippet:skip -->', //                     10
    '```typescript', //                             11
    'partial(', //                                  12
    '```', //                                       13
    '<!-- snippet:prelude', //                      14
    'const count: number = 1', //                   15
    '-->', //                                       16
    '', //                                          17
    '```ts', //                                     18
    'const s: string = count', //                   19
    '```', //                                       20
    '````md', //                                    21
    '```ts', //                                     22
    'not checked: inside another fence', //         23
    '```', //                                       24
    '````', //                                      25
    '```js', //                                     26
    'not typescript', //                            27
    '```', //                                       28
  ].join('\n')

  it('extracts ts blocks with their first line, honours ignore, snippet:skip and snippet:prelude', () => {
    const { snippets, skipped } = extractSnippets('docs/x.md', md)
    expect(snippets.map((s) => s.line)).toEqual([3, 19])
    expect(snippets[1]?.prelude).toEqual({ code: 'const count: number = 1', line: 15 })
    expect(skipped).toEqual([
      { file: 'docs/x.md', line: 8 },
      { file: 'docs/x.md', line: 12 },
    ])
  })

  it('lets blocks of one page import a block named by a file comment or file=', () => {
    const page = [
      '```ts', //                                                          1
      '// lib/auth.ts — one verifier per process', //                     2
      "import { createVerifier } from 'bearer-guard'", //                 3
      "export const verifier = createVerifier({ issuer: 'https://a.example', audience: 'b' })", // 4
      '```', //                                                            5
      '```ts file=lib/limits.ts', //                                       6
      'export const limit = 10', //                                        7
      '```', //                                                            8
      '```ts', //                                                          9
      '// app/api/me/route.ts', //                                         10
      "import { verifier } from '@/lib/auth'", //                          11
      "import { limit } from '../../../lib/limits.js'", //                 12
      'const n: string = limit', //                                        13
      'export const v = verifier', //                                      14
      '```', //                                                            15
    ].join('\n')
    const { snippets } = extractSnippets('docs/y.md', page)
    expect(snippets.map((s) => s.path)).toEqual(['lib/auth.ts', 'lib/limits.ts', 'app/api/me/route.ts'])
    expect(checkSnippets(root, snippets)).toEqual([
      { file: 'docs/y.md', line: 13, message: "TS2322: Type 'number' is not assignable to type 'string'." },
    ])
  }, 120_000)

  it("keeps one page's declare module augmentation out of the other pages", () => {
    const augmenting = [
      '```ts',
      "import type { Register } from 'bearer-guard'",
      "declare module 'bearer-guard' { interface Register { claims: { tenant: string } } }",
      'export type R = Register',
      '```',
    ].join('\n')
    const plain = [
      '```ts',
      "import type { AuthContext } from 'bearer-guard'",
      "declare const auth: AuthContext",
      'const t: string = auth.claims.tenant',
      '```',
    ].join('\n')
    const snippets = [...extractSnippets('docs/a.md', augmenting).snippets, ...extractSnippets('docs/b.md', plain).snippets]
    expect(checkSnippets(root, snippets)).toEqual([
      { file: 'docs/b.md', line: 4, message: expect.stringMatching(/^TS2322: Type 'unknown' is not assignable to type 'string'/) },
    ])
  }, 120_000)

  it('requires the .js of relative imports under NodeNext, as tsc does for a Node ESM project', () => {
    const page = (specifier: string) =>
      [
        '```ts',
        '// auth.ts',
        "import { createVerifier } from 'bearer-guard'",
        "export const verifier = createVerifier({ issuer: 'https://a.example', audience: 'b' })",
        '```',
        '```ts',
        '// server.ts',
        `import { verifier } from '${specifier}'`,
        'export const v = verifier',
        '```',
      ].join('\n')
    const without = extractSnippets('docs/z.md', page('./auth')).snippets
    expect(checkSnippets(root, without)).toEqual([])
    expect(checkSnippets(root, without, 'nodenext')).toEqual([
      { file: 'docs/z.md', line: 8, message: expect.stringMatching(/^TS2835: Relative import paths need explicit file extensions.*'\.\/auth\.js'/) },
    ])
    const withJs = extractSnippets('docs/z.md', page('./auth.js')).snippets
    expect(checkSnippets(root, withJs, 'nodenext')).toEqual([])
  }, 120_000)

  it('reports a snippet that does not compile as file:line, resolving bearer-guard to src/', () => {
    const errors = checkSnippets(root, extractSnippets('docs/x.md', md).snippets)
    expect(errors).toEqual([
      { file: 'docs/x.md', line: 5, message: expect.stringMatching(/^TS2322: Type 'Verifier<.*' is not assignable to type 'number'/) },
      { file: 'docs/x.md', line: 19, message: "TS2322: Type 'number' is not assignable to type 'string'." },
    ])
    expect(formatErrors(errors)).toMatch(/^docs\/x\.md:5: TS2322/)
  }, 120_000)
})

describe('docs/**/*.md snippets', () => {
  const files = markdownFiles(root)
  const { snippets } = collectSnippets(root, files)
  const withSnippets = files.filter((f) => snippets.some((s) => s.file === f))
  const errors: Record<SnippetMode, SnippetError[]> = { bundler: [], nodenext: [] }
  beforeAll(() => {
    errors.bundler = checkSnippets(root, snippets)
    errors.nodenext = checkSnippets(root, snippets, 'nodenext')
  }, 300_000)

  it('has TypeScript snippets to check', () => {
    expect(snippets.length).toBeGreaterThan(0)
  })

  it.each(withSnippets)('%s: every ts snippet type-checks', (file) => {
    const mine = errors.bundler.filter((e) => e.file === file)
    expect(mine, `\n${formatErrors(mine)}\n`).toEqual([])
  })

  it.each(withSnippets)('%s: every ts snippet type-checks under NodeNext', (file) => {
    const mine = errors.nodenext.filter((e) => e.file === file)
    expect(mine, `\n${formatErrors(mine)}\n`).toEqual([])
  })
})
