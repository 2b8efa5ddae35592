/**
 * The negative cache (issue 20, target 4): a flood of one token whose signature does not verify
 * costs one signature check, not one per request; a failure that is not the token's own (a key
 * outage, a `kid` the key set does not have yet) is never remembered, and a remembered failure is
 * dropped as soon as the keys that would verify the token change.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createVerifier, KeySourceUnavailableError } from 'bearer-guard'
import type { TestIssuer } from 'bearer-guard/testing'
import { BACKENDS, useBackend } from '../helpers/backends.js'
import { useFrozenClock } from '../helpers/clock.js'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()
const clock = useFrozenClock()
afterEach(() => {
  vi.restoreAllMocks()
})

/** The token with its signature's first character changed: same length, a signature that fails. */
function badSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string]
  return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`
}

/** Counts the signature checks of the backend in use. */
function countVerifications(backend: 'node' | 'web') {
  if (backend === 'web') return vi.spyOn(crypto.subtle, 'verify')
  const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto')
  return vi.spyOn(nodeCrypto as { verify: (...args: unknown[]) => boolean }, 'verify')
}

async function jwksVerifier(issuer: TestIssuer, overrides = {}) {
  const verifier = createVerifier(issuer.verifierOptions('jwks', overrides))
  await verifier.warmUp()
  return verifier
}

describe.each(BACKENDS)('negative cache (%s backend)', (backend) => {
  useBackend(backend)

  it('checks the signature of a flood of one bad token once', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer)
    const bad = badSignature(await issuer.sign())
    const verify = countVerifications(backend)
    for (let i = 0; i < 50; i++) {
      await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ code: 'invalid_token', status: 401, reason: 'signature verification failed' })
    }
    expect(verify).toHaveBeenCalledTimes(1)
    // a good token is still verified, and a second bad one is checked on its own
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ subject: 'user-123' })
    await expect(verifier.verifyAccessToken(badSignature(await issuer.sign({ sub: 'other' })))).rejects.toMatchObject({ status: 401 })
    expect(verify).toHaveBeenCalledTimes(3)
  })

  it('checks every time with cache: false', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer, { cache: false })
    const bad = badSignature(await issuer.sign())
    const verify = countVerifications(backend)
    for (let i = 0; i < 3; i++) await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ status: 401 })
    expect(verify).toHaveBeenCalledTimes(3)
  })

  it('does not remember a key outage: the same token is accepted once the keys come back', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = createVerifier(issuer.verifierOptions('jwks'))
    const token = await issuer.sign()
    issuer.simulate('jwks', 503)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(KeySourceUnavailableError)
    issuer.simulate('jwks', null)
    clock.advance(60) // past the fetch backoff
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ token })
  })

  it('answers a remembered bad signature as any token once the keys are out of date: 503 during an outage', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer, { jwks: { cacheMaxAge: '1m', staleMaxAge: '1m' } })
    const bad = badSignature(await issuer.sign())
    await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ status: 401 })
    issuer.simulate('jwks', 503)
    clock.advance(3 * 60)
    await expect(verifier.verifyAccessToken(bad)).rejects.toBeInstanceOf(KeySourceUnavailableError)
  })

  it('does not remember an unknown kid: a token of a rotated key is accepted once the key set is refetched', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer)
    await issuer.rotateKeys()
    const token = await issuer.sign()
    // the warm-up fetch is recent: within the cooldown, the new kid is unknown
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ status: 401, reason: expect.stringMatching(/cooling down/) })
    clock.advance(31)
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ token })
  })

  it('drops a remembered failure when the key set changes: a token without kid verifies by a new key', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer, { jwks: { cacheMaxAge: '1m' } })
    await issuer.rotateKeys()
    // signed by the new key, named by no kid: the old key set's keys are all tried, and fail
    const token = await issuer.sign({}, { kid: undefined })
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ status: 401, reason: 'signature verification failed' })
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ status: 401, reason: 'signature verification failed' })
    clock.advance(61) // the key set is refetched: it now has the new key
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ token })
  })

  it('drops a remembered failure when its key is retired and another key takes its kid', async () => {
    const issuer = await issuers.serve({ algorithm: 'RS256' })
    const verifier = await jwksVerifier(issuer, { jwks: { cacheMaxAge: '1m' } })
    const verify = countVerifications(backend)
    const bad = badSignature(await issuer.sign())
    await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ status: 401 })
    await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ status: 401 })
    expect(verify).toHaveBeenCalledTimes(1)
    await issuer.rotateKeys({ keepPrevious: false })
    clock.advance(61)
    // the token's kid names no key any more: no signature is checked, the answer is the key set's
    await expect(verifier.verifyAccessToken(bad)).rejects.toMatchObject({ status: 401, reason: expect.stringMatching(/no JWKS key fits/) })
    expect(verify).toHaveBeenCalledTimes(1)
  })
})
