/**
 * The types of `auth.claims`: checked by vitest's typecheck mode (`npm test`), never run.
 */
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createVerifier, type AuthContext, type JWTPayload, type Verifier, type VerifierOptions } from 'bearer-guard'

/** What a verifier's successful verification yields. */
type Verified<V> = V extends Verifier<infer C> ? AuthContext<C> : never

const keys = { keys: [] as never[] }
const base = { issuer: 'https://issuer.test', audience: 'https://api.test', ...keys }

describe('auth.claims', () => {
  it('is the output type of a zod claims schema, defaults included', () => {
    const schema = z.object({ sub: z.string(), tenant: z.string(), level: z.number().int().default(1) })
    const verifier = createVerifier({ ...base, claims: schema })
    expectTypeOf<Verified<typeof verifier>['claims']>().toEqualTypeOf<{ sub: string; tenant: string; level: number }>()
  })

  it('is JWTPayload without a schema', () => {
    const verifier = createVerifier(base)
    expectTypeOf<Verified<typeof verifier>['claims']>().toEqualTypeOf<JWTPayload>()
  })

  it('is JWTPayload for options typed as the wide VerifierOptions (a config module\'s export)', () => {
    const options: VerifierOptions = { ...base }
    const verifier = createVerifier(options)
    expectTypeOf<Verified<typeof verifier>['claims']>().toEqualTypeOf<JWTPayload>()
    expectTypeOf(verifier.authenticate).returns.resolves.toEqualTypeOf<AuthContext>()
  })

  it('is what verifyAccessToken resolves to', () => {
    const verifier = createVerifier({ ...base, claims: z.object({ tenant: z.string() }) })
    expectTypeOf(verifier.verifyAccessToken).returns.resolves.toHaveProperty('claims').toEqualTypeOf<{ tenant: string }>()
  })

})
