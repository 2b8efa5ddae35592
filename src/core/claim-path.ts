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
  const out: string[] = []
  addStrings(out, value)
  return out
}

/**
 * Reads a list (roles or scopes) from one or more claim paths, or a function; duplicates removed,
 * first occurrence kept. Runs on every fresh verification, so it builds no intermediate arrays.
 */
export function readList(claims: JWTPayload, source: ClaimSource): string[] {
  if (typeof source === 'function') {
    const out = source(claims)
    return Array.isArray(out) ? [...new Set(out.filter((v) => typeof v === 'string'))] : []
  }
  const out: string[] = []
  if (typeof source === 'string') addStrings(out, readClaim(claims, source))
  else for (const path of source as readonly string[]) addStrings(out, readClaim(claims, path))
  if (out.length < 2) return out
  if (out.length > 16) return [...new Set(out)]
  // a loop, not `lastIndexOf` per entry: a builtin call each cost ~200 instructions of a never-seen
  // token's path (issue 20, counted with bench/loop-instructions.ts)
  for (let i = 1; i < out.length; i++) {
    const v = out[i] as string
    for (let j = 0; j < i; j++) if (out[j] === v) return [...new Set(out)]
  }
  return out
}

function addStrings(out: string[], value: unknown): void {
  if (typeof value === 'string') {
    let start = 0
    while (start < value.length) {
      let end = value.indexOf(' ', start)
      if (end === -1) end = value.length
      if (end > start) out.push(value.slice(start, end))
      start = end + 1
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      if (typeof v === 'string' && v.length > 0) out.push(v)
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
