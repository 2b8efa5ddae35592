/**
 * Node only: the two backends side by side (edge runtimes have Web Crypto alone, see the edge project).
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, isAuthError } from 'bearer-guard'
import { createTestIssuer, type TestAlgorithm } from 'bearer-guard/testing'
import { cryptoBackend, setCryptoBackend } from '../../src/core/keys/backend.js'
import { ATTACKS, createFixture, type Fixture } from '../helpers/attack-table.js'
import { parts } from '../helpers/forge.js'

const ALGORITHMS: TestAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512']

afterEach(() => {
  vi.restoreAllMocks()
})

describe('node:crypto and Web Crypto decide alike', () => {
  let fx: Fixture
  beforeAll(async () => {
    fx = await createFixture()
  })

  /** `threadpool`: node:crypto with the `threadpool` option (the signature checked on libuv's threadpool). */
  async function decide(mode: 'node' | 'web' | 'threadpool', token: string, options: Parameters<typeof createVerifier>[0]): Promise<string> {
    const backend = mode === 'web' ? 'web' : 'node'
    setCryptoBackend(backend)
    try {
      expect(cryptoBackend()).toBe(backend)
      const verifier = createVerifier(mode === 'threadpool' ? { ...options, threadpool: true } : options)
      await verifier.verifyAccessToken(token)
      return 'accepted'
    } catch (error) {
      expect(isAuthError(error), String(error)).toBe(true)
      // the reason names the clock's second ("now 1796411812"), which may tick between two backends'
      // calls: the decision is the name and the reason without it
      return `${(error as Error).name}: ${(error as Error).message.replace(/\bnow \d+/, 'now <t>')}`
    } finally {
      setCryptoBackend(undefined)
    }
  }

  it.each(ATTACKS.map((a) => [a.name, a] as const))('same decision: %s', async (_name, attack) => {
    const { token, options } = await attack.make(fx)
    const node = await decide('node', token, options)
    const web = await decide('web', token, options)
    expect(node).not.toBe('accepted')
    expect(web).toBe(node)
    expect(await decide('threadpool', token, options)).toBe(node)
  })

  it.each(ALGORITHMS)('same decision for valid and tampered %s tokens', async (algorithm) => {
    const issuer = await createTestIssuer({ algorithm })
    const options = issuer.verifierOptions('keys')
    const token = await issuer.sign()
    const [h, p, s] = parts(token)
    expect(await decide('node', token, options)).toBe('accepted')
    expect(await decide('web', token, options)).toBe('accepted')
    expect(await decide('threadpool', token, options)).toBe('accepted')
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`
    const node = await decide('node', tampered, options)
    expect(node).toMatch(/signature verification failed/)
    expect(await decide('web', tampered, options)).toBe(node)
    expect(await decide('threadpool', tampered, options)).toBe(node)
  })
})

describe('threadpool: true', () => {
  const nodeCrypto = process.getBuiltinModule('node:crypto') as typeof import('node:crypto')

  it('hands the signature to crypto.verify with a callback, and the event loop runs meanwhile', async () => {
    const issuer = await createTestIssuer({ algorithm: 'RS256' })
    const verifier = createVerifier({ ...issuer.verifierOptions('keys'), threadpool: true })
    const token = await issuer.sign()
    const spy = vi.spyOn(nodeCrypto, 'verify')
    let ticked = false
    setImmediate(() => (ticked = true))
    const pending = verifier.verifyAccessToken(token)
    // a synchronous verification would have finished before any callback could run
    expect(spy).toHaveBeenCalledTimes(1)
    expect(typeof spy.mock.calls[0]![4]).toBe('function')
    expect((await pending).subject).toBe('user-123')
    expect(ticked).toBe(true)
  })

  it('keeps HMAC on the event loop, and the cache and the negative cache in front of the pool', async () => {
    const hs = await createTestIssuer({ algorithm: 'HS256' })
    const spy = vi.spyOn(nodeCrypto, 'verify')
    await createVerifier({ ...hs.verifierOptions('keys'), threadpool: true }).verifyAccessToken(await hs.sign())
    expect(spy).not.toHaveBeenCalled()
    const rs = await createTestIssuer({ algorithm: 'ES256' })
    const verifier = createVerifier({ ...rs.verifierOptions('keys'), threadpool: true })
    const token = await rs.sign()
    const [h, p, s] = parts(token)
    const bad = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`
    for (let i = 0; i < 3; i++) {
      await verifier.verifyAccessToken(token)
      await expect(verifier.verifyAccessToken(bad)).rejects.toThrow(/signature verification failed/)
    }
    // one verification per token: the cached answers were served without the pool
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it('is a boolean for the whole verifier', () => {
    expect(() => createVerifier({ issuer: 'https://a.example', audience: 'api', jwksUri: 'https://a.example/jwks', threadpool: 'yes' as never })).toThrow(TypeError)
    expect(() =>
      createVerifier({ issuers: [{ issuer: 'https://a.example', audience: 'api', jwksUri: 'https://a.example/jwks', threadpool: true } as never] }),
    ).toThrow(/threadpool/)
  })
})
