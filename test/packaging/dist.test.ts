/**
 * The built package as users get it: ESM and CJS entries load, AuthError is one class across
 * subpaths (tsup `splitting: true`), importing one adapter loads no other framework, the CJS build
 * needs no ESM-only package, and the declarations import nothing a user's project may lack.
 * (test/consumers/ installs the packed tarball in real projects.)
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const dist = join(root, 'dist')
const require = createRequire(import.meta.url)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { import: { default: string }; require: { default: string } }>
}
const subpaths = Object.entries(pkg.exports).filter(([k]) => k !== './package.json') as [
  string,
  { import: { default: string }; require: { default: string } },
][]

const FRAMEWORKS = ['express', 'fastify', 'fastify-plugin', 'koa', 'hono', 'next', '@nestjs/common', '@nestjs/core', 'msw', 'ioredis', 'redis', '@opentelemetry/api', '@modelcontextprotocol/sdk']
const ALLOWED: Record<string, string[]> = {
  '.': [],
  './express': ['express'],
  './fastify': ['fastify', 'fastify-plugin'],
  './koa': ['koa'],
  './hono': ['hono'],
  './next': ['next'],
  './nestjs': ['@nestjs/common', '@nestjs/core'],
  './testing': ['msw'],
  './redis': ['ioredis', 'redis'],
  './presets': [],
  './otel': ['@opentelemetry/api'],
  './mcp': ['@modelcontextprotocol/sdk'],
}

/** Bare module specifiers a built file loads, following its relative chunks. */
function externals(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>()
  if (seen.has(file)) return out
  seen.add(file)
  const code = readFileSync(file, 'utf8')
  const specifiers = [
    ...code.matchAll(/\brequire\(["']([^"']+)["']\)/g),
    ...code.matchAll(/\bfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...code.matchAll(/^import\s*["']([^"']+)["']/gm),
  ].map((m) => m[1] as string)
  for (const s of specifiers) {
    if (s.startsWith('.')) {
      for (const r of externals(resolve(dirname(file), s), seen)) out.add(r)
    } else {
      out.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string))
    }
  }
  return out
}

beforeAll(() => {
  if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'index.cjs'))) {
    execFileSync('npx', ['tsup'], { cwd: root, stdio: 'ignore', timeout: 180_000 })
  }
}, 200_000)

