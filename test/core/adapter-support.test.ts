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
import { guardFailureOptions, recordAuthOptions } from '../../src/core/adapter.js'

const issuer = await createTestIssuer({ algorithm: 'ES256' })
const verifier = createVerifier(issuer.verifierOptions('keys'))

/**
 * An AuthError of a second copy of the package (the CJS build beside the ESM one): the same brand
 * and fields, another class, so `instanceof` with this copy's classes is false.
 */
function foreignAuthError(status: number, code: string, description: string): AuthError {
  class OtherAuthError extends Error {
    override name = 'AuthError'
    status = status
    code = code
    description = description
    reason = `foreign ${code}`
    wwwAuthenticate(realm = 'api') {
      return code === 'missing_token' ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="${code}", error_description="${description}"`
    }
    toJSON() {
      return { error: code, error_description: description }
    }
  }
  const error = new OtherAuthError(`foreign ${code}`)
  Object.defineProperty(error, Symbol.for('bearer-guard.AuthError'), { value: true })
  return error as unknown as AuthError
}

/** A verifier (brand and all) whose authenticate rejects with `error`. */
function rejecting(error: unknown): typeof verifier {
  return { ...verifier, authenticate: () => Promise.reject(error) } as typeof verifier
}

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

  it('lets a request without credentials through when the verifier comes from another copy of the package', async () => {
    const missing = foreignAuthError(401, 'missing_token', 'authentication required')
    expect(missing).not.toBeInstanceOf(MissingTokenError)
    await expect(authenticateRequest(rejecting(missing), undefined, true)).resolves.toBeUndefined()
    await expect(authenticateRequest(rejecting(missing), undefined, false)).rejects.toBe(missing)
  })

  it('still rejects any other error of another copy when optional', async () => {
    const invalid = foreignAuthError(401, 'invalid_token', 'invalid token')
    await expect(authenticateRequest(rejecting(invalid), 'Bearer x', true)).rejects.toBe(invalid)
    const lookalike = Object.assign(new Error('no brand'), { code: 'missing_token', status: 401 })
    await expect(authenticateRequest(rejecting(lookalike), undefined, true)).rejects.toBe(lookalike)
  })

  it('refuses a token followed by a Unicode space that trim() would remove (400)', async () => {
    const token = await issuer.sign()
    for (const space of ['\u3000', '\u00a0', '\u2003', '\ufeff']) {
      await expect(verifier.authenticate(`Bearer ${token}${space}`)).rejects.toMatchObject({ status: 400, code: 'invalid_request' })
      await expect(authenticateRequest(verifier, `Bearer ${token}${space}`, true)).rejects.toMatchObject({ status: 400 })
    }
    await expect(verifier.authenticate(`Bearer ${token} \t`)).resolves.toMatchObject({ subject: 'user-123' })
  })

  it('refuses two joined credentials (two Authorization lines in a Web Headers) with 400, also when optional', async () => {
    const token = await issuer.sign()
    const headers = new Headers()
    headers.append('authorization', 'Basic dXNlcjpwYXNz')
    headers.append('authorization', `Bearer ${token}`)
    expect(headers.get('authorization')).toBe(`Basic dXNlcjpwYXNz, Bearer ${token}`)
    await expect(authenticateRequest(verifier, headers.get('authorization'), true)).rejects.toMatchObject({ status: 400 })
    await expect(authenticateRequest(verifier, headers.get('authorization'), false)).rejects.toMatchObject({ status: 400 })
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

describe('resolveFailure with an error of another copy of the package', () => {
  it('answers it like its own: status, challenge with the realm, body', async () => {
    const error = foreignAuthError(503, 'temporarily_unavailable', 'authorization keys unavailable, retry later')
    const out = await resolveFailure(error, { realm: 'r' })
    expect(out).toEqual({
      response: {
        status: 503,
        headers: expect.objectContaining({ 'retry-after': '5' }),
        body: { error: 'temporarily_unavailable', error_description: 'authorization keys unavailable, retry later' },
      },
    })
    const missing = await resolveFailure(foreignAuthError(401, 'missing_token', 'authentication required'), { realm: 'r' })
    expect(missing).toMatchObject({ response: { status: 401, headers: { 'www-authenticate': 'Bearer realm="r"' } } })
  })
})

describe('guard options inherited from requireAuth (per request)', () => {
  const onError = () => 'auth answer'
  const onFailure = () => {}

  it('gives a guard the realm, onError and onFailure requireAuth ran with on the same request', () => {
    const request = {}
    recordAuthOptions(request, { realm: 'orders', onError, onFailure, optional: true })
    expect(guardFailureOptions(request, {})).toEqual({ realm: 'orders', onError, onFailure })
    expect(guardFailureOptions(request, { any: true })).toEqual({ realm: 'orders', onError, onFailure, any: true })
  })

  it("lets the guard's own options win, an option set to undefined counting as not set", () => {
    const request = {}
    const own = () => 'guard answer'
    recordAuthOptions(request, { realm: 'orders', onError, onFailure })
    expect(guardFailureOptions(request, { realm: 'admin', onError: own })).toEqual({ realm: 'admin', onError: own, onFailure })
    expect(guardFailureOptions(request, { realm: undefined })).toEqual({ realm: 'orders', onError, onFailure })
  })

  it('keeps requests apart, and the last requireAuth on a request wins', () => {
    const a = {}
    const b = {}
    recordAuthOptions(a, { realm: 'first' })
    expect(guardFailureOptions(b, {})).toEqual({})
    recordAuthOptions(a, { realm: 'second' })
    expect(guardFailureOptions(a, {})).toEqual({ realm: 'second' })
  })

  it('resolves a guard failure with the inherited options', async () => {
    const request = {}
    const told: string[] = []
    recordAuthOptions(request, { realm: 'orders', onFailure: (e: AuthError) => told.push(e.code) })
    const error = new InvalidTokenError({ reason: 'x' })
    const out = await resolveFailure(error, guardFailureOptions(request, {}), request)
    expect(out).toMatchObject({ response: { headers: { 'www-authenticate': expect.stringContaining('realm="orders"') } } })
    expect(told).toEqual(['invalid_token'])
  })
})

describe('FORWARDED_IDENTITY_HEADERS', () => {
  it('lists lower-case header names', () => {
    expect(FORWARDED_IDENTITY_HEADERS.length).toBeGreaterThan(0)
    for (const h of FORWARDED_IDENTITY_HEADERS) expect(h).toBe(h.toLowerCase())
  })
})
