import { describe, expect, it } from 'vitest'
import { base64url } from 'jose'
import { createVerifier, type AuthError, type IssuerOptions, type Verifier } from 'bearer-guard'
import {
  fastapiAccessToken,
  fastapiRefreshToken,
  flaskJwtExtendedToken,
  pyjwtEncode,
  randomSecret,
  simplejwtToken,
} from './python-tokens.js'
import { rejection } from '../helpers/rejection.js'

async function refusal(verifier: Verifier<unknown>, token: string): Promise<AuthError & { claim?: string }> {
  return rejection(verifier.verifyAccessToken(token))
}

describe('tokens of the seed FastAPI auth service (PyJWT, HS256, sub + roles + exp)', () => {
  const secret = randomSecret(32)
  const options: IssuerOptions = {
    secret,
    algorithms: ['HS256'],
    issuer: false, // the seed's tokens have no iss: explicit opt-out
    audience: false, // and no aud: explicit opt-out
    requiredClaims: ['roles'], // the seed's refresh tokens have no roles: refused as access tokens
  }

  it('are shaped like PyJWT output: header {"alg":"HS256","typ":"JWT"}, no iss, aud, iat or jti', async () => {
    const token = await fastapiAccessToken(secret, 'alice', ['user'])
    const [header, payload] = token.split('.').map((p) => new TextDecoder().decode(base64url.decode(p)))
    expect(header).toBe('{"alg":"HS256","typ":"JWT"}')
    expect(Object.keys(JSON.parse(payload as string))).toEqual(['sub', 'roles', 'exp'])
  })

  it('are accepted with issuer: false and audience: false, with sub and roles', async () => {
    const verifier = createVerifier(options)
    const auth = await verifier.verifyAccessToken(await fastapiAccessToken(secret, 'bob', ['user', 'admin']))
    expect(auth.subject).toBe('bob')
    expect(auth.roles).toEqual(['user', 'admin'])
    expect(auth.issuer).toBeUndefined()
    expect(auth.audience).toEqual([])
  })

  it('refuses the seed refresh token (sub + exp only) as an access token with requiredClaims: ["roles"]', async () => {
    const verifier = createVerifier(options)
    const error = await refusal(verifier, await fastapiRefreshToken(secret, 'bob'))
    expect(error).toMatchObject({ status: 401, code: 'invalid_token', claim: 'roles', reason: 'required claim "roles" missing' })
  })

  it('would accept the refresh token without that requirement: why the docs insist on it', async () => {
    const lax = createVerifier({ secret, issuer: false, audience: false })
    expect((await lax.verifyAccessToken(await fastapiRefreshToken(secret, 'bob'))).subject).toBe('bob')
  })

  it('refuses tokens signed with another secret, expired tokens and alg none', async () => {
    const verifier = createVerifier(options)
    expect(await refusal(verifier, await fastapiAccessToken(randomSecret(32), 'bob', ['admin']))).toMatchObject({
      code: 'invalid_token',
      reason: 'signature verification failed',
    })
    expect(await refusal(verifier, await fastapiAccessToken(secret, 'bob', ['admin'], -10))).toMatchObject({ claim: 'exp' })
    const [, payload] = (await fastapiAccessToken(secret, 'bob', ['admin'])).split('.')
    const none = `${base64url.encode('{"alg":"none","typ":"JWT"}')}.${payload}.`
    expect(await refusal(verifier, none)).toMatchObject({ code: 'invalid_token' })
  })

  it('refuses the seed default secret: public and shorter than 32 bytes', () => {
    expect(() => createVerifier({ secret: 'your-super-secret-key-for-auth', issuer: false, audience: false })).toThrow(
      /invalid option "secret": must be at least 32 bytes for HS256.*got 30/,
    )
  })

  it('requires issuer and audience to be given: omitting them is a configuration error', () => {
    expect(() => createVerifier({ secret } as never)).toThrow(/"issuer".*is required/)
  })

  it('checks iss and aud once the auth service adds them (the recommended fix)', async () => {
    const verifier = createVerifier({ secret, issuer: 'auth-service', audience: 'orders-service', tokenType: { claim: 'type', value: 'access' } })
    const exp = Math.floor(Date.now() / 1000) + 60
    const good = await pyjwtEncode({ sub: 'bob', roles: ['admin'], type: 'access', iss: 'auth-service', aud: 'orders-service', exp }, secret)
    expect((await verifier.verifyAccessToken(good)).roles).toEqual(['admin'])
    const forBilling = await pyjwtEncode({ sub: 'bob', roles: ['admin'], type: 'access', iss: 'auth-service', aud: 'billing-service', exp }, secret)
    expect(await refusal(verifier, forBilling)).toMatchObject({ claim: 'aud' })
    const refresh = await pyjwtEncode({ sub: 'bob', type: 'refresh', iss: 'auth-service', aud: 'orders-service', exp }, secret)
    expect(await refusal(verifier, refresh)).toMatchObject({ claim: 'type' })
  })
})

