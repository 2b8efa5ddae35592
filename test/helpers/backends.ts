/**
 * The crypto backends this runtime offers: `node:crypto` and Web Crypto on Node, Web Crypto only in
 * the edge-runtime environment. Suites run once per backend with `useBackend(backend)`.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { cryptoBackend, setCryptoBackend } from '../../src/core/keys/backend.js'

setCryptoBackend(undefined)
export const BACKENDS: ('node' | 'web')[] = cryptoBackend() === 'node' ? ['node', 'web'] : ['web']

/** Forces `backend` for the enclosing describe, and checks it is really the one in use. */
export function useBackend(backend: 'node' | 'web'): void {
  beforeAll(() => {
    setCryptoBackend(backend)
    expect(cryptoBackend()).toBe(backend)
  })
  afterAll(() => setCryptoBackend(undefined))
}
