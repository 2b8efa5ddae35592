/**
 * Limits that turn a mistake into an error at construction instead of a quiet hole at run time:
 * durations with upper bounds, guards that would allow everyone, and keys downgraded to http.
 */
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { createVerifier, KeySourceUnavailableError, roleGuard, scopeGuard, claimsGuard } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { parseDuration } from '../../src/core/duration.js'
import { keyFromJwk } from '../../src/core/keys/jwk.js'
import jwkVectors from '../vectors/wycheproof/json_web_key_test.json'
import { setupMswServer } from '../helpers/msw-server.js'
import { rejection, thrown } from '../helpers/rejection.js'

const msw = setupMswServer()
const base = { issuer: 'https://issuer.test', audience: 'api', secret: 'x'.repeat(32) }

function optionError(options: Record<string, unknown>): string {
  return thrown(() => createVerifier({ ...base, ...options } as never), TypeError).message
}

describe('durations', () => {
  it.each([
    ['clockTolerance', { clockTolerance: '301s' }, /invalid option "clockTolerance": must be at most 300 seconds, got 301/],
    ['jwks.timeout', { jwks: { timeout: '30d' } }, /invalid option "jwks.timeout": must be at most 120 seconds/],
    ['jwks.cooldown', { jwks: { cooldown: '2d' } }, /invalid option "jwks.cooldown": must be at most 86400 seconds/],
    ['jwks.cacheMaxAge', { jwks: { cacheMaxAge: '8d' } }, /invalid option "jwks.cacheMaxAge": must be at most/],
    ['jwks.staleMaxAge', { jwks: { staleMaxAge: '8d' } }, /invalid option "jwks.staleMaxAge": must be at most/],
    ['maxTokenAge', { maxTokenAge: '400d' } , /invalid option "maxTokenAge": must be at most/],
  ])('refuses a %s past its upper bound', (_name, options, message) => {
    expect(optionError(options)).toMatch(message)
  })

  it('accepts each bound itself', () => {
    expect(() =>
      createVerifier({ ...base, clockTolerance: 300, maxTokenAge: '366d', jwks: { timeout: '2m', cooldown: '1d', cacheMaxAge: '7d', staleMaxAge: '1w' } }),
    ).not.toThrow()
  })

  it('reads an overflowing duration as no duration at all', () => {
    expect(parseDuration('1e400s')).toBeUndefined()
    expect(parseDuration('9'.repeat(400))).toBeUndefined()
    expect(optionError({ clockTolerance: '9'.repeat(400) })).toMatch(/invalid option "clockTolerance": expected seconds/)
  })
})

describe('guards', () => {
  it.each([
    ['roleGuard([])', () => roleGuard([])],
    ["roleGuard('')", () => roleGuard('')],
    ['scopeGuard([])', () => scopeGuard([])],
    ['claimsGuard({})', () => claimsGuard({})],
  ])('refuses %s, which would allow every authenticated request', (_name, make) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(/would allow everyone/)
  })
})

describe('discovery', () => {
  it('refuses an https issuer whose metadata names an http jwks_uri (503, never fetched)', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://downgrade.test', algorithm: 'ES256' })
    let jwksFetched = 0
    msw.use(
      http.get('https://downgrade.test/.well-known/openid-configuration', () =>
        HttpResponse.json({ ...issuer.discovery(), jwks_uri: 'http://downgrade.test/jwks.json' }),
      ),
      http.get('http://downgrade.test/jwks.json', () => {
        jwksFetched++
        return HttpResponse.json(issuer.jwks())
      }),
    )
    const warn = vi.fn()
    const verifier = createVerifier(issuer.verifierOptions('discovery', { logger: { warn } }))
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    const downgrade = /jwks_uri http:\/\/downgrade\.test\/jwks\.json is not https like the issuer/
    expect(error.reason).toMatch(downgrade)
    expect(jwksFetched).toBe(0)
    expect(warn).toHaveBeenCalledOnce()
    expect(warn.mock.calls[0]?.[0]).toMatch(downgrade)
  })
})

describe('static keys with and without kid', () => {
  it('verifies a token naming a kid with that key, even next to a key without kid', async () => {
    const named = await createTestIssuer({ algorithm: 'ES256', kid: 'k1' })
    const other = await createTestIssuer({ algorithm: 'ES256' })
    const { kid: _drop, ...anonymous } = other.jwks().keys[0] as Record<string, unknown>
    const verifier = createVerifier({
      issuer: named.verifierOptions().issuer,
      audience: named.verifierOptions().audience,
      keys: [named.jwks().keys[0] as never, anonymous as never],
    })
    await expect(verifier.verifyAccessToken(await named.sign())).resolves.toMatchObject({ subject: 'user-123' })
  })
})

describe('RSA keys with the ROCA fingerprint (CVE-2017-15361)', () => {
  const roca = (jwkVectors as unknown as { testGroups: { comment: string; public?: { keys: Record<string, unknown>[] } }[] })
    .testGroups.find((g) => g.comment === 'jws_rsa_roca_key')?.public?.keys[0]

  it('skips the Wycheproof ROCA key for that reason', () => {
    expect(roca).toBeDefined()
    expect(keyFromJwk(roca)).toEqual({ skipped: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361): factorable' })
  })

  it('keeps ordinary RSA keys', async () => {
    for (let i = 0; i < 10; i++) {
      const { publicKey } = await crypto.subtle.generateKey(
        { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        true,
        ['sign', 'verify'],
      )
      expect(keyFromJwk(await crypto.subtle.exportKey('jwk', publicKey))).toHaveProperty('key')
    }
  })
})
