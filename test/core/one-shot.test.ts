import { describe, expect, it } from 'vitest'
import { createMemoryRevocationStore, verifyAccessToken, InvalidTokenError, type RevocationStore, type VerifierOptions } from 'bearer-guard'
import type { TestIssuer } from 'bearer-guard/testing'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()
let n = 0

/** An issuer at its own URL (one-shot verifiers share caches across tests), served through msw. */
function serve(): Promise<TestIssuer> {
  return issuers.serve({ issuer: `https://one-shot-${++n}.test`, algorithm: 'ES256' })
}

describe('verifyAccessToken (one-shot)', () => {
  it('shares one JWKS cache between calls with structurally equal options', async () => {
    const issuer = await serve()
    const options = () => ({ issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri, jwks: { timeout: '2s' } })
    await expect(verifyAccessToken(await issuer.sign(), options())).resolves.toMatchObject({ subject: 'user-123' })
    await expect(verifyAccessToken(await issuer.sign({ sub: 'u2' }), options())).resolves.toMatchObject({ subject: 'u2' })
    expect(issuer.requests.jwks).toBe(1)
  })

  it('shares the cache with discovery too', async () => {
    const issuer = await serve()
    await verifyAccessToken(await issuer.sign(), { issuer: issuer.issuer, audience: 'https://api.test' })
    await verifyAccessToken(await issuer.sign(), { issuer: issuer.issuer, audience: 'https://api.test' })
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it('keeps different options apart', async () => {
    const issuer = await serve()
    const token = await issuer.sign()
    await verifyAccessToken(token, { issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri })
    await expect(verifyAccessToken(token, { issuer: issuer.issuer, audience: 'other', jwksUri: issuer.jwksUri })).rejects.toBeInstanceOf(
      InvalidTokenError,
    )
    expect(issuer.requests.jwks).toBe(2)
  })

  it('tells functions apart by identity and URLs by value', async () => {
    const issuer = await serve()
    const roles = () => ['r']
    const base = { issuer: issuer.issuer, audience: 'https://api.test' }
    await verifyAccessToken(await issuer.sign(), { ...base, jwksUri: new URL(issuer.jwksUri), rolesClaim: roles })
    await verifyAccessToken(await issuer.sign(), { ...base, jwksUri: new URL(issuer.jwksUri), rolesClaim: roles })
    expect(issuer.requests.jwks).toBe(1)
    await verifyAccessToken(await issuer.sign(), { ...base, jwksUri: new URL(issuer.jwksUri), rolesClaim: () => ['r'] })
    expect(issuer.requests.jwks).toBe(2)
  })

  it('fetches the JWKS once for 20 calls with a store whose getters change (the Redis store\'s status)', async () => {
    const issuer = await serve()
    let reads = 0
    // the Redis store's shape: methods, and a status getter that answers something new on every read
    const store: RevocationStore & { readonly status: object } = {
      isRevoked: () => false,
      revoke: async () => {},
      get status() {
        return { size: 0, synced: true, stalenessMs: ++reads, stale: false }
      },
    }
    const options: VerifierOptions = { issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri, revocation: store }
    for (let i = 0; i < 20; i++) await verifyAccessToken(await issuer.sign({ sub: `u${i}` }), options)
    expect(issuer.requests.jwks).toBe(1)
  })

  it('fetches the JWKS once for 20 calls with the memory store, revocations in between', async () => {
    const issuer = await serve()
    const revocation = createMemoryRevocationStore()
    const options: VerifierOptions = { issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri, revocation }
    for (let i = 0; i < 20; i++) {
      await verifyAccessToken(await issuer.sign({ sub: `u${i}`, jti: `j${i}` }), options)
      await revocation.revoke(`other-${i}`, new Date(Date.now() + 60_000))
    }
    expect(issuer.requests.jwks).toBe(1)
    // and the store is the one in use: a revoked token is refused
    await revocation.revoke('gone', new Date(Date.now() + 60_000))
    await expect(verifyAccessToken(await issuer.sign({ jti: 'gone' }), options)).rejects.toMatchObject({ description: 'token revoked' })
    expect(issuer.requests.jwks).toBe(1)
  })

  it('tells stores and loggers apart by identity, never by what they hold', async () => {
    const issuer = await serve()
    const base = { issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri }
    const a = createMemoryRevocationStore()
    const b = createMemoryRevocationStore()
    const logger = { warn: () => {} }
    await verifyAccessToken(await issuer.sign(), { ...base, revocation: a, logger })
    await verifyAccessToken(await issuer.sign(), { ...base, revocation: a, logger })
    expect(issuer.requests.jwks).toBe(1)
    // another store with the same (empty) content is another verifier: its revocations differ
    await verifyAccessToken(await issuer.sign(), { ...base, revocation: b, logger })
    expect(issuer.requests.jwks).toBe(2)
    await verifyAccessToken(await issuer.sign(), { ...base, revocation: a, logger: { warn: () => {} } })
    expect(issuer.requests.jwks).toBe(3)
  })

  it('validates the options', async () => {
    await expect(verifyAccessToken('a.b.c', { issuer: 'x', audience: 'y', jku: 'z' } as never)).rejects.toThrow(TypeError)
  })

  it('works with a Uint8Array secret', async () => {
    const hs = await issuers.issue({ algorithm: 'HS256' })
    const secret = new TextEncoder().encode(hs.secret)
    await expect(verifyAccessToken(await hs.sign(), { issuer: hs.issuer, audience: 'https://api.test', secret })).resolves.toMatchObject({
      subject: 'user-123',
      header: { alg: 'HS256' },
    })
  })
})
