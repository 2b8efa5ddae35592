/**
 * Stage 6, the revocation store: asked for every token with a `jti`, fresh or cached. A store that
 * fails (throws, rejects) is the store's outage, answered 503, never the token's fault.
 *
 * @module bearer-guard
 */
import { KeySourceUnavailableError, TokenRevokedError, isAuthError, type AuthError } from '../errors.js'
import type { JWTPayload, RevocationStore } from '../types.js'
import { chain, isPromiseLike } from './maybe-promise.js'

/**
 * Throws `TokenRevokedError` when the store denies the payload's `jti`. `undefined` when that was
 * decided synchronously (or there is nothing to ask), else a promise of the decision.
 */
export function checkRevocation(store: RevocationStore | undefined, payload: JWTPayload): Promise<void> | undefined {
  const jti = payload.jti
  if (!store || typeof jti !== 'string') return undefined
  let answer: boolean | Promise<boolean>
  try {
    answer = store.isRevoked(jti, payload)
  } catch (error) {
    throw storeFailure(error)
  }
  if (!isPromiseLike(answer)) {
    assertNotRevoked(answer, jti)
    return undefined
  }
  return (chain(answer, assertNotRevoked, jti) as Promise<void>).catch(rethrowStoreFailure)
}

function assertNotRevoked(revoked: boolean, jti: string): void {
  if (revoked) throw new TokenRevokedError({ reason: `jti "${jti.slice(0, 64)}" is revoked` })
}

function storeFailure(error: unknown): AuthError {
  return isAuthError(error) ? error : new KeySourceUnavailableError({ reason: `revocation store failed: ${(error as Error)?.message}`, cause: error })
}

function rethrowStoreFailure(error: unknown): never {
  throw storeFailure(error)
}
