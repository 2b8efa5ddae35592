/**
 * `tsc --noEmit` (TypeScript ~5.9, strict, skipLibCheck false) over a user's file that imports
 * bearer-guard's subpaths, in each project setup users have: ESM and CJS Node projects, legacy
 * `moduleResolution: node`, bundler, Node without the DOM lib, no msw, and an edge project without
 * `@types/node`. See ./fixtures.ts for the files and tsconfigs.
 *
 * Every error fails the cell, except errors inside the declaration files of the packages below,
 * which do not compile under these settings with or without bearer-guard (each with the reason).
 *
 * tsc runs with `--incremental` (its build info kept in the fixture, which a reinstall with other
 * dependencies deletes): files whose text did not change keep their diagnostics from the last run, so
 * a run after a change of bearer-guard re-checks only what depends on its declarations.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { expect, inject, it } from 'vitest'
import { TYPE_CELLS } from './fixtures.js'
import { run } from './harness.js'

const THIRD_PARTY_ERRORS: Record<string, string> = {
  next: "needs skipLibCheck (as its own tsconfig sets it): React's types, lib esnext, URLPattern",
  ioredis: 'imports the untyped redis-errors (TS7016)',
  '@types/koa': 'uses content-disposition.Options, which content-disposition 1.x no longer exports (TS2694)',
  msw: 'its CommonJS declarations import the ESM-only rettime and type-fest (TS1479 under node16)',
}

const dirs = inject('fixtureDirs')

interface Diagnostic {
  file: string
  text: string
}

/** tsc's `--pretty false` output, one entry per diagnostic (continuation lines joined). */
function diagnostics(output: string): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    const m = /^(.+?)\(\d+,\d+\): error TS\d+/.exec(line)
    if (m) out.push({ file: m[1] as string, text: line })
    else if (out.length > 0 && /^\s/.test(line)) (out.at(-1) as Diagnostic).text += `\n${line}`
    else out.push({ file: '', text: line })
  }
  return out
}

function thirdParty(file: string): string | undefined {
  const name = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]
  return name !== undefined && Object.hasOwn(THIRD_PARTY_ERRORS, name) ? name : undefined
}

it.each(TYPE_CELLS.map((c) => [c.name, c] as const))('%s', async (_name, cell) => {
  const dir = dirs[cell.fixture]
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc')
  const buildInfo = join('.tsbuildinfo', cell.tsconfig.replace(/\.json$/, '.tsbuildinfo'))
  const args = [tsc, '-p', cell.tsconfig, '--pretty', 'false', '--incremental', '--tsBuildInfoFile', buildInfo]
  const r = await run(process.execPath, args, { cwd: dir })
  const ours = diagnostics(`${r.stdout}${r.stderr}`).filter((d) => !thirdParty(d.file))
  expect(ours.map((d) => d.text).join('\n'), `tsc -p ${cell.tsconfig} in ${dir}`).toBe('')
  if (r.code !== 0) expect(diagnostics(r.stdout).length, 'tsc failed without diagnostics').toBeGreaterThan(0)
})

it('type-checks with TypeScript 5.9', async () => {
  for (const dir of Object.values(dirs)) {
    const r = await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--version'], { cwd: dir })
    expect(r.stdout).toMatch(/^Version 5\.9\./)
  }
})

it('gives each fixture only the packages it should have', () => {
  expect(existsSync(join(dirs.edge, 'node_modules', '@types', 'node'))).toBe(false)
  expect(existsSync(join(dirs.lean, 'node_modules', 'msw'))).toBe(false)
  expect(existsSync(join(dirs.lean, 'node_modules', '@opentelemetry', 'api'))).toBe(false)
  expect(existsSync(join(dirs.edge, 'node_modules', '@opentelemetry', 'api'))).toBe(false)
  expect(existsSync(join(dirs.lean, 'node_modules', 'next'))).toBe(false)
  // the lean and edge cells compile bearer-guard/express and the core without the optional MCP SDK
  expect(existsSync(join(dirs.lean, 'node_modules', '@modelcontextprotocol', 'sdk'))).toBe(false)
  expect(existsSync(join(dirs.edge, 'node_modules', '@modelcontextprotocol', 'sdk'))).toBe(false)
  expect(existsSync(join(dirs.node, 'node_modules', '@modelcontextprotocol', 'sdk'))).toBe(true)
  expect(existsSync(join(dirs.node, 'node_modules', 'msw'))).toBe(true)
})
