import { describe, expect, it, vi } from 'vitest'
import { REVOCATION_SLACK_MS } from '../../src/core/limits.js'
import { MAX_DURATIONS } from '../../src/core/limits.js'
import {
  createMemoryRevocationStore,
  createVerifier,
  KeySourceUnavailableError,
  TokenRevokedError,
  toErrorResponse,
  type RevocationStore,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { FROZEN_AT, freezeClock } from '../helpers/clock.js'
import { rejection } from '../helpers/rejection.js'

const issuer = await createTestIssuer({ algorithm: 'ES256' })

describe('createMemoryRevocationStore', () => {
  it('remembers a revoked jti until the token expires', () => {
    const store = createMemoryRevocationStore()
    store.revoke('j1', new Date(Date.now() + 60_000))
    expect(store.isRevoked('j1', {})).toBe(true)
    expect(store.isRevoked('j2', {})).toBe(false)
    expect(store.size).toBe(1)
  })

  it('does not keep a jti whose token has long expired', () => {
    const store = createMemoryRevocationStore()
    store.revoke('old', new Date(Date.now() - REVOCATION_SLACK_MS - 1_000))
    expect(store.isRevoked('old', {})).toBe(false)
    expect(store.size).toBe(0)
  })

  it('drops an entry once its token has expired (plus the slack of the largest clock tolerance)', () => {
    freezeClock(FROZEN_AT, { timers: true })
    const store = createMemoryRevocationStore()
    store.revoke('soon', new Date(Date.now() - REVOCATION_SLACK_MS + 50))
    vi.advanceTimersByTime(49)
    expect(store.isRevoked('soon', {})).toBe(true)
    vi.advanceTimersByTime(2)
    expect(store.isRevoked('soon', {})).toBe(false)
  })

  it('takes its slack from the leaf limits.ts, equal to the largest clockTolerance options.ts accepts', () => {
    expect(REVOCATION_SLACK_MS).toBe(MAX_DURATIONS.clockTolerance * 1000)
  })

  it('keeps an entry for the largest clockTolerance a verifier accepts past exp, not less', () => {
    freezeClock(FROZEN_AT, { timers: true })
    const store = createMemoryRevocationStore()
    const exp = Date.now() + 1000
    store.revoke('edge', new Date(exp))
    vi.setSystemTime(exp + REVOCATION_SLACK_MS - 1)
    vi.advanceTimersByTime(0)
    expect(store.isRevoked('edge', {})).toBe(true)
    vi.advanceTimersByTime(2)
    expect(store.isRevoked('edge', {})).toBe(false)
  })

  it('accepts expiresAt as a NumericDate in seconds (claims.exp), like a Date', () => {
    freezeClock(FROZEN_AT, { timers: true })
    const store = createMemoryRevocationStore()
    const exp = Math.floor(Date.now() / 1000) + 60
    store.revoke('by-seconds', exp)
    store.revoke('by-date', new Date(exp * 1000))
    expect(store.isRevoked('by-seconds', {})).toBe(true)
    vi.advanceTimersByTime(60_000 + REVOCATION_SLACK_MS - 1)
    expect([store.isRevoked('by-seconds', {}), store.isRevoked('by-date', {})]).toEqual([true, true])
    vi.advanceTimersByTime(2)
    expect([store.isRevoked('by-seconds', {}), store.isRevoked('by-date', {})]).toEqual([false, false])
  })

  it('refuses a millisecond number with a TypeError naming the fix, instead of reading it as seconds', () => {
    const store = createMemoryRevocationStore()
    expect(() => store.revoke('ms', Date.now() + 60_000)).toThrow(
      /bearer-guard: revoke\(\) expiresAt \d+ looks like milliseconds: pass seconds \(claims\.exp\) or a Date/,
    )
    expect(store.size).toBe(0)
  })

  it.each([
    ['an invalid Date', new Date('nope')],
    ['NaN', Number.NaN],
    ['a negative number', -1],
    ['a string', '1700000000'],
    ['nothing', undefined],
  ])('refuses %s as expiresAt with a TypeError naming the accepted forms', (_name, expiresAt) => {
    const store = createMemoryRevocationStore()
    expect(() => store.revoke('j', expiresAt as never)).toThrow(TypeError)
    expect(() => store.revoke('j', expiresAt as never)).toThrow(
      /bearer-guard: revoke\(\) needs expiresAt as a Date or a NumericDate in seconds \(auth\.expiresAt or claims\.exp\)/,
    )
  })

  it('is bounded by max', () => {
    const store = createMemoryRevocationStore({ max: 2 })
    const exp = new Date(Date.now() + 60_000)
    store.revoke('a', exp)
    store.revoke('b', exp)
    store.revoke('c', exp)
    expect(store.size).toBe(2)
    expect(store.isRevoked('a', {})).toBe(false)
    expect(store.isRevoked('c', {})).toBe(true)
  })

  it('validates its arguments', () => {
    expect(() => createMemoryRevocationStore({ max: 0 })).toThrow(/invalid option "max"/)
    expect(() => createMemoryRevocationStore({ max: 1.5 })).toThrow(TypeError)
    expect(() => createMemoryRevocationStore().revoke('', new Date(Date.now() + 1000))).toThrow(/needs a jti string/)
  })
})

describe('revocation in the verifier', () => {
  it('rejects a revoked jti with TokenRevokedError (401)', async () => {
    const revocation = createMemoryRevocationStore()
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation }))
    const auth = await verifier.verifyAccessToken(await issuer.sign({ jti: 'other' }))
    const token = await issuer.sign({ jti: 'revoked-1' })
    await revocation.revoke('revoked-1', auth.expiresAt)
    const error = await rejection(verifier.verifyAccessToken(token))
    expect(error).toBeInstanceOf(TokenRevokedError)
    expect(error.status).toBe(401)
    expect(error.description).toBe('token revoked')
    expect(error.reason).toBe('jti "revoked-1" is revoked')
    expect(toErrorResponse(error).headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="token revoked"',
    )
  })

  it('consults the store after the signature and claims are valid, with the claims', async () => {
    const store: RevocationStore = { isRevoked: vi.fn(async () => false), revoke: vi.fn() }
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: store }))
    await rejection(verifier.verifyAccessToken(await issuer.expired({ jti: 'x' })))
    expect(store.isRevoked).not.toHaveBeenCalled()
    await verifier.verifyAccessToken(await issuer.sign({ jti: 'j', tenant: 't' }))
    expect(store.isRevoked).toHaveBeenCalledWith('j', expect.objectContaining({ jti: 'j', tenant: 't' }))
  })

  it('does not consult the store for a token without jti', async () => {
    const store: RevocationStore = { isRevoked: vi.fn(() => true), revoke: vi.fn() }
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: store }))
    const none = await verifier.verifyAccessToken(await issuer.sign({ jti: undefined }))
    expect(none.claims).not.toHaveProperty('jti')
    await expect(verifier.verifyAccessToken(await issuer.sign({ jti: 42 }))).resolves.toMatchObject({ claims: { jti: 42 } })
    expect(store.isRevoked).not.toHaveBeenCalled()
  })

  it('answers 503 when the store throws, without blaming the token', async () => {
    const store: RevocationStore = {
      isRevoked: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
      revoke: () => {},
    }
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: store }))
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.status).toBe(503)
    expect(error.reason).toBe('revocation store failed: ECONNREFUSED 127.0.0.1:6379')
    expect(toErrorResponse(error).headers['retry-after']).toBe('5')
  })

  it('passes through an AuthError thrown by the store', async () => {
    const own = new TokenRevokedError({ reason: 'family revoked' })
    const store: RevocationStore = {
      isRevoked: () => {
        throw own
      },
      revoke: () => {},
    }
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: store }))
    expect(await rejection(verifier.verifyAccessToken(await issuer.sign()))).toBe(own)
  })
})
