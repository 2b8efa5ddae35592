import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
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

const issuer = await createTestIssuer({ algorithm: 'ES256' })
let now = Date.UTC(2030, 0, 1)

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  now = Date.UTC(2030, 0, 1)
  vi.setSystemTime(now)
})
afterEach(() => vi.useRealTimers())

/** A verifier whose fresh verifications are counted: the roles mapper runs once per signature check. */
function counted(overrides: Partial<IssuerOptions> = {}) {
  const fresh = vi.fn((_claims: JWTPayload) => ['user'])
  const verifier = createVerifier(issuer.verifierOptions('keys', { rolesClaim: fresh, ...overrides }))
  return { verifier, fresh }
}

describe('verified-token cache', () => {
  it('does not verify the same token twice', async () => {
    const { verifier, fresh } = counted()
    const token = await issuer.sign()
    const first = await verifier.verifyAccessToken(token)
    const second = await verifier.verifyAccessToken(token)
    expect(second).toBe(first)
    expect(fresh).toHaveBeenCalledOnce()
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
    await verifier.verifyAccessToken(token)
    vi.setSystemTime(now + 66_000)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenExpiredError)
    expect(fresh).toHaveBeenCalledOnce()
  })

  it('re-checks maxTokenAge on a hit', async () => {
    const { verifier } = counted({ maxTokenAge: '30s' })
    const token = await issuer.sign({}, { expiresIn: '5m' })
    await verifier.verifyAccessToken(token)
    vi.setSystemTime(now + 36_000)
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ reason: expect.stringMatching(/older than maxTokenAge 30s/) })
  })

  it('consults revocation on a hit', async () => {
    const revocation = createMemoryRevocationStore()
    const { verifier, fresh } = counted({ revocation })
    const token = await issuer.sign({ jti: 'j-hit' })
    const auth = await verifier.verifyAccessToken(token)
    await revocation.revoke('j-hit', auth.expiresAt)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenRevokedError)
    expect(fresh).toHaveBeenCalledOnce()
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
    await expect(verifier.verifyAccessToken(token)).resolves.toBeDefined()
    expect(fresh).toHaveBeenCalledTimes(2)
  })

  it('does not cache a token that is not yet valid', async () => {
    const { verifier } = counted()
    const token = await issuer.sign({ nbf: Math.floor(now / 1000) + 60 })
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ description: 'token not yet valid' })
    vi.setSystemTime(now + 60_000)
    await expect(verifier.verifyAccessToken(token)).resolves.toBeDefined()
  })

  it('keeps at most cache.max tokens', async () => {
    const { verifier, fresh } = counted({ cache: { max: 1 } })
    const a = await issuer.sign({ sub: 'a' })
    const b = await issuer.sign({ sub: 'b' })
    await verifier.verifyAccessToken(a)
    await verifier.verifyAccessToken(b)
    await verifier.verifyAccessToken(a)
    expect(fresh).toHaveBeenCalledTimes(3)
  })

  it('hands out frozen contexts, so one request cannot change another', async () => {
    const { verifier } = counted()
    const auth = await verifier.verifyAccessToken(await issuer.sign({ org: { roles: ['a'] } }))
    expect(() => {
      ;(auth.roles as string[]).push('admin')
    }).toThrow(TypeError)
    expect(Object.isFrozen((auth.claims as { org: { roles: string[] } }).org.roles)).toBe(true)
  })
})
