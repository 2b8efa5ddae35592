/**
 * `declare module 'bearer-guard' { interface Register { claims } }` types what bearer-guard/nestjs
 * hands out: the `AuthContext` of `@Auth()` parameters and the claims of `@Claims()` predicates.
 *
 * Declaration merging is program-wide, so (as in register.test.ts) the check runs `tsc` on a
 * generated project in .tmp/ (git-ignored) instead of retyping the project's own type-check.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
let dir: string | undefined

const check = `import { Controller, Get } from '@nestjs/common'
import type {} from 'bearer-guard'
import { Auth, Claims, type AuthContext } from 'bearer-guard/nestjs'

declare module 'bearer-guard' {
  interface Register {
    claims: { sub: string; tenant: string; roles: string[] }
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const context: Equal<AuthContext['claims'], { sub: string; tenant: string; roles: string[] }> = true

@Controller()
export class TenantController {
  @Get('tenant')
  @Claims((claims, auth) => claims.tenant === 'acme' && auth.claims.roles.includes('admin'))
  tenant(@Auth() auth: AuthContext) {
    const tenant: string = auth.claims.tenant
    return { tenant }
  }

  @Get('nope')
  // @ts-expect-error 'nope' is not a registered claim
  @Claims((claims) => claims.nope === 1)
  nope(@Auth() auth: AuthContext) {
    // @ts-expect-error 'nope' is not a registered claim
    return auth.claims.nope
  }
}
`

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

it('types @Auth() parameters and @Claims() predicates from the Register interface', async () => {
  await mkdir(join(root, '.tmp'), { recursive: true })
  dir = await mkdtemp(join(root, '.tmp', 'nestjs-register-'))
  await writeFile(join(dir, 'check.ts'), check)
  await writeFile(join(dir, 'tsconfig.json'), '{ "extends": "../../tsconfig.json", "include": ["check.ts"] }')
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
    cwd: root,
  }).then(
    () => ({ code: 0, output: '' }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  )
  expect(result).toEqual({ code: 0, output: '' })
}, 120_000)
