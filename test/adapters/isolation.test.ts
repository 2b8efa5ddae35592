/**
 * Each adapter loads only its own framework, and the Hono adapter runs unchanged on an edge runtime.
 * The adapters are bundled from source with esbuild (what tsup does for dist/).
 */
import { fileURLToPath } from 'node:url'
import { EdgeVM } from '@edge-runtime/vm'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { adminToken, issuer, userToken } from './setup.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const FRAMEWORKS = [
  'express',
  'fastify',
  'fastify-plugin',
  'koa',
  'hono',
  'next',
  '@hono/node-server',
  'react',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'reflect-metadata',
  'rxjs',
]
const own: Record<string, string[]> = {
  express: [],
  fastify: ['fastify-plugin'],
  koa: [],
  hono: ['hono/factory', 'hono/http-exception'],
  next: ['next/server.js'], // with its extension: Node ESM and vitest load it outside Next's bundler
  nestjs: ['@nestjs/common', '@nestjs/core'],
}

/** The runtime imports of an adapter's bundle that leave it (packages stay external). */
async function externalImports(adapter: string) {
  const result = await build({
    entryPoints: [`${root}src/adapters/${adapter}.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  })
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external))
}

describe('adapter bundles', () => {
  it('the core imports no framework at all', async () => {
    const imports = await externalImports('../index')
    const frameworks = imports.map((i) => i.path).filter((p) => FRAMEWORKS.some((f) => p === f || p.startsWith(`${f}/`)))
    expect(frameworks).toEqual([])
  })

  it.each(Object.keys(own))('%s imports no other framework at run time', async (adapter) => {
    const imports = await externalImports(adapter)
    const frameworks = imports
      .map((i) => i.path)
      .filter((p) => FRAMEWORKS.some((f) => p === f || p.startsWith(`${f}/`)))
    expect(new Set(frameworks)).toEqual(new Set(own[adapter]))
  })

  it.each(Object.keys(own))('%s has no static Node built-in import', async (adapter) => {
    const imports = await externalImports(adapter)
    const builtins = imports.filter(
      (i) =>
        i.kind === 'import-statement' && /^node:|^(crypto|http|net|stream|buffer)$/.test(i.path),
    )
    expect(builtins).toEqual([])
  })
})

describe('hono adapter on an edge runtime (@edge-runtime/vm)', () => {
  it('verifies, guards and answers inside the edge VM', async () => {
    const entry = `
      import { Hono } from 'hono'
      import { createVerifier } from './src/index.ts'
      import { requireAuth, requireRole } from './src/adapters/hono.ts'
      globalThis.makeApp = (options) => new Hono()
        .get('/admin', requireAuth(createVerifier(options)), requireRole('admin'), (c) => c.json({ sub: c.var.auth.subject }))`
    const bundle = await build({
      stdin: { contents: entry, resolveDir: root, loader: 'ts' },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      conditions: ['worker', 'browser'],
      logLevel: 'silent',
    })
    const vm = new EdgeVM()
    vm.evaluate(bundle.outputFiles[0]!.text)
    vm.evaluate(`globalThis.app = makeApp(${JSON.stringify(issuer.verifierOptions('keys'))})`)
    const call = async (token?: string) => {
      const headers = JSON.stringify(token ? { authorization: `Bearer ${token}` } : {})
      const res = await vm.evaluate(
        `app.fetch(new Request('http://edge.test/admin', { headers: ${headers} }))`,
      )
      return {
        status: res.status as number,
        challenge: res.headers.get('www-authenticate') as string | null,
        body: await res.json(),
      }
    }
    expect(await call(adminToken)).toEqual({
      status: 200,
      challenge: null,
      body: { sub: 'admin-1' },
    })
    expect(await call(userToken)).toEqual({
      status: 403,
      challenge:
        'Bearer realm="api", error="insufficient_scope", error_description="insufficient role"',
      body: { error: 'insufficient_scope', error_description: 'insufficient role' },
    })
    expect((await call()).status).toBe(401)
  })
})