describe('djangorestframework-simplejwt tokens (token_type, user_id, jti, HS256)', () => {
  const secret = 'django-insecure-' + randomSecret(36) // simplejwt signs with settings.SECRET_KEY by default
  const verifier = createVerifier({
    secret,
    issuer: false, // simplejwt sets iss/aud only when ISSUER/AUDIENCE are configured
    audience: false,
    subjectClaim: 'user_id',
    tokenType: { claim: 'token_type', value: 'access' },
  })

  it('accepts an access token; the numeric user_id becomes the subject string', async () => {
    const auth = await verifier.verifyAccessToken(await simplejwtToken(secret, 'access', 42))
    expect(auth.subject).toBe('42')
    expect(auth.claims).toMatchObject({ token_type: 'access', user_id: 42, jti: expect.stringMatching(/^[0-9a-f]{32}$/) })
    expect(auth.issuedAt).toBeInstanceOf(Date)
  })

  it('refuses a refresh token as an access token', async () => {
    expect(await refusal(verifier, await simplejwtToken(secret, 'refresh', 42))).toMatchObject({
      status: 401,
      claim: 'token_type',
      reason: expect.stringMatching(/token type claim "token_type" is "refresh", expected "access"/),
    })
  })

  it('refuses a token without user_id (e.g. a sliding token for another user model)', async () => {
    const token = await pyjwtEncode({ token_type: 'access', exp: Math.floor(Date.now() / 1000) + 60, jti: 'x' }, secret)
    expect(await refusal(verifier, token)).toMatchObject({ claim: 'user_id' })
  })

  it('checks AUDIENCE and ISSUER when the Django settings set them', async () => {
    const strict = createVerifier({ secret, issuer: 'https://django.example.com', audience: 'orders', subjectClaim: 'user_id', tokenType: { claim: 'token_type', value: 'access' } })
    const token = await simplejwtToken(secret, 'access', 7, { aud: 'orders', iss: 'https://django.example.com' })
    expect((await strict.verifyAccessToken(token)).subject).toBe('7')
    expect(await refusal(strict, await simplejwtToken(secret, 'access', 7))).toMatchObject({ claim: 'iss' })
  })
})

describe('Flask-JWT-Extended tokens (type, sub, fresh, jti, nbf, csrf)', () => {
  const secret = randomSecret(48)
  const verifier = createVerifier({
    secret,
    issuer: false, // JWT_DECODE_ISSUER / JWT_ENCODE_ISSUER unset by default
    audience: false, // JWT_DECODE_AUDIENCE / JWT_ENCODE_AUDIENCE unset by default
    tokenType: { claim: 'type', value: 'access' },
  })

  it('accepts an access token with roles from additional_claims', async () => {
    const token = await flaskJwtExtendedToken(secret, 'access', 'alice', { fresh: true, csrf: true, additional: { roles: ['editor'] } })
    const auth = await verifier.verifyAccessToken(token)
    expect(auth.subject).toBe('alice')
    expect(auth.roles).toEqual(['editor'])
    expect(auth.claims).toMatchObject({ fresh: true, type: 'access', csrf: expect.any(String) })
  })

  it('refuses a refresh token as an access token', async () => {
    expect(await refusal(verifier, await flaskJwtExtendedToken(secret, 'refresh', 'alice'))).toMatchObject({ claim: 'type' })
  })

  it('exposes fresh for routes that need a fresh login (fresh: true or a future timestamp)', async () => {
    const isFresh = (c: Record<string, unknown>) => c.fresh === true || (typeof c.fresh === 'number' && c.fresh > Date.now() / 1000)
    const stale = await verifier.verifyAccessToken(await flaskJwtExtendedToken(secret, 'access', 'alice'))
    expect(isFresh(stale.claims as Record<string, unknown>)).toBe(false)
    const until = Math.floor(Date.now() / 1000) + 600
    const fresh = await verifier.verifyAccessToken(await flaskJwtExtendedToken(secret, 'access', 'alice', { fresh: until }))
    expect(isFresh(fresh.claims as Record<string, unknown>)).toBe(true)
  })

  it('refuses a token whose nbf is in the future', async () => {
    const t = Math.floor(Date.now() / 1000)
    const token = await pyjwtEncode({ fresh: false, iat: t, jti: 'j', type: 'access', sub: 'alice', nbf: t + 120, exp: t + 900 }, secret)
    expect(await refusal(verifier, token)).toMatchObject({ claim: 'nbf' })
  })
})
