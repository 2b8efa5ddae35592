import { describe, expect, it } from 'vitest'
import {
  assertClaims,
  assertRoles,
  assertScopes,
  claimsGuard,
  hasClaims,
  hasRole,
  hasScopes,
  InsufficientScopeError,
  MissingTokenError,
  roleGuard,
  scopeGuard,
  type AuthContext,
} from 'bearer-guard'
import { thrown } from '../helpers/rejection.js'

function auth(overrides: Partial<AuthContext<Record<string, unknown>>> = {}): AuthContext<Record<string, unknown>> {
  return {
    token: 't',
    header: { alg: 'ES256' },
    claims: { sub: 'u1', tenant: 'acme', groups: ['a', 'b'], org: { plan: 'pro' }, level: 3 },
    subject: 'u1',
    issuer: 'https://issuer.test',
    audience: ['api'],
    scopes: ['read:data', 'write:data'],
    roles: ['user', 'editor'],
    expiresAt: new Date(Date.now() + 60_000),
    ...overrides,
  }
}


describe('hasRole / hasScopes', () => {
  it('needs all listed values by default', () => {
    expect(hasRole(auth(), 'editor')).toBe(true)
    expect(hasRole(auth(), ['user', 'editor'])).toBe(true)
    expect(hasRole(auth(), ['user', 'admin'])).toBe(false)
    expect(hasScopes(auth(), ['read:data', 'write:data'])).toBe(true)
    expect(hasScopes(auth(), ['read:data', 'delete:data'])).toBe(false)
  })

  it('needs one listed value with { any: true }', () => {
    expect(hasRole(auth(), ['admin', 'editor'], { any: true })).toBe(true)
    expect(hasRole(auth(), ['admin', 'root'], { any: true })).toBe(false)
    expect(hasScopes(auth(), ['delete:data', 'read:data'], { any: true })).toBe(true)
  })

  it('passes an empty requirement', () => {
    expect(hasRole(auth(), [])).toBe(true)
  })

  it('is false without auth', () => {
    expect(hasRole(undefined, 'user')).toBe(false)
    expect(hasScopes(null, 'read:data')).toBe(false)
    expect(hasClaims(undefined, { tenant: 'acme' })).toBe(false)
  })

  it('compares exactly (no prefix or case folding)', () => {
    expect(hasRole(auth(), 'Editor')).toBe(false)
    expect(hasScopes(auth(), 'read')).toBe(false)
  })
})

describe('hasClaims', () => {
  it('matches { claim: value } pairs, dot paths, and membership in array claims', () => {
    expect(hasClaims(auth(), { tenant: 'acme' })).toBe(true)
    expect(hasClaims(auth(), { tenant: 'other' })).toBe(false)
    expect(hasClaims(auth(), { 'org.plan': 'pro' })).toBe(true)
    expect(hasClaims(auth(), { groups: 'b' })).toBe(true)
    expect(hasClaims(auth(), { groups: 'c' })).toBe(false)
    expect(hasClaims(auth(), { groups: ['a', 'b'] })).toBe(true)
    expect(hasClaims(auth(), { groups: ['b', 'a'] })).toBe(false)
    expect(hasClaims(auth(), { level: '3' })).toBe(false)
    expect(hasClaims(auth(), { tenant: 'acme', level: 3 })).toBe(true)
  })

  it('runs a predicate, which must return exactly true', () => {
    expect(hasClaims(auth(), (c) => c.level === 3)).toBe(true)
    expect(hasClaims(auth(), (_c, a) => a.subject === 'u2')).toBe(false)
    expect(hasClaims(auth(), (() => 'yes') as never)).toBe(false)
  })
})

describe('assertRoles / assertScopes / assertClaims', () => {
  it('answer 401 without an authenticated request', () => {
    for (const fn of [() => assertRoles(undefined, 'a'), () => assertScopes(null, 'a'), () => assertClaims(undefined, { a: 1 })]) {
      const error = thrown(fn)
      expect(error).toBeInstanceOf(MissingTokenError)
      expect(error.status).toBe(401)
    }
  })

  it('pass silently when the check holds', () => {
    expect(() => assertRoles(auth(), 'user')).not.toThrow()
    expect(() => assertScopes(auth(), 'read:data')).not.toThrow()
    expect(() => assertClaims(auth(), { tenant: 'acme' })).not.toThrow()
  })

  it('answer a missing role with 403 and no scope attribute', () => {
    const error = thrown(() => assertRoles(auth(), ['admin', 'user'])) as InsufficientScopeError
    expect(error).toBeInstanceOf(InsufficientScopeError)
    expect(error.status).toBe(403)
    expect(error.description).toBe('insufficient role')
    expect(error.required).toEqual(['admin', 'user'])
    expect(error.reason).toBe('role check failed: need all of [admin, user], have [user, editor]')
    expect(error.wwwAuthenticate()).toBe('Bearer realm="api", error="insufficient_scope", error_description="insufficient role"')
  })

  it('answer a missing scope with 403 and scope="…"', () => {
    const error = thrown(() => assertScopes(auth(), ['admin:all', 'root'], { any: true })) as InsufficientScopeError
    expect(error.status).toBe(403)
    expect(error.scopes).toEqual(['admin:all', 'root'])
    expect(error.reason).toBe('scope check failed: need any of [admin:all root], have [read:data write:data]')
    expect(error.wwwAuthenticate()).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin:all root"',
    )
  })

  it('answer a failed claim check with 403 naming the claims or the predicate', () => {
    const pairs = thrown(() => assertClaims(auth(), { tenant: 'other', level: 3 })) as InsufficientScopeError
    expect(pairs.description).toBe('insufficient claims')
    expect(pairs.required).toEqual(['tenant', 'level'])
    const named = thrown(() => assertClaims(auth(), function isPaid() { return false })) as InsufficientScopeError
    expect(named.required).toEqual(['isPaid'])
    const anonymous = thrown(() => assertClaims(auth(), (() => false) as () => boolean)) as InsufficientScopeError
    expect(anonymous.reason).toMatch(/^claim check failed: /)
  })
})

describe('roleGuard / scopeGuard / claimsGuard', () => {
  it('are the assertions as reusable guards', () => {
    expect(() => roleGuard('user')(auth())).not.toThrow()
    expect(thrown(() => roleGuard(['admin'])(auth())).status).toBe(403)
    expect(() => roleGuard(['admin', 'user'], { any: true })(auth())).not.toThrow()
    expect(() => scopeGuard('read:data')(auth())).not.toThrow()
    expect(thrown(() => scopeGuard('x')(auth())).status).toBe(403)
    expect(() => claimsGuard({ tenant: 'acme' })(auth())).not.toThrow()
    expect(thrown(() => claimsGuard({ tenant: 'x' })(auth())).status).toBe(403)
    expect(thrown(() => roleGuard('user')(null)).status).toBe(401)
  })

  it('copy the requirement list so later changes do not alter the guard', () => {
    const roles = ['user']
    const guard = roleGuard(roles)
    roles.push('admin')
    expect(() => guard(auth())).not.toThrow()
  })
})
