/**
 * Authorization server metadata: OpenID Connect discovery, then RFC 8414, to find `jwks_uri`.
 *
 * @module bearer-guard
 */
import { fetchJson, FetchJsonError, type FetchJsonOptions } from './fetch-json.js'

/** The metadata URLs tried, in order, for an issuer. */
export function discoveryUrls(issuer: string): URL[] {
  const base = new URL(issuer)
  const path = base.pathname.replace(/\/$/, '')
  const oidc = new URL(base.href)
  oidc.pathname = `${path}/.well-known/openid-configuration`
  oidc.search = ''
  const rfc8414 = new URL(base.href)
  rfc8414.pathname = `/.well-known/oauth-authorization-server${path}`
  rfc8414.search = ''
  return [oidc, rfc8414]
}

/**
 * Fetches the metadata and returns its `jwks_uri`. The metadata's `issuer` must equal the
 * configured issuer exactly (OpenID Connect Discovery §4.3, RFC 8414 §3.3).
 */
export async function discoverJwksUri(issuer: string, options: FetchJsonOptions): Promise<URL> {
  const errors: string[] = []
  let last: FetchJsonError | undefined
  for (const url of discoveryUrls(issuer)) {
    let metadata: Record<string, unknown>
    try {
      metadata = await fetchJson(url, options)
    } catch (error) {
      last = error as FetchJsonError
      errors.push(last.message)
      // An HTTP error status (404, 5xx) concerns that path: the other well-known location may still
      // serve the metadata. A failure without a status (DNS, refused, TLS, a dropped connection, a
      // timeout, a bad body) would only repeat on the same host, and a second timeout would double
      // the wait: stop there.
      if (last.kind === 'status') continue
      break
    }
    if (metadata.issuer !== issuer) {
      throw metadataError(`discovery at ${url.href}: issuer ${JSON.stringify(String(metadata.issuer))} does not equal ${JSON.stringify(issuer)}`)
    }
    const jwksUri = metadata.jwks_uri
    if (typeof jwksUri !== 'string') throw metadataError(`discovery at ${url.href}: no jwks_uri`)
    let parsed: URL
    try {
      parsed = new URL(jwksUri)
    } catch {
      throw metadataError(`discovery at ${url.href}: jwks_uri is not a URL`)
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw metadataError(`discovery at ${url.href}: jwks_uri is not http(s)`)
    }
    // an https issuer must not hand out keys over plain http (a downgrade a network attacker could use)
    if (url.protocol === 'https:' && parsed.protocol !== 'https:') {
      throw metadataError(`discovery at ${url.href}: jwks_uri ${parsed.href} is not https like the issuer`)
    }
    return parsed
  }
  // the last attempt's kind, status and code (the root cause) stay on the error, for logs
  const { kind, status, code, retried } = last as FetchJsonError
  throw new FetchJsonError(`discovery for ${issuer} failed: ${errors.join('; ')}`, { kind, status, code, retried, cause: last })
}

function metadataError(message: string): FetchJsonError {
  return new FetchJsonError(message, { kind: 'metadata' })
}
