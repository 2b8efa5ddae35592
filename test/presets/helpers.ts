/**
 * Provider-shaped test issuers: a `createTestIssuer` whose JWKS is served (through msw) at the URL
 * the provider really publishes it, and an assertion for refused tokens.
 */
import { http, HttpResponse } from 'msw'
import type { SetupServer } from 'msw/node'
import { expect } from 'vitest'
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'bearer-guard/testing'
import type { Verifier } from 'bearer-guard'
import { rejection } from '../helpers/rejection.js'

/** A test issuer for `issuer`, signing RS256 with `kid`. */
export function providerIssuer(issuer: string, options: TestIssuerOptions = {}): Promise<TestIssuer> {
  return createTestIssuer({ issuer, algorithm: 'RS256', ...options })
}

/** Serves the keys of `issuers` at `jwksUri` for the current test; counts the requests. */
export function serveJwks(server: SetupServer, jwksUri: string, ...issuers: TestIssuer[]): { hits: number } {
  const counter = { hits: 0 }
  server.use(
    http.get(jwksUri, () => {
      counter.hits++
      return HttpResponse.json({ keys: issuers.flatMap((i) => i.jwks().keys) })
    }),
  )
  return counter
}

/** Asserts a 401 `invalid_token`, on `claim` when given, with `reason` matching when given. */
export async function expectRefused(
  verifier: Verifier<unknown>,
  token: string,
  expected: { claim?: string; reason?: RegExp } = {},
): Promise<void> {
  const error = await rejection(verifier.verifyAccessToken(token))
  expect(error).toMatchObject({ status: 401, code: 'invalid_token' })
  if (expected.claim !== undefined) expect(error).toHaveProperty('claim', expected.claim)
  if (expected.reason) expect(error.message).toMatch(expected.reason)
}

/** Epoch seconds now. */
export const now = (): number => Math.floor(Date.now() / 1000)
