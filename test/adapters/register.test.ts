/**
 * `declare module 'bearer-guard' { interface Register { claims } }` types `auth.claims` on the
 * global request objects (Express `req`, Fastify `request`, Koa `ctx.state`).
 *
 * Declaration merging is program-wide, so the check cannot live in the project's own type-check
 * (it would retype every other test): it runs `tsc` on a generated file in .tmp/ (git-ignored).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
let dir: string | undefined

const check = `import type { AuthContext } from 'bearer-guard'
import type { Request } from 'express'
import type { FastifyRequest } from 'fastify'
import type { DefaultState } from 'koa'
import type {} from 'bearer-guard/express'
import type {} from 'bearer-guard/fastify'
import type {} from 'bearer-guard/koa'

declare module 'bearer-guard' {
  interface Register {
    claims: { sub: string; tenant: string }
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const core: Equal<AuthContext['claims']['tenant'], string> = true
export const express: Equal<NonNullable<Request['auth']>['claims']['tenant'], string> = true
export const fastify: Equal<NonNullable<FastifyRequest['auth']>['claims']['tenant'], string> = true
export const koa: Equal<NonNullable<DefaultState['auth']>['claims']['tenant'], string> = true
// @ts-expect-error 'nope' is not a registered claim
export const unknownClaim = (r: Request) => r.auth?.claims.nope
`

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

it('types req.auth / request.auth / ctx.state.auth claims from the Register interface', async () => {
  await mkdir(join(root, '.tmp'), { recursive: true })
  dir = await mkdtemp(join(root, '.tmp', 'register-'))
  await writeFile(join(dir, 'check.ts'), check)
  await writeFile(
    join(dir, 'tsconfig.json'),
    '{ "extends": "../../tsconfig.json", "include": ["check.ts"] }',
  )
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const result = await promisify(execFile)(
    process.execPath,
    [tsc, '-p', join(dir, 'tsconfig.json')],
    {
      cwd: root,
    },
  ).then(
    () => ({ code: 0, output: '' }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  )
  expect(result).toEqual({ code: 0, output: '' })
}, 120_000)
