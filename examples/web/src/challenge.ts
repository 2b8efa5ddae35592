/**
 * Reads a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), which resource services send with
 * every 401 and 403. Cross-origin, the page can read it only because the services' CORS setup
 * exposes the header (`Access-Control-Expose-Headers: WWW-Authenticate`).
 */
export interface BearerChallenge {
  /** `invalid_token`, `invalid_request`, `insufficient_scope`, or undefined (no token sent). */
  error?: string
  description?: string
  scope?: string
  realm?: string
}

/** Parses the Bearer challenge of a `WWW-Authenticate` value; undefined when there is none. */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  const match = /(?:^|,)\s*Bearer(?:\s+(.*))?$/i.exec(header ?? '')
  if (!match) return undefined
  const params: Record<string, string> = {}
  // auth-param = token "=" ( token / quoted-string ), comma-separated (RFC 9110 §11.2)
  const param = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy
  const rest = match[1] ?? ''
  for (let m = param.exec(rest); m && m[0] !== ''; m = param.exec(rest)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!
  }
  return {
    error: params.error,
    description: params.error_description,
    scope: params.scope,
    realm: params.realm,
  }
}

/**
 * The access token has expired: the one failure a refresh can fix. RFC 6750 has no error code for
 * it, so the `error_description` names it (bearer-guard: `token expired`).
 */
export const isExpired = (c: BearerChallenge | undefined): boolean =>
  c?.error === 'invalid_token' && /\bexpired\b/i.test(c.description ?? '')

/** The access token was revoked (logout elsewhere, or the session was ended as stolen). */
export const isRevoked = (c: BearerChallenge | undefined): boolean =>
  c?.error === 'invalid_token' && /\brevoked\b/i.test(c.description ?? '')
