/**
 * The one key-selection rule (src/core/keys/select.ts), on its own: static keys and the JWKS cache
 * both select through it.
 */
import { describe, expect, it } from 'vitest'
import { createSelector, selectKeys, staticKeySource } from '../../../src/core/keys/select.js'
import { createVerifyKey, type VerifyKey } from '../../../src/core/keys/verify-key.js'
import { MAX_KEYS_WITHOUT_KID } from '../../../src/core/limits.js'
import { rejection } from '../../helpers/rejection.js'

/** A P-256 key (selection reads kid, kty, crv, alg and bits only). */
function ec(kid: string | undefined, alg?: string): VerifyKey {
  return createVerifyKey({ kid, kty: 'EC', crv: 'P-256', alg, bits: undefined, jwk: undefined, node: undefined, cryptoKey: undefined })
}

function rsa(kid: string | undefined, bits = 2048): VerifyKey {
  return createVerifyKey({ kid, kty: 'RSA', crv: undefined, alg: undefined, bits, jwk: undefined, node: undefined, cryptoKey: undefined })
}

const kids = (keys: readonly VerifyKey[]) => keys.map((k) => k.kid ?? '-')

describe('selectKeys', () => {
  it('selects the one key with the token’s kid that fits its alg', () => {
    const keys = [ec('a'), ec('b'), ec(undefined), rsa('b')]
    expect(selectKeys(keys, 'b', 'ES256')).toEqual({ keys: [keys[1]], unknownKid: false })
    expect(selectKeys(keys, 'b', 'RS256')).toEqual({ keys: [keys[3]], unknownKid: false })
  })

  it('refuses a kid that two fitting keys carry as ambiguous', () => {
    expect(() => selectKeys([ec('a'), ec('a')], 'a', 'ES256')).toThrow('kid "a" matches 2 keys: ambiguous')
    // the same kid on a key of another type is no ambiguity: only one fits ES256
    expect(kids(selectKeys([ec('a'), rsa('a')], 'a', 'ES256').keys)).toEqual(['a'])
  })

  it('falls back to the keys without kid for an unknown kid, and says the kid was unknown', () => {
    const keys = [ec('a'), ec(undefined), rsa(undefined)]
    expect(selectKeys(keys, 'rotated', 'ES256')).toEqual({ keys: [keys[1]], unknownKid: true })
    expect(selectKeys([ec('a')], 'rotated', 'ES256')).toEqual({ keys: [], unknownKid: true })
  })

  it('lets a token without kid use any key that fits its alg, in the key set’s order', () => {
    const keys = [rsa('r'), ec('a'), ec(undefined), ec('b')]
    expect(selectKeys(keys, undefined, 'ES256')).toEqual({ keys: [keys[1], keys[2], keys[3]], unknownKid: false })
  })

  it(`tries at most ${MAX_KEYS_WITHOUT_KID} keys that no kid names`, () => {
    const keys = Array.from({ length: MAX_KEYS_WITHOUT_KID + 3 }, (_, i) => ec(`k${i}`))
    expect(kids(selectKeys(keys, undefined, 'ES256').keys)).toEqual(kids(keys.slice(0, MAX_KEYS_WITHOUT_KID)))
  })

  it('skips keys whose own alg, curve or size does not fit', () => {
    const keys = [ec('a', 'ES384'), rsa(undefined, 1024), ec(undefined, 'ES256')]
    expect(selectKeys(keys, undefined, 'ES256').keys).toEqual([keys[2]])
    expect(selectKeys(keys, undefined, 'RS256').keys).toEqual([])
  })
})

describe('createSelector', () => {
  it('answers a repeated (keys, kid, alg) with the same selection, and a new key set afresh', () => {
    const select = createSelector()
    const first = [ec('a')]
    const answer = select(first, 'a', 'ES256')
    expect(select(first, 'a', 'ES256')).toBe(answer)
    const second = [ec('a')]
    expect(select(second, 'a', 'ES256').keys).toEqual([second[0]])
  })
})

describe('staticKeySource', () => {
  it('selects synchronously and refuses with the configured-key reason when nothing fits', async () => {
    const keys = [ec('a')]
    const source = staticKeySource(keys)
    expect(source.select('a', 'ES256')).toEqual([keys[0]])
    expect(() => source.select('b', 'ES256')).toThrow('no configured key fits kid "b" and alg ES256')
    expect(() => source.select(undefined, 'RS256')).toThrow('no configured key fits the token and alg RS256')
    await expect(source.warmUp()).resolves.toBeUndefined()
    expect((await rejection(Promise.resolve().then(() => source.select('b', 'ES256')))).code).toBe('invalid_token')
  })
})

describe('VerifyKey', () => {
  it('is frozen; only its state changes when a key source retires it', () => {
    const key = ec('a')
    expect(Object.isFrozen(key)).toBe(true)
    expect(() => ((key as { kid: string }).kid = 'b')).toThrow(TypeError)
    expect(key.state.retired).toBe(false)
  })
})
