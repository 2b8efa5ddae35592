/**
 * Which build of bearer-guard the benchmark measures: the sources through tsx (default), or the
 * built package with `BENCH_TARGET=dist` (after `npm run build`).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

type Core = typeof import('../../src/index.js')
type Express = typeof import('../../src/adapters/express.js')
type Fastify = typeof import('../../src/adapters/fastify.js')

const root = new URL('../../', import.meta.url)

export const target: 'dist' | 'src' = process.env.BENCH_TARGET === 'dist' ? 'dist' : 'src'

function path(src: string, dist: string): string {
  if (target === 'src') return new URL(src, root).href
  const url = new URL(dist, root)
  if (!existsSync(fileURLToPath(url))) throw new Error(`BENCH_TARGET=dist: ${dist} is missing; run npm run build`)
  return url.href
}

export function loadBearerGuard(): Promise<Core> {
  return import(path('src/index.ts', 'dist/index.js'))
}

export function loadExpressAdapter(): Promise<Express> {
  return import(path('src/adapters/express.ts', 'dist/adapters/express.js'))
}

export function loadFastifyAdapter(): Promise<Fastify> {
  return import(path('src/adapters/fastify.ts', 'dist/adapters/fastify.js'))
}
