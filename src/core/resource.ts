/**
 * Resource identifiers (RFC 8707, RFC 9728): what one is, how two compare, where its protected-resource
 * metadata lives, and the audience check of a verifier built with `resource`.
 *
 * @module bearer-guard
 */
import type { AudiencePredicate } from './types.js'

/** The well-known path of protected-resource metadata (RFC 9728 §3). */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource'

/**
 * Why `value` cannot identify a protected resource or an authorization server, or `undefined` when
 * it can: an absolute `https` URL (plain `http` only on a loopback host: `localhost`, `127.0.0.0/8`,
 * `[::1]`), without a fragment, without user name or password.
 */
export function resourceUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' && !(value instanceof URL)) return 'expected an absolute https URL (a string or a URL)'
  const text = String(value)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return `expected an absolute https URL, got ${JSON.stringify(text.slice(0, 100))}`
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    return `must use https (plain http only on a loopback host), got ${JSON.stringify(text.slice(0, 100))}`
  }
  if (text.includes('#')) return `must not contain a fragment, got ${JSON.stringify(text.slice(0, 100))}`
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password'
  return undefined
}

/**
 * `value` as a resource identifier: the string as given (a `URL` as its `href`), or a `TypeError`
 * naming the option.
 *
 * @param value The identifier.
 * @param option The option's name in the error (`'resource'`, `'authorizationServers[0]'`).
 */
export function toResourceUrl(value: unknown, option: string): string {
  const problem = resourceUrlProblem(value)
  if (problem !== undefined) throw new TypeError(`bearer-guard: invalid option "${option}": ${problem}`)
  return String(value)
}

/** `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]` (RFC 8252 §8.3, RFC 6761 §6.3). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}

/**
 * The form two resource identifiers are compared in, as the MCP TypeScript SDK compares them
 * (`requireBearerAuth`'s `expectedResource`): the URL's serialization without its fragment and without
 * one trailing slash. `undefined` for a value that is not an absolute URL.
 */
export function comparableResource(value: string | URL): string | undefined {
  let href: string
  try {
    href = new URL(String(value)).href
  } catch {
    return undefined
  }
  const hash = href.indexOf('#')
  const bare = hash === -1 ? href : href.slice(0, hash)
  return bare.endsWith('/') ? bare.slice(0, -1) : bare
}

/** Whether two identifiers name the same resource (fragment and one trailing slash aside). */
export function sameResource(a: string | URL, b: string | URL): boolean {
  const left = comparableResource(a)
  return left !== undefined && left === comparableResource(b)
}

/**
 * The audience check of a verifier built with `resource` and no `audience`: some `aud` member names
 * the resource (`sameResource`). `resource` is checked when the options are parsed; a value that is
 * not an identifier here matches nothing.
 */
export function resourceAudience(resource: unknown): AudiencePredicate {
  const expected = resourceUrlProblem(resource) === undefined ? comparableResource(String(resource)) : undefined
  return function audienceIsResource(aud) {
    if (expected === undefined) return false
    for (const member of aud) if (comparableResource(member) === expected) return true
    return false
  }
}

/**
 * The URL of a resource's protected-resource metadata (RFC 9728 §3.1): the well-known path inserted
 * between the host and the resource's path and query (`https://api.example.com/mcp` →
 * `https://api.example.com/.well-known/oauth-protected-resource/mcp`).
 */
export function resourceMetadataUrl(resource: string | URL): string {
  const url = new URL(String(resource))
  return `${url.origin}${metadataPath(url)}${url.search}`
}

/** The path the metadata of `resource` is served at (without the query). */
export function metadataPath(resource: string | URL): string {
  const { pathname } = typeof resource === 'string' ? new URL(resource) : resource
  // RFC 9728 §3.1: the slash right after the host is dropped before inserting the path
  return pathname === '/' ? PROTECTED_RESOURCE_WELL_KNOWN : `${PROTECTED_RESOURCE_WELL_KNOWN}${pathname}`
}

/** The resource a request names when nothing else does: its URL without query and fragment. */
export function requestResource(requestUrl: string): string {
  const url = new URL(requestUrl)
  return `${url.origin}${url.pathname}`
}
