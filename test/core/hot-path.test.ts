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
