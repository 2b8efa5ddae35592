/**
 * The Next.js adapter inside a real `next dev` server (Turbopack) on 127.0.0.1: `authProxy` as the
 * app's `proxy.js`, `withAuth` on a dynamic route. This checks what in-process tests cannot: that
 * Next passes `{ params: Promise }` as the route context and that the proxy's header override
 * really removes spoofed identity headers before the route sees the request.
 *
 * The app is generated in .tmp/ (git-ignored) and imports an esbuild bundle of src/, because
 * Turbopack does not map the sources' `.js` import specifiers to `.ts` files.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/free-port.js'
import { adminToken, issuer, userToken } from './setup.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

const files: Record<string, string> = {
  'lib/auth.js': `import { createVerifier } from '../bg/core.js'
export const verifier = createVerifier(JSON.parse(process.env.BG_TEST_VERIFIER))`,
  'proxy.js': `import { authProxy } from './bg/next.js'
import { verifier } from './lib/auth.js'
export const proxy = authProxy({ verifier, rules: [{ path: '/orders/*' }], forwardIdentity: true })
export const config = { matcher: '/orders/:path*' }`,
  'app/orders/[id]/route.js': `import { withAuth } from '../../../bg/next.js'
import { verifier } from '../../../lib/auth.js'
export const GET = withAuth(async (request, { auth, params }) => Response.json({
  id: (await params).id,
  sub: auth.subject,
  forwarded: request.headers.get('x-auth-subject'),
  spoofed: request.headers.get('x-user-id'),
}), { verifier, roles: 'admin' })`,
}

let dir: string
let base: string
let child: ChildProcess | undefined
let log = ''

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true })
  dir = await mkdtemp(join(root, '.tmp', 'next-app-'))
  await build({
    entryPoints: { core: `${root}src/index.ts`, next: `${root}src/adapters/next.ts` },
    outdir: join(dir, 'bg'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    packages: 'external',
    logLevel: 'silent',
  })
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  await writeFile(join(dir, 'package.json'), '{ "type": "module", "private": true }')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  child = spawn(
    process.execPath,
    [
      `${root}node_modules/next/dist/bin/next`,
      'dev',
      dir,
      '--port',
      String(port),
      '--hostname',
      '127.0.0.1',
    ],
    {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        NEXT_TELEMETRY_DISABLED: '1',
        BG_TEST_VERIFIER: JSON.stringify(issuer.verifierOptions('keys')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes('Ready in')) resolve()
    }
    child!.stdout!.on('data', onData)
    child!.stderr!.on('data', onData)
    child!.once('exit', (code) => reject(new Error(`next dev exited (${code}):\n${log}`)))
  })
}, 120_000)

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('bearer-guard/next in a real next dev server', () => {
  it('runs withAuth with Next 16 params and the proxy-forwarded identity, spoofed headers removed', async () => {
    const res = await fetch(`${base}/orders/42`, {
      headers: {
        authorization: `Bearer ${adminToken}`,
        'x-user-id': 'mallory',
        'x-auth-subject': 'mallory',
      },
    })
    expect(res.status, log).toBe(200)
    expect(await res.json()).toEqual({
      id: '42',
      sub: 'admin-1',
      forwarded: 'admin-1',
      spoofed: null,
    })
  }, 120_000)

  it('rejects in the proxy without a token, with the standard answer', async () => {
    const res = await fetch(`${base}/orders/42`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    expect(await res.json()).toEqual({
      error: 'missing_token',
      error_description: 'authentication required',
    })
  }, 60_000)

  it('lets the proxy pass a valid user and the route refuse the missing role', async () => {
    const res = await fetch(`${base}/orders/42`, {
      headers: { authorization: `Bearer ${userToken}` },
    })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="insufficient role"',
    )
  }, 60_000)
})
