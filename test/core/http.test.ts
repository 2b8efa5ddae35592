import { describe, expect, it } from 'vitest'
import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  KeySourceUnavailableError,
  MissingTokenError,
  TokenExpiredError,
  toErrorResponse,
  toWebResponse,
} from 'bearer-guard'

const common = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

describe('toErrorResponse', () => {
  it('answers missing credentials with 401 and a bare challenge', () => {
    expect(toErrorResponse(new MissingTokenError())).toEqual({
      status: 401,
      headers: { ...common, 'www-authenticate': 'Bearer realm="api"' },
      body: { error: 'missing_token', error_description: 'authentication required' },
    })
  })

  it('answers a malformed header with 400 invalid_request', () => {
    expect(toErrorResponse(new InvalidRequestError({ reason: 'two tokens' }))).toEqual({
      status: 400,
      headers: {
        ...common,
        'www-authenticate': 'Bearer realm="api", error="invalid_request", error_description="malformed authorization header"',
      },
      body: { error: 'invalid_request', error_description: 'malformed authorization header' },
    })
  })

  it('answers an invalid token with 401 invalid_token and leaks no reason', () => {
    const error = new InvalidTokenError({ reason: 'aud mismatch: got "internal-api", expected https://api.test', claim: 'aud' })
    const response = toErrorResponse(error, { realm: 'orders' })
    expect(response).toEqual({
      status: 401,
      headers: { ...common, 'www-authenticate': 'Bearer realm="orders", error="invalid_token", error_description="invalid token"' },
      body: { error: 'invalid_token', error_description: 'invalid token' },
    })
    expect(JSON.stringify(response)).not.toContain('internal-api')
  })

  it('answers an expired token with its own description', () => {
    const response = toErrorResponse(new TokenExpiredError({ reason: 'exp 1 is past', expiredAt: new Date(1000) }))
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="token expired"')
    expect(response.body).toEqual({ error: 'invalid_token', error_description: 'token expired' })
  })

  it('answers a missing scope with 403 and the scope attribute', () => {
    const error = new InsufficientScopeError({ reason: 'need write', required: ['write:data'], scopes: ['write:data'] })
    expect(toErrorResponse(error)).toEqual({
      status: 403,
      headers: {
        ...common,
        'www-authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="write:data"',
      },
      body: { error: 'insufficient_scope', error_description: 'insufficient scope' },
    })
  })

  it('answers an unavailable key source with 503, Retry-After and no challenge', () => {
    const response = toErrorResponse(new KeySourceUnavailableError({ reason: 'JWKS unavailable: GET … answered 500', retryAfter: 7 }))
    expect(response).toEqual({
      status: 503,
      headers: { ...common, 'retry-after': '7' },
      body: { error: 'temporarily_unavailable', error_description: 'authorization keys unavailable, retry later' },
    })
    expect(response.headers).not.toHaveProperty('www-authenticate')
  })

  it('builds the same answer as a Web Response', async () => {
    const response = toWebResponse(new InvalidTokenError({ reason: 'secret detail' }), { realm: 'r' })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="r", error="invalid_token", error_description="invalid token"')
    expect(response.headers.get('cache-control')).toBe('no-store')
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ error: 'invalid_token', error_description: 'invalid token' })
    expect(text).not.toContain('secret detail')
  })
})
