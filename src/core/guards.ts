/**
 * Authorization checks as plain functions, shared by every adapter: `hasX` returns a boolean,
 * `assertX` throws an `AuthError` (401 when there is no auth, 403 when the check fails).
 *
 * @module bearer-guard
 */
import { InsufficientScopeError, MissingTokenError } from './errors.js'
import { readClaim } from './claim-path.js'
import type { AuthContext } from './types.js'

/** `{ any: true }` passes when one of the listed values is present; the default needs all of them. */
export interface MatchOptions {
  any?: boolean
}

/** A claim requirement: a predicate, or `{ claim: expected }` pairs (an array claim must contain the value). */
export type ClaimRequirement<C = any> =
  | ((claims: C, auth: AuthContext<C>) => boolean)
  | Record<string, unknown>

/** A check the adapters turn into middleware. Throws an `AuthError`. */
export type Guard = (auth: AuthContext<any> | null | undefined) => void

function list(value: string | readonly string[]): string[] {
  return typeof value === 'string' ? [value] : [...value]
}

function matches(have: readonly string[], want: readonly string[], any: boolean | undefined): boolean {
  if (want.length === 0) return true
  return any ? want.some((w) => have.includes(w)) : want.every((w) => have.includes(w))
}

/** True when `auth` has the role(s): all of them, or one with `{ any: true }`. */
export function hasRole(auth: AuthContext<any> | null | undefined, roles: string | readonly string[], options: MatchOptions = {}): boolean {
  return !!auth && matches(auth.roles, list(roles), options.any)
}

/** True when `auth` has the scope(s): all of them, or one with `{ any: true }`. */
export function hasScopes(auth: AuthContext<any> | null | undefined, scopes: string | readonly string[], options: MatchOptions = {}): boolean {
  return !!auth && matches(auth.scopes, list(scopes), options.any)
}

/** True when the claims satisfy the requirement. */
export function hasClaims(auth: AuthContext<any> | null | undefined, requirement: ClaimRequirement): boolean {
  if (!auth) return false
  if (typeof requirement === 'function') return requirement(auth.claims, auth) === true
  return Object.entries(requirement).every(([path, expected]) => {
    const actual = readClaim(auth.claims, path)
    if (Array.isArray(actual) && !Array.isArray(expected)) return actual.includes(expected)
    return Object.is(actual, expected) || (Array.isArray(expected) && Array.isArray(actual) && sameList(actual, expected))
  })
}

function sameList(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
}

function requireAuthContext(auth: AuthContext<any> | null | undefined): asserts auth is AuthContext<any> {
  if (!auth) throw new MissingTokenError({ reason: 'authorization check ran without an authenticated request' })
}

/** Throws 401 without auth, 403 `insufficient_scope` when the role(s) are missing. */
export function assertRoles(auth: AuthContext<any> | null | undefined, roles: string | readonly string[], options: MatchOptions = {}): asserts auth is AuthContext<any> {
  requireAuthContext(auth)
  const want = list(roles)
  if (!matches(auth.roles, want, options.any)) {
    throw new InsufficientScopeError({
      description: 'insufficient role',
      reason: `role check failed: need ${options.any ? 'any' : 'all'} of [${want.join(', ')}], have [${auth.roles.join(', ')}]`,
      required: want,
    })
  }
}

/** Throws 401 without auth, 403 `insufficient_scope` (with `scope="…"`) when the scope(s) are missing. */
export function assertScopes(auth: AuthContext<any> | null | undefined, scopes: string | readonly string[], options: MatchOptions = {}): asserts auth is AuthContext<any> {
  requireAuthContext(auth)
  const want = list(scopes)
  if (!matches(auth.scopes, want, options.any)) {
    throw new InsufficientScopeError({
      reason: `scope check failed: need ${options.any ? 'any' : 'all'} of [${want.join(' ')}], have [${auth.scopes.join(' ')}]`,
      required: want,
      scopes: want,
    })
  }
}

/** Throws 401 without auth, 403 `insufficient_scope` when the claims do not satisfy the requirement. */
export function assertClaims(auth: AuthContext<any> | null | undefined, requirement: ClaimRequirement): asserts auth is AuthContext<any> {
  requireAuthContext(auth)
  if (!hasClaims(auth, requirement)) {
    const names = typeof requirement === 'function' ? [requirement.name || 'predicate'] : Object.keys(requirement)
    throw new InsufficientScopeError({
      description: 'insufficient claims',
      reason: `claim check failed: ${names.join(', ')}`,
      required: names,
    })
  }
}

/** A non-empty list: an empty requirement would let every authenticated request through. */
function required(kind: string, value: string | readonly string[]): string[] {
  const want = list(value)
  if (want.length === 0 || want.some((w) => typeof w !== 'string' || w === '')) {
    throw new TypeError(`bearer-guard: ${kind} needs at least one non-empty name (an empty list would allow everyone)`)
  }
  return want
}

/** A role check as a `Guard`, for the adapters' `requireRole`. Throws `TypeError` for an empty list. */
export function roleGuard(roles: string | readonly string[], options: MatchOptions = {}): Guard {
  const want = required('requireRole', roles)
  return (auth) => assertRoles(auth, want, options)
}

/** A scope check as a `Guard`, for the adapters' `requireScopes`. Throws `TypeError` for an empty list. */
export function scopeGuard(scopes: string | readonly string[], options: MatchOptions = {}): Guard {
  const want = required('requireScopes', scopes)
  return (auth) => assertScopes(auth, want, options)
}

/** A claim check as a `Guard`, for the adapters' `requireClaims`. Throws `TypeError` for `{}`. */
export function claimsGuard(requirement: ClaimRequirement): Guard {
  if (typeof requirement !== 'function' && (typeof requirement !== 'object' || requirement === null || Object.keys(requirement).length === 0)) {
    throw new TypeError('bearer-guard: requireClaims needs a predicate or at least one { claim: value } pair (an empty one would allow everyone)')
  }
  return (auth) => assertClaims(auth, requirement)
}
