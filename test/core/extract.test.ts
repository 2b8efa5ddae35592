import { describe, expect, it } from 'vitest'
import { extractBearer, InvalidRequestError, MissingTokenError, type AuthError } from 'bearer-guard'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'

function failure(value: unknown): AuthError {
  try {
    extractBearer(value as string)
  } catch (error) {
    return error as AuthError
  }
  throw new Error('extractBearer accepted the header')
}

describe('extractBearer (RFC 6750 §2.1)', () => {
  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `BeArEr ${TOKEN}`])(
    'reads the token with a case-insensitive scheme: %s',
    (header) => {
      expect(extractBearer(header)).toBe(TOKEN)
    },
  )

  it.each([`Bearer   ${TOKEN}`, `  Bearer ${TOKEN}  `, `Bearer\t${TOKEN}`])('tolerates extra spaces: %j', (header) => {
    expect(extractBearer(header)).toBe(TOKEN)
  })

  it('accepts every b64token character and trailing padding', () => {
    const token = 'AZaz09-._~+/=='
    expect(extractBearer(`Bearer ${token}`)).toBe(token)
  })

  it.each([undefined, null, '', '   ', []])('answers %j with 401 and no error code', (value) => {
    const error = failure(value)
    expect(error).toBeInstanceOf(MissingTokenError)
    expect(error.status).toBe(401)
    expect(error.code).toBe('missing_token')
    expect(error.wwwAuthenticate()).toBe('Bearer realm="api"')
  })

  it.each(['Basic dXNlcjpwYXNz', 'Token abc', 'Bearerx abc', 'DPoP abc'])(
    'treats another scheme as missing credentials: %s',
    (header) => {
      const error = failure(header)
      expect(error).toBeInstanceOf(MissingTokenError)
      expect(error.status).toBe(401)
      expect(error.reason).toMatch(/is not Bearer/)
    },
  )

  it.each([
    ['Bearer alone', 'Bearer', /without a token/],
    ['Bearer with spaces only', 'Bearer    ', /without a token/],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`, /more than one credential/],
    ['a comma-separated second credential', `Bearer ${TOKEN}, Basic abc`, /more than one credential/],
    ['a quote', 'Bearer "abc"', /b64token/],
    ['padding in the middle', 'Bearer ab=cd', /b64token/],
    ['a non-ASCII character', 'Bearer abcé', /b64token/],
    ['a header over 16 KiB', `Bearer ${'a'.repeat(16 * 1024)}`, /authorization header of \d+ characters/],
  ])('answers %s with 400 invalid_request', (_what, header, reason) => {
    const error = failure(header)
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_request')
    expect(error.reason).toMatch(reason)
  })

  it("reads one header from Node's string[] form", () => {
    expect(extractBearer([`Bearer ${TOKEN}`])).toBe(TOKEN)
  })

  it('answers two Authorization headers with 400', () => {
    const error = failure([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect(error.reason).toBe('2 authorization headers')
  })

  it('answers a header value of another type with 400', () => {
    expect(failure(42)).toBeInstanceOf(InvalidRequestError)
    expect(failure({})).toBeInstanceOf(InvalidRequestError)
  })
})
