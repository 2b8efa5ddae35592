/**
 * Stage 1 (src/core/engine/jws.ts) on its own: the compact form and the header rules that do not
 * depend on the issuer, without a key or an issuer in sight.
 */
import { describe, expect, it } from 'vitest'
import { checkTokenSize, JwsReader } from '../../../src/core/engine/jws.js'
import { thrown } from '../../helpers/rejection.js'

/** base64url of a string, or of a value's JSON (no Buffer: this file also runs on the edge runtime). */
const b64 = (value: unknown) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const token = (header: unknown, payload: unknown = { sub: 'u' }, signature = 'c2ln') => `${b64(header)}.${b64(payload)}.${signature}`

describe('JwsReader', () => {
  it('reads the header (frozen), the payload, the signature bytes and the signing input’s length', () => {
    const t = token({ alg: 'ES256', kid: 'k' }, { sub: 'u', n: 1 })
    const parts = new JwsReader().read(t)
    expect(parts.header).toEqual({ alg: 'ES256', kid: 'k' })
    expect(Object.isFrozen(parts.header)).toBe(true)
    expect(parts.payload).toEqual({ sub: 'u', n: 1 })
    expect(new TextDecoder().decode(parts.signature)).toBe('sig')
    expect(parts.signedLength).toBe(t.lastIndexOf('.'))
  })

  it('shares one checked header object between tokens with the same header text', () => {
    const reader = new JwsReader()
    const first = reader.read(token({ alg: 'ES256' }, { sub: 'a' })).header
    const second = reader.read(token({ alg: 'ES256' }, { sub: 'b' })).header
    expect(second).toBe(first)
  })

  it.each([
    ['a.b', 'not a compact JWS: expected three dot-separated parts'],
    ['a.b.c.d.e', 'JWE (encrypted) tokens are not accepted'],
    ['a.b.c.d', 'not a compact JWS: too many parts'],
    [`${b64({ alg: 'ES256' })}..c2ln`, 'a part of the JWS is empty (unsigned tokens are not accepted)'],
    [`${b64({ alg: 'ES256' })}.${b64({})}.c2ln=`, 'a part of the JWS is not base64url'],
    [token({ alg: 'none' }), 'alg "none" is never accepted'],
    [token({ alg: 'NoNe' }), 'alg "none" is never accepted'],
    [token({ kid: 'k' }), 'header has no alg'],
    [token({ alg: 'ES256', crit: ['exp'] }), 'header has crit: no extensions are supported'],
    [token({ alg: 'ES256', b64: false }), 'b64 other than true is not allowed in a JWT'],
    [token({ alg: 'ES256', kid: 7 }), 'kid is not a string'],
    [token({ alg: 'ES256', cty: 'JWT' }), 'cty "JWT": nested JWTs are not accepted'],
    [`${b64('{"alg":"ES256","alg":"none"}')}.${b64({})}.c2ln`, 'header has the member "alg" twice'],
    [token([1]), 'header is not a JSON object'],
    [token({ alg: 'ES256' }, [1]), 'payload is not a JSON object'],
  ])('refuses %s: %s', (input, reason) => {
    const error = thrown(() => new JwsReader().read(input))
    expect(error).toMatchObject({ code: 'invalid_token', status: 401, reason })
  })
})

describe('checkTokenSize', () => {
  it('passes a string within the cap, refuses a longer one and a non-string', () => {
    expect(() => checkTokenSize('x'.repeat(10), 10)).not.toThrow()
    expect(thrown(() => checkTokenSize('x'.repeat(11), 10)).reason).toBe('token of 11 bytes exceeds maxTokenLength 10')
    expect(thrown(() => checkTokenSize(42, 10)).reason).toBe('token of type number')
  })
})
