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

  async function decide(backend: 'node' | 'web', token: string, options: Parameters<typeof createVerifier>[0]): Promise<string> {
    setCryptoBackend(backend)
    try {
      expect(cryptoBackend()).toBe(backend)
      const verifier = createVerifier(options)
      await verifier.verifyAccessToken(token)
      return 'accepted'
    } catch (error) {
      expect(isAuthError(error), String(error)).toBe(true)
      return `${(error as Error).name}: ${(error as Error).message}`
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
  })

  it.each(ALGORITHMS)('same decision for valid and tampered %s tokens', async (algorithm) => {
    const issuer = await createTestIssuer({ algorithm })
    const options = issuer.verifierOptions('keys')
    const token = await issuer.sign()
    const [h, p, s] = parts(token)
    expect(await decide('node', token, options)).toBe('accepted')
    expect(await decide('web', token, options)).toBe('accepted')
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`
    const node = await decide('node', tampered, options)
    expect(node).toMatch(/signature verification failed/)
    expect(await decide('web', tampered, options)).toBe(node)
  })
})
