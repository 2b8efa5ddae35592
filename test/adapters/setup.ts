/** Shared by the per-adapter tests: one issuer, a verifier that trusts it, and tokens. */
import { createVerifier, type IssuerOptions, type Verifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'

export const issuer = await createTestIssuer({ algorithm: 'ES256' })
/** No network: the issuer's public keys are given directly. */
export const verifier = createVerifier(issuer.verifierOptions('keys') as IssuerOptions<undefined>)
export const userToken = await issuer.sign({ sub: 'user-1', roles: ['user'], tenant: 'acme' })
export const adminToken = await issuer.sign({ sub: 'admin-1', roles: ['admin'] })

/** A verifier whose `authenticate` fails with a plain Error (a bug or outage, not an AuthError). */
export function brokenVerifier(error = new Error('database down')): Verifier {
  const fail = async (): Promise<never> => {
    throw error
  }
  const brand = Symbol.for('bearer-guard.Verifier')
  return {
    authenticate: fail,
    verifyAccessToken: fail,
    warmUp: fail,
    [brand]: true,
  } as unknown as Verifier
}
