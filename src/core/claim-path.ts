/**
 * Reading claims by path, and roles/scopes from the shapes identity providers use.
 *
 * @module bearer-guard
 */
import type { ClaimPath, ClaimSource, JWTPayload } from './types.js'

const hasOwn = Object.prototype.hasOwnProperty

/**
 * Reads a claim by path. A key present as a whole wins (`cognito:groups`, `https://x.io/roles`,
 * `a.b` as one key); otherwise the path is split on dots (`realm_access.roles`). Only own properties
 * of plain objects are followed, so `__proto__` or `constructor` never resolve to anything.
 */
export function readClaim(claims: unknown, path: ClaimPath): unknown {
  if (!isRecord(claims)) return undefined
  if (hasOwn.call(claims, path)) return claims[path]
  if (!path.includes('.')) return undefined
  let node: unknown = claims
  const parts = path.split('.')
  for (let i = 0; i < parts.length; i++) {
    if (!isRecord(node)) return undefined
    // a longer remainder may itself be one key ("resource_access.my.client.roles")
    const rest = parts.slice(i).join('.')
    if (i > 0 && hasOwn.call(node, rest)) return node[rest]
    const part = parts[i] as string
    if (!hasOwn.call(node, part)) return undefined
    node = node[part]
  }
  return node
}

/** Strings from a claim value: arrays of strings, or a space-delimited string (`scope`). Anything else: none. */
export function toStringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0)
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0)
  return []
}

/** Reads a list (roles or scopes) from one or more claim paths, or a function; duplicates removed. */
export function readList(claims: JWTPayload, source: ClaimSource): string[] {
  if (typeof source === 'function') {
    const out = source(claims)
    return Array.isArray(out) ? [...new Set(out.filter((v) => typeof v === 'string'))] : []
  }
  if (typeof source === 'string') return dedupe(toStringList(readClaim(claims, source)))
  const all: string[] = []
  for (const path of source as readonly string[]) all.push(...toStringList(readClaim(claims, path)))
  return dedupe(all)
}

function dedupe(list: string[]): string[] {
  return list.length < 2 ? list : [...new Set(list)]
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
