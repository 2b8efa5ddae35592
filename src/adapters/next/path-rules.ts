/**
 * The path rules of `authProxy`: which rule a request's path falls under, matched as Next.js
 * matches `config.matcher`.
 *
 * @module bearer-guard/next
 */
import { pathToRegexp } from 'path-to-regexp'
import type { ClaimRequirement } from '../../core/guards.js'
import type { RegisteredClaims } from '../../core/types.js'

/** What a route or path requires beyond a valid token. `any`: one role / one scope suffices. */
export interface Requirements<C = RegisteredClaims> {
  roles?: string | readonly string[]
  scopes?: string | readonly string[]
  claims?: ClaimRequirement<C>
  any?: boolean
}

/**
 * A path rule of `authProxy`. `path` is a Next.js matcher string, read as `config.matcher` reads it
 * (path-to-regexp 6, the library Next compiles in; case-insensitive, one trailing slash allowed):
 * `'/a'` for `/a` and `/a/`, `'/a/:path*'` (or `'/a/*'`) for `/a` and below, `'/a/:path+'` for
 * below only, `'/users/:id/admin'`, `'/api/(.*)'`. Or a `RegExp`, or a test of the pathname.
 * A string path-to-regexp cannot read is a `TypeError` when `authProxy()` runs.
 */
export interface ProxyRule<C = RegisteredClaims> extends Requirements<C> {
  path: string | RegExp | ((pathname: string) => boolean)
  optional?: boolean
}

const RULE_KEYS = new Set(['path', 'roles', 'scopes', 'claims', 'any', 'optional'])

/**
 * The test of a rule's path, checked now: a rule with an option `authProxy` does not implement (a
 * matcher's `has`, `missing`, `source`, …) or a path it cannot read is a `TypeError`.
 */
export function pathTest(rule: ProxyRule<any>, i: number): (pathname: string) => boolean {
  if (typeof rule !== 'object' || rule === null) {
    throw new TypeError(`bearer-guard: authProxy rules[${i}] must be an object with a "path"`)
  }
  const unknown = Object.keys(rule).filter((key) => !RULE_KEYS.has(key))
  if (unknown.length > 0) {
    throw new TypeError(
      `bearer-guard: authProxy rules[${i}] has ${unknown.map((k) => `"${k}"`).join(', ')}, which authProxy does not implement (a rule takes path, roles, scopes, claims, any, optional)`,
    )
  }
  const { path } = rule
  if (typeof path === 'function') return path
  if (path instanceof RegExp) {
    // without g/y: a stateful lastIndex would make every other test of the same path miss
    const regexp = new RegExp(path.source, path.flags.replace(/[gy]/g, ''))
    return (p) => regexp.test(p)
  }
  if (typeof path !== 'string') {
    throw new TypeError(`bearer-guard: authProxy rules[${i}].path must be a string, a RegExp or a function`)
  }
  const regexp = matcherRegExp(path, i)
  return (p) => regexp.test(p)
}

/**
 * A matcher string as Next compiles `config.matcher` (`tokensToRegexp(parse(source))` of
 * path-to-regexp 6 with its defaults: case-insensitive, an optional trailing `/`, anchored).
 * `'/a/*'`, bearer-guard's earlier spelling, is `'/a/:path*'`.
 */
function matcherRegExp(path: string, i: number): RegExp {
  if (!path.startsWith('/')) {
    throw new TypeError(`bearer-guard: authProxy rules[${i}].path "${path}" must start with "/", as a Next.js matcher does`)
  }
  const source = path.endsWith('/*') ? `${path.slice(0, -2)}/:path*` : path
  try {
    return pathToRegexp(source)
  } catch (error) {
    throw new TypeError(
      `bearer-guard: authProxy rules[${i}].path "${path}" is not a Next.js matcher path-to-regexp can read: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/**
 * The spellings of a pathname a rule is tested against: as sent and percent-decoded (Next tests its
 * matchers against both), each also without trailing slashes — with `trailingSlash: true` or
 * `skipTrailingSlashRedirect`, `/a/` reaches the route `/a`, so a RegExp or test written for `/a`
 * must cover it too.
 */
export function candidates(pathname: string): string[] {
  const out = [pathname]
  try {
    const decoded = decodeURIComponent(pathname)
    if (decoded !== pathname) out.push(decoded)
  } catch {
    // not decodable: Next cannot match the decoded form either
  }
  for (const p of [...out]) {
    let end = p.length
    while (end > 1 && p.charCodeAt(end - 1) === 0x2f) end--
    if (end !== p.length) out.push(p.slice(0, end))
  }
  return out
}
