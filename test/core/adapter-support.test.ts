import { describe, expect, it, vi } from 'vitest'
import {
  authenticateRequest,
  createVerifier,
  FORWARDED_IDENTITY_HEADERS,
  InvalidTokenError,
  isVerifier,
  KeySourceUnavailableError,
  MissingTokenError,
  resolveFailure,
  toVerifier,
  type AuthError,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'

const issuer = await createTestIssuer({ algorithm: 'ES256' })
const verifier = createVerifier(issuer.verifierOptions('keys'))

describe('toVerifier', () => {
  it('returns a verifier as is', () => {
    expect(toVerifier(verifier)).toBe(verifier)
  })

  it('builds a verifier from options, validating them now', () => {
    const built = toVerifier(issuer.verifierOptions('keys'))
    expect(isVerifier(built)).toBe(true)
    expect(() => toVerifier({ issuer: 'https://x.test', audience: 'a', jku: 1 } as never)).toThrow(TypeError)
  })

  it('recognizes a verifier by its Symbol.for brand only', () => {
    expect(isVerifier({ [Symbol.for('bearer-guard.Verifier')]: true })).toBe(true)
    expect(isVerifier({ verifyAccessToken() {} })).toBe(false)
    expect(isVerifier(null)).toBe(false)
  })
})

describe('authenticateRequest', () => {
  it('rejects, never throws, when a verifier throws synchronously', async () => {
    const throwing = { ...verifier, authenticate: () => { throw new MissingTokenError() } } as typeof verifier
    const pending = authenticateRequest(throwing, undefined, false)
    await expect(pending).rejects.toBeInstanceOf(MissingTokenError)
    await expect(authenticateRequest(throwing, undefined, true)).resolves.toBeUndefined()
  })

  it('verifies the bearer token of a header', async () => {
    const token = await issuer.sign()
    const auth = await authenticateRequest(verifier, `Bearer ${token}`, false)
    expect(auth?.subject).toBe('user-123')
  })

  it('yields undefined without credentials when optional', async () => {
    await expect(authenticateRequest(verifier, undefined, true)).resolves.toBeUndefined()
    await expect(authenticateRequest(verifier, 'Basic abc', true)).resolves.toBeUndefined()
  })

  it('rejects missing credentials when not optional', async () => {
    await expect(authenticateRequest(verifier, undefined, false)).rejects.toBeInstanceOf(MissingTokenError)
  })

  it('still rejects a present but invalid token when optional', async () => {
    await expect(authenticateRequest(verifier, 'Bearer abc.def.ghi', true)).rejects.toBeInstanceOf(InvalidTokenError)
    await expect(authenticateRequest(verifier, 'Bearer', true)).rejects.toMatchObject({ status: 400 })
  })
})

describe('resolveFailure', () => {
  const error = new InvalidTokenError({ reason: 'aud mismatch' })

  it('gives the default answer and tells onFailure', async () => {
    const onFailure = vi.fn()
    const result = await resolveFailure(error, { onFailure, realm: 'r' }, 'req', 'res')
    expect(onFailure).toHaveBeenCalledWith(error, 'req', 'res')
    expect(result).toEqual({
      response: {
        status: 401,
        headers: expect.objectContaining({ 'www-authenticate': 'Bearer realm="r", error="invalid_token", error_description="invalid token"' }),
        body: { error: 'invalid_token', error_description: 'invalid token' },
      },
    })
  })

  it('uses what onError produces, sync or async', async () => {
    const onError = vi.fn((e: AuthError, ctx: string) => `${e.code} for ${ctx}`)
    expect(await resolveFailure(error, { onError }, 'req')).toEqual({ custom: 'invalid_token for req' })
    expect(await resolveFailure(error, { onError: async () => 42 })).toEqual({ custom: 42 })
  })

  it('falls back to the default answer when onError returns nothing', async () => {
    const onError = vi.fn(() => undefined)
    const result = await resolveFailure(new KeySourceUnavailableError({ reason: 'x', retryAfter: 3 }), { onError })
    expect(onError).toHaveBeenCalledOnce()
    expect(result).toMatchObject({ response: { status: 503, headers: { 'retry-after': '3' } } })
    expect(await resolveFailure(error, { onError: () => null })).toHaveProperty('response')
  })

  it('rethrows anything that is not an AuthError, without calling the hooks', async () => {
    const onError = vi.fn()
    const bug = new RangeError('handler bug')
    await expect(resolveFailure(bug, { onError, onFailure: onError })).rejects.toBe(bug)
    expect(onError).not.toHaveBeenCalled()
  })
})

describe('FORWARDED_IDENTITY_HEADERS', () => {
  it('lists lower-case header names', () => {
    expect(FORWARDED_IDENTITY_HEADERS.length).toBeGreaterThan(0)
    for (const h of FORWARDED_IDENTITY_HEADERS) expect(h).toBe(h.toLowerCase())
  })
})
