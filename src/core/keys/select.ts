/**
 * Which keys may verify a token: one rule for every key source (static keys and the JWKS cache).
 *
 * - A token's `kid` selects the keys with that `kid` that fit its `alg`. Several keys with that exact
 *   `kid` are ambiguous: refused, since the token names one key.
 * - When no key has the token's `kid`, the keys without `kid` are tried (the usual rotation overlap
 *   of static keys: a key without `kid` may verify any token).
 * - A token without `kid` may be verified by any key that fits its `alg`.
 *
 * Keys tried without a `kid` naming them are at most `MAX_KEYS_WITHOUT_KID`, in the key set's order.
 *
 * @module bearer-guard
 */
import { InvalidTokenError } from '../errors.js'
import { MAX_KEYS_WITHOUT_KID } from '../limits.js'
import type { Algorithm } from '../types.js'
import { keyFitsAlgorithm, type VerifyKey } from './verify-key.js'

/** The keys a token may be verified with. */
export interface Selection {
  /** The keys to try, in order. */
  readonly keys: readonly VerifyKey[]
  /** The token names a `kid` no key carries (`keys` are then those without `kid`): a JWKS may have rotated. */
  readonly unknownKid: boolean
}

/** Where an issuer's keys come from: static keys (`staticKeySource`) or a remote JWKS (`createJwksCache`). */
export interface KeySource {
  /** The keys to try for a token's `kid` and `alg`; synchronous when warm. Throws an `AuthError` when none fits. */
  select(kid: string | undefined, alg: Algorithm): readonly VerifyKey[] | Promise<readonly VerifyKey[]>
  /** Loads the keys now (a JWKS fetch); resolves at once for static keys. */
  warmUp(): Promise<void>
}

/** Refused: several keys carry the token's `kid`. */
export function ambiguous(kid: string, count: number): InvalidTokenError {
  return new InvalidTokenError({ reason: `kid "${kid.slice(0, 64)}" matches ${count} keys: ambiguous` })
}

/** The keys of `keys` that may verify a token with this `kid` and `alg` (see the rule above). */
export function selectKeys(keys: readonly VerifyKey[], kid: string | undefined, alg: Algorithm): Selection {
  // loops, not filter: selection runs on a memo miss only, but allocates nothing it does not keep
  const named: VerifyKey[] = []
  if (kid !== undefined) for (const key of keys) if (key.kid === kid && keyFitsAlgorithm(key, alg)) named.push(key)
  if (named.length > 1) throw ambiguous(kid as string, named.length)
  if (named.length === 1) return { keys: named, unknownKid: false }
  const unnamed: VerifyKey[] = []
  for (const key of keys) {
    if (unnamed.length === MAX_KEYS_WITHOUT_KID) break
    if ((kid === undefined || key.kid === undefined) && keyFitsAlgorithm(key, alg)) unnamed.push(key)
  }
  return { keys: unnamed, unknownKid: kid !== undefined }
}

/**
 * `selectKeys` that keeps its last answer: an issuer signs with one key at a time, so the warm path
 * compares three values instead of scanning the key set.
 */
export function createSelector(): (keys: readonly VerifyKey[], kid: string | undefined, alg: Algorithm) => Selection {
  let lastKeys: readonly VerifyKey[] | undefined
  let lastKid: string | undefined | null = null
  let lastAlg = ''
  let last: Selection = { keys: [], unknownKid: false }
  return (keys, kid, alg) => {
    if (keys === lastKeys && kid === lastKid && alg === lastAlg) return last
    last = selectKeys(keys, kid, alg)
    lastKeys = keys
    lastKid = kid
    lastAlg = alg
    return last
  }
}

/** A key source over static keys: never refetched, never retired. */
export function staticKeySource(keys: readonly VerifyKey[]): KeySource {
  const select = createSelector()
  return {
    select(kid, alg) {
      const found = select(keys, kid, alg).keys
      if (found.length === 0) {
        throw new InvalidTokenError({ reason: `no configured key fits ${kid === undefined ? 'the token' : `kid "${kid.slice(0, 64)}"`} and alg ${alg}` })
      }
      return found
    },
    warmUp: () => Promise.resolve(),
  }
}
