import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createMemoryRevocationStore,
  createVerifier,
  extractBearer,
  TokenExpiredError,
  TokenRevokedError,
  type JWTPayload,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { FROZEN_AT, useFrozenClock } from '../helpers/clock.js'

// The verifier's shortcuts (authenticate's own header parsing, the verified-token cache) must
// decide exactly as the long way does.
const issuer = await createTestIssuer({ algorithm: 'ES256' })
const clock = useFrozenClock()

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (error) {
    return `${(error as Error).constructor.name}`
  }
}

/** The answer a client sees and the reason logged: equal answers, equal outcomes. */
async function answer(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (error) {
    const e = error as { constructor: { name: string }; status?: number; code?: string; reason?: string }
    return `${e.constructor.name} ${e.status} ${e.code} ${e.reason}`
  }
}

describe('authenticate', () => {
  it('reads every header form as extractBearer does, cached or not', async () => {
    const token = await issuer.sign()
    const headers: (string | string[] | undefined)[] = [
      `Bearer ${token}`,
      [`Bearer ${token}`],
      `bearer ${token}`,
      `BEARER ${token}`,
      ` Bearer ${token}`,
      `Bearer ${token} `,
      `Bearer  ${token}`,
      `Bearer\t${token}`,
      `Bearer ${token},x`,
      `Bearer ${token} ${token}`,
      `Bearer ${token}=`,
      `Bearer ${token.replace('.', '+')}`,
      [`Bearer ${token}`, `Bearer ${token}`],
      `Basic ${token}`,
      'Bearer ',
      'Bearer',
      '',
      undefined,
    ]
    for (const cached of [false, true]) {
      const verifier = createVerifier(issuer.verifierOptions('keys'))
      if (cached) {
        await verifier.verifyAccessToken(token)
        await verifier.verifyAccessToken(token)
      }
      for (const header of headers) {
        const expected = await outcome((async () => verifier.verifyAccessToken(extractBearer(header)))())
        expect([header, cached, await outcome(verifier.authenticate(header))]).toEqual([header, cached, expected])
      }
    }
  })

  it('reads a mangled header as extractBearer does, its syntax checked by the JWS reader or not (property)', async () => {
    const token = await issuer.sign()
    const expired = await issuer.sign({}, { expiresIn: -3600 })
    // a token with characters put in (or a dot taken out), behind one of the ways clients write the scheme
    const noise = fc.constantFrom(' ', '\t', ',', '=', '+', '/', '.', '~', '!', '"', '\u00e9', '\u0000', '\r', 'a', '-', '_', ', Bearer x')
    const header = fc.record({
      scheme: fc.constantFrom('Bearer ', 'bearer ', 'Bearer  ', 'Bearer\t', ' Bearer ', 'Bearer', 'Basic ', ''),
      base: fc.constantFrom(token, expired, 'opaque-token', 'a.b.c', `${token}.x.y`),
      edits: fc.array(fc.tuple(fc.nat(), noise), { maxLength: 3 }),
      drop: fc.boolean(),
      tail: fc.constantFrom('', ' ', '\t', '=', ','),
    }).map(({ scheme, base, edits, drop, tail }) => {
      let t = drop ? base.replace('.', '') : base
      for (const [at, c] of edits) t = t.slice(0, at % (t.length + 1)) + c + t.slice(at % (t.length + 1))
      return scheme + t + tail
    })
    const verifiers = [createVerifier(issuer.verifierOptions('keys')), createVerifier(issuer.verifierOptions('keys'))]
    await verifiers[1]!.verifyAccessToken(token)
    await verifiers[1]!.verifyAccessToken(token)
    await fc.assert(
      fc.asyncProperty(header, fc.nat(1), async (value, which) => {
        const verifier = verifiers[which]!
        const expected = await answer((async () => verifier.verifyAccessToken(extractBearer(value)))())
        expect([value, await answer(verifier.authenticate(value))]).toEqual([value, expected])
        expect([value, await answer(verifier.authenticateRequest({ method: 'GET', url: 'https://api.example/', headers: { authorization: value, dpop: undefined } }))]).toEqual([value, expected])
      }),
      { numRuns: 400 },
    )
  })
})

describe('verified-token cache hits', () => {
  it('re-check exp when served through authenticate', async () => {
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const token = await issuer.sign({}, { expiresIn: 60 })
    await verifier.authenticate(`Bearer ${token}`)
    await verifier.authenticate(`Bearer ${token}`)
    clock.set(FROZEN_AT + 66_000)
    await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toBeInstanceOf(TokenExpiredError)
  })

  it('ask the revocation store with the raw jti when a claims schema drops it', async () => {
    const revocation = createMemoryRevocationStore()
    const claims = z.object({ sub: z.string() }).transform((c) => ({ user: c.sub }))
    const verifier = createVerifier({ ...issuer.verifierOptions('keys'), revocation, claims })
    const token = await issuer.sign({ jti: 'j-schema' })
    const first = await verifier.verifyAccessToken(token)
    expect(first.claims).toEqual({ user: 'user-123' })
    await verifier.verifyAccessToken(token)
    await revocation.revoke('j-schema', first.expiresAt)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenRevokedError)
    await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toBeInstanceOf(TokenRevokedError)
  })

  it('serve the same context for the same token, and never for another one', async () => {
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const a = await issuer.sign({ sub: 'a' })
    const b = await issuer.sign({ sub: 'b' })
    for (let i = 0; i < 3; i++) {
      expect((await verifier.authenticate(`Bearer ${a}`)).subject).toBe('a')
      expect((await verifier.verifyAccessToken(b)).subject).toBe('b')
    }
  })

  it('stop once the token expires, also from a long-lived cache entry', async () => {
    const verifier = createVerifier(issuer.verifierOptions('keys', { clockTolerance: 0 }))
    const token = await issuer.sign({} as JWTPayload, { expiresIn: 10 })
    for (let i = 0; i < 3; i++) await verifier.verifyAccessToken(token)
    clock.set(FROZEN_AT + 10_000)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenExpiredError)
  })
})
