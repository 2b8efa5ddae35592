import type { JWK } from 'jose'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, InvalidTokenError, TokenExpiredError } from 'bearer-guard'
import { ATTACKS, createFixture, keysOptions, secretOptions, type Fixture } from '../helpers/attack-table.js'
import { BACKENDS, useBackend } from '../helpers/backends.js'
import { freezeClock } from '../helpers/clock.js'
import { b64, b64json, expectRefused, forge, validClaims } from '../helpers/forge.js'

let fx: Fixture
beforeAll(async () => {
  fx = await createFixture()
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe.each(BACKENDS)('attacks through the %s crypto backend', (backend) => {
  useBackend(backend)

  it.each(ATTACKS.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const { token, options } = await attack.make(fx)
    const verifier = createVerifier(options)
    await expectRefused(verifier.verifyAccessToken(token), attack.refusal)
  })

  it('accepts the untampered token of each key type (the table refuses for the stated reason only)', async () => {
    for (const key of [fx.rsa, fx.ec, fx.ec384, fx.ed]) {
      const verifier = createVerifier(keysOptions(key.publicJwk as JWK))
      const auth = await verifier.verifyAccessToken(await forge(key))
      expect(auth.subject).toBe('user-1')
    }
    const hs = createVerifier(secretOptions(fx.hs))
    await expect(hs.verifyAccessToken(await forge(fx.hs))).resolves.toMatchObject({ subject: 'user-1' })
  })

  it('ignores an x5c header on a genuine token: it neither helps nor breaks verification', async () => {
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    const token = await forge(fx.rsa, { header: { x5c: [b64('garbage certificate')], x5u: 'https://evil.test/c' } })
    const auth = await verifier.verifyAccessToken(token)
    expect(auth.header.x5c).toEqual([b64('garbage certificate')])
  })

  it('refuses a 1 MB token on its length, before any decoding or key fetch', async () => {
    const fetchSpy = vi.fn<typeof fetch>(async () => new Response('{"keys":[]}'))
    const verifier = createVerifier({
      issuer: 'https://issuer.forge.test',
      audience: 'api',
      jwksUri: 'https://issuer.forge.test/jwks',
      jwks: { fetch: fetchSpy },
    })
    const segment = 'A'.repeat(350_000)
    const token = `${b64json({ alg: 'RS256' })}${segment}.${segment}.${segment}`
    expect(token.length).toBeGreaterThan(1_000_000)
    const parse = vi.spyOn(JSON, 'parse')
    const atob = vi.spyOn(globalThis, 'atob')
    await expectRefused(verifier.verifyAccessToken(token), { reason: /token of \d{7} bytes exceeds maxTokenLength 8192/ })
    expect(parse).not.toHaveBeenCalled()
    expect(atob).not.toHaveBeenCalled()
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it('refuses a 1 MB Authorization header before extracting the token', async () => {
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    const parse = vi.spyOn(JSON, 'parse')
    await expectRefused(verifier.authenticate(`Bearer ${'a'.repeat(1_000_000)}`), {
      status: 400,
      code: 'invalid_request',
      reason: 'authorization header of 1000007 characters',
    })
    expect(parse).not.toHaveBeenCalled()
  })

  it('throws a TypeError at construction for an HS256 secret under 32 bytes', () => {
    expect(() => createVerifier({ issuer: 'i', audience: 'a', secret: 'x'.repeat(31) })).toThrow(TypeError)
    expect(() => createVerifier({ issuer: 'i', audience: 'a', secret: 'x'.repeat(31) })).toThrow(
      /"secret": must be at least 32 bytes for HS256 .*got 31/,
    )
    // bytes of the UTF-8 encoding count, not characters: 11 × 'é' is 22 bytes
    expect(() => createVerifier({ issuer: 'i', audience: 'a', secret: 'é'.repeat(16) })).not.toThrow()
    expect(() => createVerifier({ issuer: 'i', audience: 'a', secret: 'é'.repeat(15) })).toThrow(/got 30/)
  })

  it('throws a TypeError at construction when the only key is RSA under 2048 bits', () => {
    expect(() => createVerifier(keysOptions(fx.rsa1024.publicJwk as JWK))).toThrow(/no usable verification key \(RSA modulus of 1024 bits\)/)
  })

  it('skips an RSA key under 2048 bits next to a usable one, and warns once', () => {
    const warn = vi.fn()
    createVerifier(keysOptions([fx.rsa1024.publicJwk as JWK, fx.rsa.publicJwk as JWK], { logger: { warn } }))
    expect(warn.mock.calls).toEqual([['bearer-guard: option "keys": key "rsa-1024" skipped: RSA modulus of 1024 bits']])
  })

  it('does not let __proto__ or constructor claims pollute prototypes', async () => {
    const now = Math.floor(Date.now() / 1000)
    const payload =
      `{"iss":"https://issuer.forge.test","aud":"https://api.forge.test","sub":"u","exp":${now + 60},` +
      '"__proto__":{"polluted":"yes","roles":["admin"]},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"realm_access":{"__proto__":{"roles":["admin"]}}}'
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK, { rolesClaim: ['roles', 'realm_access.roles', '__proto__.roles'] }))
    const auth = await verifier.verifyAccessToken(await forge(fx.rsa, { payload }))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(auth.claims)).toBe(Object.prototype)
    expect((auth.claims as Record<string, unknown>).polluted).toBeUndefined()
    // `__proto__` is an own key of the parsed claims, readable as a path but never inherited
    expect(auth.roles).toEqual(['admin'])
    const plain = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    expect((await plain.verifyAccessToken(await forge(fx.rsa, { payload }))).roles).toEqual([])
  })

  it('refuses an exp beyond the range of a Date instead of yielding an invalid expiresAt', async () => {
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    for (const exp of [1e300, 9e15, Number.MAX_SAFE_INTEGER]) {
      await expectRefused(verifier.verifyAccessToken(await forge(fx.rsa, { claims: validClaims({ exp }) })), {
        reason: 'exp is not a valid time',
        claim: 'exp',
      })
    }
  })

  it('refuses an iat far in the past beyond the range of a Date', async () => {
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    await expectRefused(verifier.verifyAccessToken(await forge(fx.rsa, { claims: validClaims({ iat: -1e300 }) })), {
      reason: 'iat is not a valid time',
      claim: 'iat',
    })
  })

  it('accepts a far but representable exp with a valid expiresAt', async () => {
    const verifier = createVerifier(keysOptions(fx.rsa.publicJwk as JWK))
    const auth = await verifier.verifyAccessToken(await forge(fx.rsa, { claims: validClaims({ exp: 253402300799 }) }))
    expect(auth.expiresAt.toISOString()).toBe('9999-12-31T23:59:59.000Z')
  })
})

