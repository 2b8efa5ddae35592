/**
 * `verifyAccessToken(token, options)`: one call, with a verifier kept for equal options (so calls
 * share one JWKS cache).
 *
 * @module bearer-guard
 */
import { LRUCache } from 'lru-cache'
import type { ZodType } from 'zod'
import type { AuthContext, Verifier, VerifierOptions } from './types.js'
import { createVerifier, type ClaimsOf } from './verifier.js'

const oneShot = new LRUCache<string, Verifier<unknown>>({ max: 64 })
const identities = new WeakMap<object, number>()
let nextIdentity = 0

/**
 * Options compared by identity whatever their shape: a store's, a schema's or a logger's content is
 * state (the memory store's `size`, the Redis store's `status`), not configuration.
 */
const BY_IDENTITY = new Set(['revocation', 'claims', 'logger'])

/**
 * A key equal for equal options: plain values by content, URLs by `href`, bytes by value;
 * functions, stores, schemas, loggers, key objects and any object with a getter by identity.
 */
function optionsKey(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, key, v: unknown) {
    if (typeof v === 'function') return identityOf(v)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
    if (v instanceof URL) return `url:${v.href}`
    if (v instanceof Uint8Array) return `bytes:${Array.from(v).join(',')}`
    return BY_IDENTITY.has(key) || !isPlainData(v) ? identityOf(v) : v
  })
}

function identityOf(v: object): string {
  let id = identities.get(v)
  if (id === undefined) identities.set(v, (id = ++nextIdentity))
  return `ref:${id}`
}

/** A plain object whose properties are all values (JSON.stringify would call a getter: state, not configuration). */
function isPlainData(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  for (const name of Object.getOwnPropertyNames(v)) {
    const d = Object.getOwnPropertyDescriptor(v, name)
    if (d && (d.get !== undefined || d.set !== undefined)) return false
  }
  return true
}

/**
 * Verifies one token with a verifier kept for these options: calls with equal options share one
 * verifier and so one JWKS cache. Prefer `createVerifier` in long-lived code.
 *
 * @example
 * ```ts
 * const auth = await verifyAccessToken(token, { issuer: 'https://auth.example.com', audience: 'api' })
 * ```
 */
export async function verifyAccessToken<S extends ZodType | undefined = undefined>(
  token: string,
  options: VerifierOptions<S>,
): Promise<AuthContext<ClaimsOf<S>>> {
  const key = optionsKey(options)
  let verifier = oneShot.get(key) as Verifier<ClaimsOf<S>> | undefined
  if (!verifier) {
    verifier = createVerifier(options)
    oneShot.set(key, verifier as Verifier<unknown>)
  }
  return verifier.verifyAccessToken(token)
}
