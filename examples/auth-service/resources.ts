/**
 * Resource indicators (RFC 8707): a client names the API it wants a token for with `resource`, and
 * the access token's `aud` is that API, so a token for one resource is refused by every other.
 *
 * A resource is an absolute URI without a fragment (§2). A requested one matches a configured one
 * when they are equal, or differ by one trailing slash (as the MCP TypeScript SDK compares them);
 * the token carries the configured spelling.
 */

/** Why `value` cannot be a resource indicator, or undefined when it can. */
export function resourceProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'resource must be an absolute URI'
  if (value.includes('#')) return 'resource must not contain a fragment'
  return undefined
}

const withoutTrailingSlash = (value: string) => (value.endsWith('/') ? value.slice(0, -1) : value)

/** The configured resource `requested` names, or undefined. */
export function matchResource(requested: string, known: readonly string[]): string | undefined {
  return (
    known.find((r) => r === requested) ??
    known.find((r) => withoutTrailingSlash(r) === withoutTrailingSlash(requested))
  )
}
