import { describe, expect, it } from 'vitest'
import {
  AuthError,
  DEFAULT_REALM,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isAuthError,
  KeySourceUnavailableError,
  MissingTokenError,
  TokenExpiredError,
  TokenRevokedError,
} from 'bearer-guard'

describe('AuthError family', () => {
  it.each([
    [new MissingTokenError(), 401, 'missing_token', 'authentication required', 'MissingTokenError'],
    [new InvalidRequestError({ reason: 'r' }), 400, 'invalid_request', 'malformed authorization header', 'InvalidRequestError'],
    [new InvalidTokenError({ reason: 'r' }), 401, 'invalid_token', 'invalid token', 'InvalidTokenError'],
    [new TokenExpiredError({ reason: 'r', expiredAt: new Date(0) }), 401, 'invalid_token', 'token expired', 'TokenExpiredError'],
    [new TokenRevokedError({ reason: 'r' }), 401, 'invalid_token', 'token revoked', 'TokenRevokedError'],
    [new InsufficientScopeError({ reason: 'r', required: ['a'] }), 403, 'insufficient_scope', 'insufficient scope', 'InsufficientScopeError'],
    [new KeySourceUnavailableError({ reason: 'r' }), 503, 'temporarily_unavailable', 'authorization keys unavailable, retry later', 'KeySourceUnavailableError'],
  ] as const)('%s has status %d, code %s and a client-safe description', (error, status, code, description, name) => {
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toBeInstanceOf(Error)
    expect(error.status).toBe(status)
    expect(error.code).toBe(code)
    expect(error.description).toBe(description)
    expect(error.name).toBe(name)
    expect(error.toJSON()).toEqual({ error: code, error_description: description })
  })

  it('keeps the detailed reason as the message, apart from the description', () => {
    const error = new InvalidTokenError({ reason: 'aud mismatch: got "x", expected y', claim: 'aud' })
    expect(error.message).toBe('aud mismatch: got "x", expected y')
    expect(error.reason).toBe(error.message)
    expect(error.description).toBe('invalid token')
    expect(error.claim).toBe('aud')
    expect(JSON.stringify(error.toJSON())).not.toContain('mismatch')
  })

  it('forwards the cause', () => {
    const cause = new Error('socket hang up')
    expect(new KeySourceUnavailableError({ reason: 'r', cause }).cause).toBe(cause)
    expect(new InvalidTokenError({ reason: 'r' }).cause).toBeUndefined()
  })

  it('lets a description override the default', () => {
    expect(new InvalidTokenError({ reason: 'r', description: 'token not yet valid' }).description).toBe('token not yet valid')
  })

  it('gives expired and revoked errors their facts', () => {
    const at = new Date(1_700_000_000_000)
    const expired = new TokenExpiredError({ reason: 'r', expiredAt: at })
    expect(expired).toBeInstanceOf(InvalidTokenError)
    expect(expired.expiredAt).toBe(at)
    expect(expired.claim).toBe('exp')
    expect(new TokenRevokedError({ reason: 'r' }).claim).toBe('jti')
  })

  it('defaults retryAfter to 5 seconds', () => {
    expect(new KeySourceUnavailableError({ reason: 'r' }).retryAfter).toBe(5)
    expect(new KeySourceUnavailableError({ reason: 'r', retryAfter: 30 }).retryAfter).toBe(30)
  })

  describe('wwwAuthenticate (RFC 6750 §3)', () => {
    it('has only the realm for missing credentials', () => {
      expect(new MissingTokenError().wwwAuthenticate()).toBe(`Bearer realm="${DEFAULT_REALM}"`)
      expect(new MissingTokenError().wwwAuthenticate('orders')).toBe('Bearer realm="orders"')
    })

    it('names the error and description otherwise', () => {
      expect(new InvalidRequestError({ reason: 'r' }).wwwAuthenticate()).toBe(
        'Bearer realm="api", error="invalid_request", error_description="malformed authorization header"',
      )
      expect(new TokenExpiredError({ reason: 'r', expiredAt: new Date() }).wwwAuthenticate('x')).toBe(
        'Bearer realm="x", error="invalid_token", error_description="token expired"',
      )
    })

    it('adds the required scopes for a scope failure, and none for a role failure', () => {
      expect(new InsufficientScopeError({ reason: 'r', required: ['a', 'b'], scopes: ['a', 'b'] }).wwwAuthenticate()).toBe(
        'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a b"',
      )
      expect(new InsufficientScopeError({ reason: 'r', required: ['admin'] }).wwwAuthenticate()).toBe(
        'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope"',
      )
    })

    it('sends no challenge for 503', () => {
      expect(new KeySourceUnavailableError({ reason: 'r' }).wwwAuthenticate()).toBeUndefined()
    })

    it('keeps quoted values within the allowed characters', () => {
      const error = new InvalidTokenError({ reason: 'r', description: 'bad "x" \\ é\n' })
      expect(error.wwwAuthenticate('re"alm')).toBe(`Bearer realm="re'alm", error="invalid_token", error_description="bad 'x' ' ??"`)
    })
  })

  describe('isAuthError', () => {
    it('recognizes every class', () => {
      expect(isAuthError(new MissingTokenError())).toBe(true)
      expect(isAuthError(new KeySourceUnavailableError({ reason: 'r' }))).toBe(true)
    })

    it('recognizes an error from a second copy of the package by its Symbol.for brand', () => {
      class ForeignAuthError extends Error {
        status = 401
        code = 'invalid_token'
        constructor() {
          super('from the CJS build')
          Object.defineProperty(this, Symbol.for('bearer-guard.AuthError'), { value: true })
        }
      }
      const foreign = new ForeignAuthError()
      expect(foreign instanceof AuthError).toBe(false)
      expect(isAuthError(foreign)).toBe(true)
    })

    it.each([new Error('x'), new TypeError('x'), null, undefined, 'AuthError', { status: 401, code: 'invalid_token' }, { [Symbol.for('bearer-guard.AuthError')]: 'yes' }])(
      'rejects %j',
      (value) => {
        expect(isAuthError(value)).toBe(false)
      },
    )
  })
})