describe('the built package', () => {
  it.each(subpaths)('loads %s from ESM and CJS', async (_name, entry) => {
    const esm = await import(pathToFileURL(join(root, entry.import.default)).href)
    const cjs = require(join(root, entry.require.default))
    expect(Object.keys(esm).length).toBeGreaterThan(0)
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort())
  })

  it.each(subpaths)('%s loads no framework but its own', (name, entry) => {
    for (const file of [entry.import.default, entry.require.default]) {
      const loaded = [...externals(join(root, file))].filter((m) => FRAMEWORKS.includes(m))
      expect(loaded.filter((m) => !(ALLOWED[name] ?? []).includes(m)), `${file}`).toEqual([])
    }
  })

  it('defines AuthError once per format, shared by every subpath', () => {
    for (const ext of ['.js', '.cjs']) {
      const files = subpaths.map(([, e]) => join(root, ext === '.js' ? e.import.default : e.require.default))
      const chunks = new Set<string>()
      for (const f of files) {
        const code = readFileSync(f, 'utf8')
        for (const m of code.matchAll(/["'](\.\.?\/[^"']*chunk[^"']*)["']/g)) chunks.add(resolve(dirname(f), m[1] as string))
      }
      const definitions = [...new Set([...files, ...chunks])].filter((f) =>
        /\b(?:class AuthError|AuthError = class) extends Error\b/.test(readFileSync(f, 'utf8')),
      )
      expect(definitions, `AuthError definitions in ${ext}`).toHaveLength(1)
    }
  })

  it('keeps instanceof and isAuthError across the CJS subpaths and across ESM/CJS copies', async () => {
    const core = require(join(dist, 'index.cjs'))
    const esm = await import(pathToFileURL(join(dist, 'index.js')).href)
    const error = new core.InvalidTokenError({ reason: 'test' })
    expect(error).toBeInstanceOf(core.AuthError)
    // a second copy of the package (ESM next to CJS) still recognizes it by its brand
    expect(error instanceof esm.AuthError).toBe(false)
    expect(esm.isAuthError(error)).toBe(true)
    expect(esm.isAuthError(new Error('x'))).toBe(false)
  })
})

describe('edge runtimes', () => {
  // the subpaths an edge bundle (Next.js middleware, Vercel Edge, Workers) may import
  const EDGE = ['.', './hono', './next', './presets', './otel']
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

  it.each(subpaths.filter(([name]) => EDGE.includes(name)))('%s imports no node: module (diagnostics_channel is looked up at run time)', (_name, entry) => {
    for (const file of [entry.import.default, entry.require.default]) {
      expect([...externals(join(root, file))].filter((m) => builtins.has(m) || m.startsWith('node:')), file).toEqual([])
    }
  })

  it('names node:diagnostics_channel nowhere a bundler would follow it', () => {
    for (const ext of ['.js', '.cjs']) {
      const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith(ext)).map((f) => join(dist, f))
      const naming = files.filter((f) => /(?:\brequire|\bimport)\s*\(\s*["'`](?:node:)?diagnostics_channel|\bfrom\s*["'`](?:node:)?diagnostics_channel/.test(readFileSync(f, 'utf8')))
      expect(naming, ext).toEqual([])
      // and the channels are wired: the lookup is in the build
      expect(files.some((f) => readFileSync(f, 'utf8').includes('getBuiltinModule')), ext).toBe(true)
    }
  })
})

describe('what the built files need', () => {
  const files = (readdirSync(dist, { recursive: true }) as string[]).map((f) => join(dist, f))

  it('requires no ESM-only package from the CommonJS build (jose is bundled into it)', () => {
    for (const [, entry] of subpaths) {
      expect([...externals(join(root, entry.require.default))], entry.require.default).not.toContain('jose')
    }
  })

  it.each(subpaths)('%s: its declarations import only its own framework and zod', (name, entry) => {
    const specifiers = new Set<string>()
    const seen = new Set<string>()
    const walk = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const code = readFileSync(file, 'utf8')
      for (const m of code.matchAll(/^(?:import|export)\b[^'";]*?['"]([^'"]+)['"]/gm)) {
        const s = m[1] as string
        if (s.startsWith('.')) walk(resolve(dirname(file), s.replace(/\.c?js$/, (x) => (x === '.cjs' ? '.d.cts' : '.d.ts'))))
        else specifiers.add(s)
      }
    }
    const types = (entry as unknown as { import: { types: string }; require: { types: string } })
    for (const t of [types.import.types, types.require.types]) walk(join(root, t))
    // Express's inferred handler types name two packages of @types/express (which installs them)
    const own: Record<string, string[]> = {
      './express': ['express', 'express-serve-static-core', 'qs'],
      './fastify': ['fastify'],
      './koa': ['koa'],
      './hono': ['hono'],
      './next': ['next/server.js'],
      './nestjs': ['@nestjs/common', '@nestjs/core'],
      './redis': ['ioredis'],
      './mcp': ['@modelcontextprotocol/sdk/server/auth/provider.js', '@modelcontextprotocol/sdk/server/auth/types.js'],
    }
    expect([...specifiers].filter((s) => s !== 'zod' && !(own[name] ?? []).includes(s))).toEqual([])
  })

  it('ships no source maps', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([])
    expect(files.filter((f) => /\.c?js$/.test(f) && readFileSync(f, 'utf8').includes('sourceMappingURL'))).toEqual([])
  })
})