describe.each(BACKENDS)('clock tolerance at its edges through the %s crypto backend', (backend) => {
  useBackend(backend)
  const T = 1_800_000_000
  const at = (seconds: number) => freezeClock(seconds * 1000)
  const verifier = () => createVerifier(keysOptions(fx.rsa.publicJwk as JWK, { clockTolerance: 30 }))
  const token = (claims: Record<string, unknown>) => forge(fx.rsa, { claims: validClaims({ iat: T - 100, exp: T + 300, ...claims }) })

  it('accepts a token expired by just under the tolerance', async () => {
    const t = await token({ exp: T })
    at(T + 29)
    await expect(verifier().verifyAccessToken(t)).resolves.toMatchObject({ subject: 'user-1' })
  })

  it('refuses a token expired by exactly the tolerance', async () => {
    const t = await token({ exp: T })
    at(T + 30)
    const error = await expectRefused(verifier().verifyAccessToken(t), { error: TokenExpiredError, reason: `exp ${T} is past: now ${T + 30}, tolerance 30s` })
    expect((error as TokenExpiredError).expiredAt.getTime()).toBe(T * 1000)
  })

  it('accepts nbf just within the tolerance', async () => {
    const t = await token({ nbf: T + 30 })
    at(T)
    await expect(verifier().verifyAccessToken(t)).resolves.toMatchObject({ subject: 'user-1' })
  })

  it('refuses nbf just past the tolerance', async () => {
    const t = await token({ nbf: T + 31 })
    at(T)
    const error = await expectRefused(verifier().verifyAccessToken(t), { error: InvalidTokenError, reason: `nbf ${T + 31} is in the future`, claim: 'nbf' })
    expect(error.description).toBe('token not yet valid')
  })

  it('accepts iat just within the tolerance', async () => {
    const t = await token({ iat: T + 30 })
    at(T)
    await expect(verifier().verifyAccessToken(t)).resolves.toMatchObject({ subject: 'user-1' })
  })

  it('refuses iat just past the tolerance', async () => {
    const t = await token({ iat: T + 31 })
    at(T)
    await expectRefused(verifier().verifyAccessToken(t), { reason: `iat ${T + 31} is in the future: now ${T}, tolerance 30s`, claim: 'iat' })
  })

  it('refuses a cached token once it expires', async () => {
    const t = await token({ exp: T })
    const v = verifier()
    at(T - 10)
    await expect(v.verifyAccessToken(t)).resolves.toMatchObject({ subject: 'user-1' })
    at(T + 30)
    await expectRefused(v.verifyAccessToken(t), { error: TokenExpiredError, reason: `exp ${T} is past` })
  })
})
