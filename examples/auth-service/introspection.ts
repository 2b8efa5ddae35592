/**
 * Token introspection (RFC 7662) for the resource services: who may ask, and what they are told.
 *
 * Only configured resource-server clients may call `/introspect` (`INTROSPECTION_CLIENTS`), with
 * `client_secret_basic` (RFC 6749 §2.3.1: `Authorization: Basic base64(urlencode(id):urlencode(secret))`)
 * or `client_secret_post` (`client_id` + `client_secret` in the form), never both. A caller that
 * does not authenticate gets 401 `invalid_client` and learns nothing about the token (RFC 7662 §4);
 * the answer about a token is `{ "active": false }` and nothing more unless the token is live.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { OAuthError } from './errors.js'

export const INTROSPECTION_JWT = 'application/token-introspection+jwt'

const digest = (value: string) => createHash('sha256').update(value).digest()
/** Compared against when the client is unknown, so both cases cost the same. */
const DUMMY = digest('no such client')

const unauthenticated = () =>
  new OAuthError(401, 'invalid_client', 'client authentication failed', {
    'WWW-Authenticate': 'Basic realm="introspection"',
  })

/** `application/x-www-form-urlencoded` decoding of one Basic credential half (RFC 6749 §2.3.1). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/**
 * The authenticated resource-server client's id, or throws `OAuthError` 401 (400 when both methods
 * are used, RFC 6749 §2.3). `clients`: `client_id → client_secret`.
 */
export function authenticateClient(
  authorization: string | undefined,
  params: URLSearchParams,
  clients: Readonly<Record<string, string>>,
): string {
  const inBody = params.has('client_id') || params.has('client_secret')
  let id: string | undefined
  let secret: string | undefined
  if (authorization !== undefined) {
    if (inBody) throw new OAuthError(400, 'invalid_request', 'use one client authentication method')
    const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
    if (!match) throw unauthenticated()
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw unauthenticated()
    id = formDecode(decoded.slice(0, colon))
    secret = formDecode(decoded.slice(colon + 1))
  } else if (inBody) {
    id = params.get('client_id') ?? undefined
    secret = params.get('client_secret') ?? undefined
  }
  if (id === undefined || secret === undefined || id.length > 64 || secret.length > 256) {
    throw unauthenticated()
  }
  const expected = Object.hasOwn(clients, id) ? digest(clients[id]!) : DUMMY
  // digests have the same length, so timingSafeEqual never throws and the time does not depend on
  // how much of the secret was right
  const ok = timingSafeEqual(digest(secret), expected) && Object.hasOwn(clients, id)
  if (!ok) throw unauthenticated()
  return id
}

/** Whether the caller asked for an RFC 9701 JWT answer. */
export const wantsJwt = (accept: string | undefined) =>
  (accept ?? '').split(',').some((part) => part.trim().split(';')[0]!.toLowerCase() === INTROSPECTION_JWT)

/**
 * The RFC 7662 answer about a live access token, from the claims it carries (a JWT's payload or an
 * opaque token's stored claims). `sid` (the session) stays private.
 */
export function introspectionAnswer(claims: Record<string, unknown>): Record<string, unknown> {
  const cnf = claims.cnf as { jkt?: unknown } | undefined
  const bound = typeof cnf?.jkt === 'string'
  const answer: Record<string, unknown> = {
    active: true,
    iss: claims.iss,
    aud: claims.aud,
    sub: claims.sub,
    username: claims.sub,
    client_id: claims.client_id,
    scope: claims.scope,
    roles: claims.roles,
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
    jti: claims.jti,
    token_type: bound ? 'DPoP' : 'Bearer',
    ...(bound ? { cnf: { jkt: cnf!.jkt } } : {}),
  }
  return answer
}
