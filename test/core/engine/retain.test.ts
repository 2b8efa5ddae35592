/**
 * `retain` (src/core/engine/claims.ts): what a cache keeps of a verified token is a copy, equal in
 * every value, frozen as deeply, sharing nothing that `checkClaims` allocated for the request (so
 * that V8 sees those allocation sites' objects die young; see `retain`), and what the verifier
 * answers from the first request on.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { retain, type Verified } from '../../../src/core/engine/claims.js'
import { FrozenDate } from '../../../src/core/engine/freeze.js'
import type { AuthContext } from '../../../src/core/types.js'

function verifiedWith(extra: Partial<AuthContext<unknown>> = {}): Verified {
  const ctx: AuthContext<unknown> = {
    token: 'h.p.s',
    header: Object.freeze({ alg: 'RS256', kid: 'k1' }),
    claims: Object.freeze({ sub: 'alice', scope: 'a b' }),
    subject: 'alice',
    issuer: 'https://issuer.test/',
    audience: Object.freeze(['orders-api']) as string[],
    scopes: Object.freeze(['a', 'b']) as string[],
    roles: Object.freeze(['admin']) as string[],
    expiresAt: new FrozenDate(2_000_000_000_000),
    scheme: 'Bearer',
    ...extra,
  }
  const payload = Object.freeze({ sub: 'alice' })
  return { token: 'h.p.s', ctx: Object.freeze(ctx), payload, cfg: {} as Verified['cfg'], exp: 2_000_000_000, iat: 1_999_999_000, key: { retired: false } as Verified['key'], until: 0 }
}

describe('retain', () => {
  it('copies the entry, the context, its arrays, dates and confirmation; shares the immutable rest', () => {
    // in checkClaims' order: confirmation, then issuedAt
    const v = verifiedWith({ confirmation: Object.freeze({ jkt: 'thumb' }), issuedAt: new FrozenDate(1_999_999_000_000) })
    const kept = retain(v)
    expect(kept).toEqual(v)
    expect(Object.keys(kept.ctx)).toEqual(Object.keys(v.ctx))
    expect(kept).not.toBe(v)
    expect(kept.ctx).not.toBe(v.ctx)
    for (const name of ['audience', 'scopes', 'roles', 'expiresAt', 'issuedAt', 'confirmation'] as const) {
      expect(kept.ctx[name], name).toEqual(v.ctx[name])
      expect(kept.ctx[name], name).not.toBe(v.ctx[name])
    }
    // parsed once, frozen, and not allocated by checkClaims' literals: shared
    expect(kept.ctx.claims).toBe(v.ctx.claims)
    expect(kept.ctx.header).toBe(v.ctx.header)
    expect(kept.payload).toBe(v.payload)
    expect(kept.key).toBe(v.key)
  })

  it('keeps everything frozen: the context, its lists, its confirmation, and dates whose setters throw', () => {
    const kept = retain(verifiedWith({ issuedAt: new FrozenDate(1_999_999_000_000), confirmation: Object.freeze({ 'x5t#S256': 'cert' }) }))
    for (const value of [kept.ctx, kept.ctx.audience, kept.ctx.scopes, kept.ctx.roles, kept.ctx.confirmation]) expect(Object.isFrozen(value)).toBe(true)
    expect(() => kept.ctx.expiresAt.setTime(0)).toThrow(TypeError)
    expect(() => kept.ctx.issuedAt!.setFullYear(1970)).toThrow(TypeError)
    expect(kept.ctx.expiresAt).toBeInstanceOf(Date)
  })

  it('adds no member a context did not have (no issuedAt, no confirmation)', () => {
    const kept = retain(verifiedWith())
    expect('issuedAt' in kept.ctx).toBe(false)
    expect('confirmation' in kept.ctx).toBe(false)
  })

  it('is what the verifier answers from the first request on, and equal to an uncached answer', async () => {
    const issuer = await createTestIssuer({ algorithm: 'ES256' })
    const token = await issuer.sign({ scope: 'orders:read', roles: ['admin'] })
    const cached = createVerifier(issuer.verifierOptions('keys'))
    const first = await cached.verifyAccessToken(token)
    expect(await cached.verifyAccessToken(token)).toBe(first)
    expect(await cached.authenticate(`Bearer ${token}`)).toBe(first)
    const uncached = await createVerifier(issuer.verifierOptions('keys', { cache: false })).verifyAccessToken(token)
    expect(first).toEqual(uncached)
    expect(first).not.toBe(uncached)
  })
})
