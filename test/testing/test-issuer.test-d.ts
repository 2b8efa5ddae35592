/**
 * The types of `bearer-guard/testing`: checked by vitest's typecheck mode (`npm test`), never run.
 */
import type { HttpHandler, RequestHandler } from 'msw'
import type { SetupServer } from 'msw/node'
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createVerifier, type IssuerOptions, type JWTPayload } from 'bearer-guard'
import { createTestIssuer, type TestAlgorithm, type TestIssuer } from 'bearer-guard/testing'

declare const issuer: TestIssuer
declare const server: SetupServer

describe('createTestIssuer', () => {
  it('signs with every algorithm the core verifies, and only those', () => {
    expectTypeOf<TestAlgorithm>().toEqualTypeOf<NonNullable<IssuerOptions['algorithms']>[number]>()
    // @ts-expect-error an issuer never signs with 'none' (only a single token can be unsigned)
    void createTestIssuer({ algorithm: 'none' })
    expectTypeOf(issuer.sign).toBeCallableWith({}, { algorithm: 'none' })
  })
})

describe('verifierOptions', () => {
  it('is IssuerOptions, and passes a claims schema through to auth.claims', () => {
    expectTypeOf(issuer.verifierOptions()).toEqualTypeOf<IssuerOptions<undefined>>()
    const schema = z.object({ tenant: z.string() })
    const typed = createVerifier(issuer.verifierOptions('keys', { claims: schema }))
    expectTypeOf(typed.verifyAccessToken).returns.resolves.toHaveProperty('claims').toEqualTypeOf<{ tenant: string }>()
    const untyped = createVerifier(issuer.verifierOptions('jwks'))
    expectTypeOf(untyped.verifyAccessToken).returns.resolves.toHaveProperty('claims').toEqualTypeOf<JWTPayload>()
  })

  it('takes only the three modes', () => {
    // @ts-expect-error 'remote' is not a mode
    void issuer.verifierOptions('remote')
  })
})

describe('mswHandlers', () => {
  it("returns msw's handler type where the handlers go, without importing msw's types itself", async () => {
    server.use(...(await issuer.mswHandlers()))
    expectTypeOf(issuer.mswHandlers<HttpHandler>()).resolves.toEqualTypeOf<HttpHandler[]>()
    expectTypeOf(issuer.mswHandlers()).resolves.toEqualTypeOf<never[]>()
    expectTypeOf<HttpHandler>().toExtend<RequestHandler>()
  })
})
