/**
 * The test issuer's opaque tokens and its introspection endpoint (private): RFC 7662 answers for
 * the opaque tokens it issued and for the JWTs it signed, to its one resource-server client
 * (`client_secret_basic` or `client_secret_post`); an RFC 9701 signed answer when the request
 * accepts `application/token-introspection+jwt`. Unknown callers get a 401 and learn nothing.
 *
 * @module bearer-guard/testing
 */
import { base64url, createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import { toSeconds } from './duration.js'
import { json } from './faults.js'
import type { KeyRing } from './key-ring.js'
import type { OpaqueTokenOptions } from './types.js'

const DEFAULT_SUBJECT = 'user-123'
const INTROSPECTION_JWT = 'application/token-introspection+jwt'

export interface IntrospectionContext {
  readonly ring: KeyRing
  issuer(): string
  readonly audience: string | string[]
  readonly clientId: string
  readonly clientSecret: string
}

/** The opaque tokens of one issuer, and the answers of its introspection endpoint. */
export interface OpaqueTokens {
  issue(claims: Record<string, unknown>, options: OpaqueTokenOptions): string
  revoke(token: string): void
  /** The endpoint's answer to a request (a POST; the faults are answered before). */
  answer(request: Request): Promise<Response>
}

export function createOpaqueTokens(context: IntrospectionContext): OpaqueTokens {
  const tokens = new Map<string, Record<string, unknown>>()
  const revoked = new Set<string>()

  /** What the issuer knows of `token`: an opaque token's claims, or a JWT it signed (verified). */
  async function claimsOf(token: string): Promise<Record<string, unknown> | undefined> {
    const known = tokens.get(token)
    if (known) return known
    if (token.split('.').length !== 3) return undefined
    try {
      const key = context.ring.current
      const { payload } = key.secret !== undefined
        ? await jwtVerify(token, new TextEncoder().encode(key.secret), { algorithms: [key.alg] })
        : await jwtVerify(token, createLocalJWKSet(context.ring.jwks() as Parameters<typeof createLocalJWKSet>[0]), { algorithms: [key.alg] })
      return payload as Record<string, unknown>
    } catch {
      return undefined
    }
  }

  function authenticated(request: Request, form: URLSearchParams): boolean {
    const header = request.headers.get('authorization')
    if (header?.startsWith('Basic ')) {
      const decoded = atob(header.slice(6))
      const colon = decoded.indexOf(':')
      const dec = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '))
      try {
        return colon !== -1 && dec(decoded.slice(0, colon)) === context.clientId && dec(decoded.slice(colon + 1)) === context.clientSecret
      } catch {
        return false
      }
    }
    return form.get('client_id') === context.clientId && form.get('client_secret') === context.clientSecret
  }

  return {
    issue(claims, options) {
      const now = Math.floor(Date.now() / 1000)
      const token = base64url.encode(crypto.getRandomValues(new Uint8Array(32)))
      tokens.set(token, {
        iss: context.issuer(),
        sub: options.subject ?? DEFAULT_SUBJECT,
        aud: options.audience ?? context.audience,
        iat: now,
        exp: now + toSeconds(options.expiresIn ?? '5m', 'expiresIn'),
        jti: crypto.randomUUID(),
        client_id: context.clientId,
        token_type: 'Bearer',
        ...claims,
      })
      return token
    },
    revoke(token) {
      revoked.add(token)
    },
    async answer(request) {
      if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } })
      const form = new URLSearchParams(await request.text())
      if (!authenticated(request, form)) {
        return new Response(JSON.stringify({ error: 'invalid_client' }), {
          status: 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="introspection"' },
        })
      }
      const token = form.get('token')
      if (token === null) return json({ error: 'invalid_request', error_description: 'token is required' }, 400)
      const claims = revoked.has(token) ? undefined : await claimsOf(token)
      const exp = claims?.exp
      const active = claims !== undefined && (typeof exp !== 'number' || exp > Date.now() / 1000)
      const body: Record<string, unknown> = active ? { active: true, ...claims } : { active: false }
      if (!(request.headers.get('accept') ?? '').includes(INTROSPECTION_JWT)) return json(body, 200)
      const key = context.ring.current
      const jwt = await new SignJWT({ token_introspection: body })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'token-introspection+jwt' })
        .setIssuer(context.issuer())
        .setAudience(context.clientId)
        .setIssuedAt()
        .sign(key.signingKey)
      return new Response(jwt, { status: 200, headers: { 'content-type': INTROSPECTION_JWT } })
    },
  }
}
