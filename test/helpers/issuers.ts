/**
 * Test issuers for one test file: `useIssuers()` starts the file's msw server (network blocked,
 * loopback allowed) and closes every issuer it made after the test that made it.
 *
 * @example An issuer whose discovery and JWKS msw serves for the current test.
 * ```ts
 * const issuers = useIssuers()
 * it('fetches the JWKS once', async () => {
 *   const issuer = await issuers.serve({ algorithm: 'ES256' })
 *   const verifier = createVerifier(issuer.verifierOptions('jwks'))
 * })
 * ```
 */
import type { SetupServer } from 'msw/node'
import { afterEach } from 'vitest'
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'bearer-guard/testing'
import { setupMswServer } from './msw-server.js'

/** The issuers of a test file. */
export interface Issuers {
  /** The file's msw server; its handlers are reset after each test. */
  readonly msw: SetupServer
  /** A test issuer, closed after the current test; nothing serves its endpoints but its own `fetch`/`handler`. */
  issue(options?: TestIssuerOptions): Promise<TestIssuer>
  /** A test issuer whose discovery and JWKS msw serves for the current test; closed after it. */
  serve(options?: TestIssuerOptions): Promise<TestIssuer>
}

/** Call once at the top of a test file. */
export function useIssuers(): Issuers {
  const msw = setupMswServer()
  const open: TestIssuer[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((issuer) => issuer.close()))
  })
  async function issue(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    const issuer = await createTestIssuer(options)
    open.push(issuer)
    return issuer
  }
  return {
    msw,
    issue,
    async serve(options = {}) {
      const issuer = await issue(options)
      msw.use(...(await issuer.mswHandlers()))
      return issuer
    },
  }
}
