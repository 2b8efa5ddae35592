/**
 * zod issues as one `TypeError` that names each option by its path (`issuers[1].jwks.timeout`),
 * says what was expected, and for an unknown name suggests the option meant ("did you mean").
 *
 * @module bearer-guard
 */
import type { z } from 'zod'
import { ENTRY_KEYS, JWKS_KEYS } from './schema.js'

/**
 * Names other libraries use for an option of ours (express-oauth2-jwt-bearer, jose, jsonwebtoken,
 * aws-jwt-verify), and names one may guess for it; keys lowercase, `_` and `-` removed.
 */
const ALIASES: Record<string, string> = {
  issuerbaseurl: 'issuer',
  iss: 'issuer',
  aud: 'audience',
  tokensigningalg: 'algorithms',
  algs: 'algorithms',
  publickey: 'keys',
  clockskew: 'clockTolerance',
  leeway: 'clockTolerance',
  graceseconds: 'clockTolerance',
  maxage: 'maxTokenAge',
  typ: 'tokenType',
  type: 'tokenType',
  alg: 'algorithms',
  roles: 'rolesClaim',
  scope: 'scopesClaim',
  scopes: 'scopesClaim',
  sub: 'subjectClaim',
  subject: 'subjectClaim',
  store: 'revocation',
  revocationstore: 'revocation',
  schema: 'claims',
  claimsschema: 'claims',
  cooldownduration: 'jwks.cooldown',
  timeoutduration: 'jwks.timeout',
}

/** Edit distance (insert, delete, substitute, swap two neighbours), bounded: above `max` is `max + 1`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prev2: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] as number) + 1)
      row.push(d)
    }
    prev2 = prev
    prev = row
  }
  return prev[b.length] as number
}

/**
 * The option meant by an unknown name at `level` (`'entry'` or `'jwks'`), as a path relative to the
 * entry: a near miss at the same level first, then one level over (`timeout` → `jwks.timeout`).
 */
export function suggest(name: string, level: 'entry' | 'jwks'): string | undefined {
  const norm = (v: string) => v.toLowerCase().replace(/[_-]/g, '')
  const n = norm(name)
  const here = level === 'entry' ? ENTRY_KEYS : JWKS_KEYS.map((k) => `jwks.${k}`)
  const over = level === 'entry' ? JWKS_KEYS.map((k) => `jwks.${k}`) : ENTRY_KEYS
  const last = (path: string) => norm(path.slice(path.lastIndexOf('.') + 1))
  const alias = ALIASES[n]
  const exact = here.find((c) => last(c) === n) ?? (alias && [...here, ...over].includes(alias) ? alias : undefined) ?? over.find((c) => last(c) === n)
  if (exact !== undefined) return exact
  const max = n.length <= 4 ? 1 : n.length <= 8 ? 2 : 3
  let best: string | undefined
  let bestDistance = max + 1
  for (const c of [...here, ...over]) {
    const d = distance(n, last(c), max)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Turns zod issues into one TypeError that names the option and what was expected. */
export function toTypeError(issues: readonly z.core.$ZodIssue[]): TypeError {
  const messages = issues.map((issue) => {
    const at = issue.path as (string | number)[]
    const path = formatPath(at)
    if (issue.code === 'unrecognized_keys') {
      // an entry (top level or issuers[i]) or its jwks object: suggest within the entry
      const isJwks = at[at.length - 1] === 'jwks'
      const entryPath = isJwks ? at.slice(0, -1) : at
      const level = isJwks ? 'jwks' : at.length === 0 || (at.length === 2 && at[0] === 'issuers') ? 'entry' : undefined
      return issue.keys
        .map((k) => {
          const hint = level && suggest(k, level)
          return `unknown option "${formatPath([...at, k])}"${hint ? `: did you mean "${formatPath([...entryPath, hint])}"?` : ''}`
        })
        .join('; ')
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      return `invalid option "${path}": expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join('|')}`
    }
    return `invalid option "${path}": ${issue.message}`
  })
  return new TypeError(`bearer-guard: ${messages.join('; ')}`)
}

function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}
