import { describe, expect, it, vi } from 'vitest'
import {
  createMemoryRevocationStore,
  createVerifier,
  KeySourceUnavailableError,
  TokenExpiredError,
  TokenRevokedError,
  type IssuerOptions,
  type JWTPayload,
  type RevocationStore,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { FROZEN_AT, useFrozenClock } from '../helpers/clock.js'

const issuer = await createTestIssuer({ algorithm: 'ES256' })
const clock = useFrozenClock()

/** A verifier whose fresh verifications are counted: the roles mapper runs once per signature check. */
function counted(overrides: Partial<IssuerOptions> = {}) {
  const fresh = vi.fn((_claims: JWTPayload) => ['user'])
  const verifier = createVerifier(issuer.verifierOptions('keys', { rolesClaim: fresh, ...overrides }))
  return { verifier, fresh }
}

/**
 * Verifies until the cache serves the token (two calls in a row without a fresh verification).
 * The cache may admit a token on its first or a later verification; either way it must end up a hit.
 */
async function warm(verifier: ReturnType<typeof counted>['verifier'], fresh: ReturnType<typeof counted>['fresh'], token: string) {
  let last = await verifier.verifyAccessToken(token)
  for (let i = 0; i < 3; i++) {
    const before = fresh.mock.calls.length
    const next = await verifier.verifyAccessToken(token)
    if (fresh.mock.calls.length === before) {
      expect(next).toBe(last)
      return next
    }
    last = next
  }
  throw new Error('the cache never served the token')
}

describe('verified-token cache', () => {
  it('does not verify a repeated token again', async () => {
    const { verifier, fresh } = counted()
    const token = await issuer.sign()
    const auth = await warm(verifier, fresh, token)
    const calls = fresh.mock.calls.length
    expect(calls).toBeLessThanOrEqual(2)
    for (let i = 0; i < 5; i++) expect(await verifier.verifyAccessToken(token)).toBe(auth)
    expect(fresh).toHaveBeenCalledTimes(calls)
  })

  it('verifies every time with cache: false', async () => {
    const { verifier, fresh } = counted({ cache: false })
    const token = await issuer.sign()
    const first = await verifier.verifyAccessToken(token)
    const second = await verifier.verifyAccessToken(token)
    expect(second).not.toBe(first)
    expect(second).toEqual(first)
    expect(fresh).toHaveBeenCalledTimes(2)
  })

  it('re-checks exp on a hit', async () => {
    const { verifier, fresh } = counted()
    const token = await issuer.sign({}, { expiresIn: 60 })
    await warm(verifier, fresh, token)
    const calls = fresh.mock.calls.length
    clock.set(FROZEN_AT + 66_000)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenExpiredError)
    expect(fresh).toHaveBeenCalledTimes(calls)
  })

  it('re-checks maxTokenAge on a hit', async () => {
    const { verifier, fresh } = counted({ maxTokenAge: '30s' })
    const token = await issuer.sign({}, { expiresIn: '5m' })
    await warm(verifier, fresh, token)
    clock.set(FROZEN_AT + 36_000)
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ reason: expect.stringMatching(/older than maxTokenAge 30s/) })
  })

  it('consults revocation on a hit', async () => {
    const revocation = createMemoryRevocationStore()
    const { verifier, fresh } = counted({ revocation })
    const token = await issuer.sign({ jti: 'j-hit' })
    const auth = await warm(verifier, fresh, token)
    const calls = fresh.mock.calls.length
    await revocation.revoke('j-hit', auth.expiresAt)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenRevokedError)
    expect(fresh).toHaveBeenCalledTimes(calls)
  })

  it('does not cache failures', async () => {
    let down = true
    const revocation: RevocationStore = {
      isRevoked: () => {
        if (down) throw new Error('store down')
        return false
      },
      revoke: () => {},
    }
    const { verifier, fresh } = counted({ revocation })
    const token = await issuer.sign()
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(KeySourceUnavailableError)
    down = false
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ token, roles: ['user'] })
    expect(fresh).toHaveBeenCalledTimes(2)
  })

  it('does not cache a token that is not yet valid', async () => {
    const { verifier } = counted()
    const token = await issuer.sign({ nbf: Math.floor(FROZEN_AT / 1000) + 60 })
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ description: 'token not yet valid' })
    clock.set(FROZEN_AT + 60_000)
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ token, claims: { nbf: FROZEN_AT / 1000 + 60 } })
  })

  it('once full, takes a token on its second verification: one that never comes back evicts nobody', async () => {
    const { verifier, fresh } = counted({ cache: { max: 1 } })
    const a = await issuer.sign({ sub: 'a' })
    const b = await issuer.sign({ sub: 'b' })
    const cachedA = await warm(verifier, fresh, a)
    const calls = fresh.mock.calls.length
    // b, verified once: the full cache keeps a
    const first = await verifier.verifyAccessToken(b)
    expect(await verifier.verifyAccessToken(a)).toBe(cachedA)
    expect(fresh).toHaveBeenCalledTimes(calls + 1)
    // b again: now it takes the slot, and is served from then on
    const second = await verifier.verifyAccessToken(b)
    expect(second).not.toBe(first)
    expect(await verifier.verifyAccessToken(b)).toBe(second)
    expect(fresh).toHaveBeenCalledTimes(calls + 2)
  })

  it('keeps at most cache.max tokens', async () => {
    const { verifier, fresh } = counted({ cache: { max: 1 } })
    const a = await issuer.sign({ sub: 'a' })
    const b = await issuer.sign({ sub: 'b' })
    await warm(verifier, fresh, a)
    await warm(verifier, fresh, b)
    const calls = fresh.mock.calls.length
    await verifier.verifyAccessToken(a)
    expect(fresh).toHaveBeenCalledTimes(calls + 1)
  })

  it('serves a steady pool of active tokens from the cache, also tokens that share a slot of its index', async () => {
    // 1,000 users, 50 connections each cycling 20 tokens (the HTTP benchmark's pool): with 1,000 small
    // token hashes in the front index, some share a slot; each token must still be verified only while
    // the cache learns the pool, never again afterwards
    const hs = await createTestIssuer({ algorithm: 'HS256' })
    const fresh = vi.fn((_claims: JWTPayload) => ['user'])
    const verifier = createVerifier(hs.verifierOptions('keys', { rolesClaim: fresh }))
    const pool = await Promise.all(Array.from({ length: 1000 }, (_, i) => hs.sign({ sub: `user-${i}` })))
    const round = async () => {
      for (let k = 0; k < 20; k++) for (let c = 0; c < 50; c++) await verifier.verifyAccessToken(pool[c * 20 + k] as string)
    }
    // a token is cached on its second verification; one whose first sighting was forgotten (two
    // tokens sharing the slots of the "seen" filter) on a later one: the pool is learnt in a few rounds
    let quiet = false
    for (let rounds = 0; !quiet && rounds < 8; rounds++) {
      const before = fresh.mock.calls.length
      await round()
      quiet = fresh.mock.calls.length === before
    }
    expect(quiet).toBe(true)
    const learnt = fresh.mock.calls.length
    expect(learnt).toBeLessThan(2 * pool.length + 50)
    for (let r = 0; r < 5; r++) await round()
    expect(fresh.mock.calls.slice(learnt).map(([c]) => c.sub)).toEqual([])
  })

  it('hands out frozen contexts, so one request cannot change another', async () => {
    const { verifier } = counted()
    const auth = await verifier.verifyAccessToken(await issuer.sign({ org: { roles: ['a'] } }))
    expect(() => {
      ;(auth.roles as string[]).push('admin')
    }).toThrow(TypeError)
    expect(Object.isFrozen((auth.claims as { org: { roles: string[] } }).org.roles)).toBe(true)
  })

  it('hands out dates that cannot be changed either, and still behave as dates', async () => {
    const { verifier, fresh } = counted()
    const token = await issuer.sign()
    const auth = await warm(verifier, fresh, token)
    const exp = auth.expiresAt.getTime()
    for (const set of ['setTime', 'setFullYear', 'setUTCHours', 'setMonth', 'setMilliseconds'] as const) {
      expect(() => (auth.expiresAt[set] as (v: number) => number)(0)).toThrow(TypeError)
      expect(() => (auth.issuedAt?.[set] as (v: number) => number)(0)).toThrow(TypeError)
    }
    expect(auth.expiresAt.getTime()).toBe(exp)
    expect(auth.expiresAt).toBeInstanceOf(Date)
    expect(auth.expiresAt).toEqual(new Date(exp))
    expect(JSON.stringify({ at: auth.expiresAt })).toBe(JSON.stringify({ at: new Date(exp) }))
    expect(new Date(auth.expiresAt).setTime(0)).toBe(0)
    // the next request with this token sees the same, unchanged date
    expect((await verifier.verifyAccessToken(token)).expiresAt.getTime()).toBe(exp)
  })
})
