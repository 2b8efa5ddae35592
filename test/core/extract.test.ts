import { describe, expect, it } from 'vitest'
import { extractBearer, InvalidRequestError, MissingTokenError, type AuthError } from 'bearer-guard'
import { thrown } from '../helpers/rejection.js'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'

/** The AuthError extractBearer throws for a header value. */
function failure(value: unknown): AuthError {
  return thrown(() => extractBearer(value as string))
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
    ['a comma-separated second credential', `Bearer ${TOKEN}, Basic abc`, /2 credentials in the authorization header/],
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

  describe('whitespace around the credential is SP and HTAB only (RFC 9110 OWS)', () => {
    // every one of these is removed by String.prototype.trim()
    const unicodeSpaces = ['\u3000', '\u00a0', '\u2003', '\u2028', '\ufeff', '\u000b', '\u000c', '\n', '\r']
    it.each(unicodeSpaces)('refuses %j after the token with 400', (space) => {
      const error = failure(`Bearer ${TOKEN}${space}`)
      expect(error).toBeInstanceOf(InvalidRequestError)
      expect(error.status).toBe(400)
    })
    it.each(unicodeSpaces)('refuses %j before the scheme with 400', (space) => {
      expect(failure(`${space}Bearer ${TOKEN}`)).toBeInstanceOf(InvalidRequestError)
    })
    it.each(unicodeSpaces)('refuses %j between the scheme and the token with 400', (space) => {
      expect(failure(`Bearer${space}${TOKEN}`)).toBeInstanceOf(InvalidRequestError)
    })
    it('still accepts SP and HTAB on both sides', () => {
      expect(extractBearer(` \t Bearer \t ${TOKEN} \t `)).toBe(TOKEN)
    })
    it('answers a header of OWS only as no credentials', () => {
      expect(failure(' \t ')).toBeInstanceOf(MissingTokenError)
    })
  })

  describe('several credentials in one value (Web Headers join repeated lines with ", ")', () => {
    it.each([
      ['Basic, then Bearer', `Basic dXNlcjpwYXNz, Bearer ${TOKEN}`],
      ['Bearer, then Basic', `Bearer ${TOKEN}, Basic dXNlcjpwYXNz`],
      ['two Bearer tokens', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
      ['a bare scheme, then Bearer', `Negotiate, Bearer ${TOKEN}`],
      ['Bearer, then a bare scheme', `Bearer ${TOKEN}, Negotiate`],
      ['auth-params, then Bearer', `Digest username="a", realm="b, c", Bearer ${TOKEN}`],
      ['no OWS after the comma', `Basic dXNlcjpwYXNz,Bearer ${TOKEN}`],
      ['HTAB after the comma', `Basic dXNlcjpwYXNz,\tBearer ${TOKEN}`],
      ['an empty line, then Bearer', `, Bearer ${TOKEN}`],
      ['Bearer, then an empty line', `Bearer ${TOKEN}, `],
      ['two other schemes', 'Basic dXNlcjpwYXNz, Basic dXNlcjpwYXNz'],
    ])('answers %s with 400 invalid_request', (_what, header) => {
      const error = failure(header)
      expect(error).toBeInstanceOf(InvalidRequestError)
      expect(error.status).toBe(400)
      expect(error.reason).toMatch(/credentials in the authorization header/)
    })

    it.each([
      ['comma-separated auth-params', 'Digest username="a", realm="b", nonce="c"'],
      ['auth-params with BWS around "="', 'Digest username = "a" , realm\t=\tb'],
      ['a comma and a scheme-like word inside a quoted-string', 'Digest realm="x, Bearer y", qop=auth'],
      ['an escaped quote inside a quoted-string', 'Digest realm="x\\", Bearer y", qop=auth'],
    ])('reads %s as one credential of another scheme (401, no error code)', (_what, header) => {
      const error = failure(header)
      expect(error).toBeInstanceOf(MissingTokenError)
      expect(error.reason).toMatch(/is not Bearer/)
    })

    it('answers a Bearer credential followed by an auth-param with 400', () => {
      expect(failure(`Bearer ${TOKEN}, realm="x"`)).toBeInstanceOf(InvalidRequestError)
    })

    it('answers a scheme that is not a token with 400', () => {
      expect(failure(`"Bearer" ${TOKEN}`)).toBeInstanceOf(InvalidRequestError)
      expect(failure(`Bearer: ${TOKEN}`)).toBeInstanceOf(InvalidRequestError)
    })

    it('answers an unterminated quoted-string with 400', () => {
      expect(failure('Digest realm="x, Bearer y')).toBeInstanceOf(InvalidRequestError)
    })
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
