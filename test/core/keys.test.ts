import { describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair } from 'jose'
import { keyFromJwk } from '../../src/core/keys/jwk.js'
import { keyFitsAlgorithm, type VerifyKey } from '../../src/core/keys/verify-key.js'

const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)
const rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey)
const ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey)

function key(jwk: unknown): VerifyKey {
  const result = keyFromJwk(jwk)
  if (!('key' in result)) throw new Error(`skipped: ${result.skipped}`)
  return result.key
}

function skipped(jwk: unknown): string {
  const result = keyFromJwk(jwk)
  if ('key' in result) throw new Error('key was accepted')
  return result.skipped
}

describe('keyFromJwk', () => {
  it('keeps only the public members', () => {
    const k = key({ ...ec, kid: 'k', d: 'private', use: 'sig', alg: 'ES256' })
    expect(k).toMatchObject({ kid: 'k', kty: 'EC', crv: 'P-256', alg: 'ES256' })
    expect(k.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: ec.x, y: ec.y })
    expect(key(rsa).bits).toBe(2048)
    expect(key(ed)).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })
  })

  it.each([
    ['not an object', 'x', 'not an object'],
    ['an array', [], 'not an object'],
    ['a numeric kid', { ...ec, kid: 5 }, 'kid is not a string'],
    ['use enc', { ...ec, use: 'enc' }, 'use "enc"'],
    ['key_ops without verify', { ...ec, key_ops: ['sign'] }, 'key_ops without verify'],
    ['key_ops that is not an array', { ...ec, key_ops: 'verify' }, 'key_ops without verify'],
    ['a symmetric alg', { ...ec, alg: 'HS256' }, 'alg "HS256" is not an asymmetric signature algorithm'],
    ['alg none', { ...ec, alg: 'none' }, 'alg "none" is not an asymmetric signature algorithm'],
    ['an oct key', { kty: 'oct', k: 'c2VjcmV0' }, 'kty "oct"'],
    ['an RSA key without n', { kty: 'RSA', e: 'AQAB' }, 'RSA key without n/e'],
    ['an RSA key under 2048 bits', { kty: 'RSA', n: 'A'.repeat(170) + 'Q', e: 'AQAB' }, 'RSA modulus of'],
    ['an even RSA exponent', { ...rsa, e: 'AQAA' }, 'RSA exponent unusable'],
    ['RSA exponent 1', { ...rsa, e: 'AQ' }, 'RSA exponent unusable'],
    ['an RSA exponent over 4 bytes', { ...rsa, e: 'AQAAAAAB' }, 'RSA exponent unusable'],
    ['an RSA key with an EC alg', { ...rsa, alg: 'ES256' }, 'RSA key with alg ES256'],
    ['an unknown curve', { ...ec, crv: 'secp256k1' }, 'EC curve "secp256k1"'],
    ['an EC key without y', { kty: 'EC', crv: 'P-256', x: ec.x }, 'EC key without x/y'],
    ['short EC coordinates', { ...ec, x: 'AAAA' }, 'EC coordinates of the wrong size'],
    ['an EC key with another curve alg', { ...ec, alg: 'ES384' }, 'EC P-256 key with alg ES384'],
    ['an X25519 key', { ...ed, crv: 'X25519' }, 'OKP curve "X25519"'],
    ['a short Ed25519 x', { ...ed, x: 'AAAA' }, 'Ed25519 key with a bad x'],
    ['an Ed25519 key with alg ES256', { ...ed, alg: 'ES256' }, 'Ed25519 key with alg ES256'],
  ])('skips %s', (_what, jwk, reason) => {
    expect(skipped(jwk)).toContain(reason)
  })

  it('skips a point that is not on the curve', () => {
    const off = { ...ec, y: ec.x }
    expect(skipped(off)).toMatch(/cannot import/)
  })
})

describe('keyFitsAlgorithm', () => {
  it('matches kty, curve and the key alg', () => {
    const r = key(rsa)
    expect(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'].every((a) => keyFitsAlgorithm(r, a as never))).toBe(true)
    expect(keyFitsAlgorithm(r, 'ES256')).toBe(false)
    expect(keyFitsAlgorithm(r, 'HS256')).toBe(false)
    expect(keyFitsAlgorithm(key({ ...rsa, alg: 'RS256' }), 'PS256')).toBe(false)
    const e = key(ec)
    expect(keyFitsAlgorithm(e, 'ES256')).toBe(true)
    expect(keyFitsAlgorithm(e, 'ES384')).toBe(false)
    expect(keyFitsAlgorithm(e, 'EdDSA')).toBe(false)
    const o = key({ ...ed, alg: 'EdDSA' })
    expect(keyFitsAlgorithm(o, 'EdDSA')).toBe(true)
    expect(keyFitsAlgorithm(o, 'Ed25519')).toBe(true)
  })
})
