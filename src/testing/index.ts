/**
 * Test helpers for users' own test suites: a fake authorization server that signs access tokens
 * and serves its discovery document and JWKS.
 *
 * Subpath export `'bearer-guard/testing'`. msw is an optional peer dependency, loaded only by
 * `mswHandlers()`; `node:http` is loaded only by `listen`, so this module also runs on edge runtimes.
 *
 * @module bearer-guard/testing
 */
export { createTestIssuer } from './test-issuer.js'

export type {
  Fault,
  IssuerRequestCounts,
  SignOptions,
  TestAlgorithm,
  TestIssuer,
  TestIssuerOptions,
  VerifierMode,
} from './types.js'
export type { LoopbackServer } from './node-server.js'
