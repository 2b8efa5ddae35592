/**
 * What the input is: a JWT (decoded without verifying), a JWE, a JWS whose payload is no claims set,
 * an opaque token, or something that is no token at all — and the token shortened for display.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import { calculateJwkThumbprint, type JWK } from 'jose'

/** What the input was found to be. */
export type InputKind = 'jwt' | 'jwe' | 'jws' | 'opaque' | 'malformed'

export interface Decoded {
  kind: InputKind
  /** The token, without `Authorization:` and scheme. */
  token: string
  /** `Bearer` or `DPoP` when the input carried the scheme. */
  scheme: string | undefined
  /** JWT, JWS and JWE: the protected header (not secret: it is sent in clear). */
  header: Record<string, unknown> | undefined
  /** JWT only: the payload. */
  claims: Record<string, unknown> | undefined
  /** Not a JWT: what it is instead, in the verifier's words where it has some. */
  problem: string | undefined
  /** What to do about it (not a JWT). */
  advice: string | undefined
  /** Facts worth a line that do not stop the decoding (unsigned, no exp, …). */
  notes: string[]
}

/** Proof-of-possession binding of a token (`cnf`, RFC 7800). */
export interface Binding {
  type: 'dpop' | 'mtls' | 'jwk'
  /** The claim it was read from. */
  claim: 'cnf.jkt' | 'cnf.x5t#S256' | 'cnf.jwk'
  /** Base64url SHA-256 thumbprint: of the key (RFC 7638) or of the certificate (RFC 8705). */
  thumbprint: string
}

const B64URL = /^[A-Za-z0-9_-]*$/
/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Removes an `Authorization:` header name, a `Bearer`/`DPoP` scheme and surrounding quotes. */
export function stripInput(raw: string): { token: string; scheme: string | undefined } {
  let s = raw.trim()
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) s = s.slice(1, -1).trim()
  s = s.replace(/^authorization\s*:\s*/i, '')
  const m = /^(bearer|dpop)(?:[ \t]+|$)/i.exec(s)
  if (!m) return { token: s, scheme: undefined }
  const scheme = (m[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer'
  return { token: s.slice(m[0].length).trim(), scheme }
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  if (part === '' || !B64URL.test(part)) return undefined
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url')))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Decodes (never verifies) `raw`: the argument or stdin, with or without `Bearer `. */
export function decodeInput(raw: string): Decoded {
  const { token, scheme } = stripInput(raw)
  const out: Decoded = { kind: 'malformed', token, scheme, header: undefined, claims: undefined, problem: undefined, advice: undefined, notes: [] }
  if (/\s/.test(token)) {
    out.problem = 'not a token: it contains whitespace (several values pasted?)'
    out.advice = 'pass exactly one token, with or without "Bearer "'
    return out
  }
  const parts = token.split('.')
  const header = parts.length === 3 || parts.length === 5 ? jsonObject(parts[0] as string) : undefined
  if (header && parts.length === 5) {
    out.kind = 'jwe'
    out.header = header
    out.problem = 'JWE (encrypted) tokens are not accepted'
    out.advice =
      'this is an encrypted token (JWE): its claims are readable only by the holder of the decryption key. ' +
      'Ask the authorization server for signed (JWS) access tokens for this API (e.g. no encryption key registered for the resource)'
    return out
  }
  if (header && parts.length === 3) {
    out.header = header
    const claims = jsonObject(parts[1] as string)
    if (!claims) {
      out.kind = 'jws'
      out.problem = 'payload is not a JSON object'
      out.advice = 'a JWS whose payload is not a JWT claims set: not an access token'
      return out
    }
    out.kind = 'jwt'
    out.claims = claims
    if (typeof header.alg === 'string' && header.alg.toLowerCase() === 'none') out.notes.push('alg "none": an unsigned token, never accepted')
    else if (parts[2] === '') out.notes.push('the signature is empty: an unsigned token, never accepted')
    if (claims.exp === undefined) out.notes.push('no exp: bearer-guard refuses tokens without an expiry')
    return out
  }
  if (B64TOKEN.test(token)) {
    out.kind = 'opaque'
    out.problem = `not a JWT: an opaque token of ${token.length} character${token.length === 1 ? '' : 's'}`
    out.advice = /^ya29\./.test(token)
      ? 'a Google OAuth access token (ya29.…) is opaque: only Google can read it. Services verify Google ID tokens instead (--preset google)'
      : 'an opaque (reference) token carries no readable claims: only its issuer can say what it means, through token introspection (RFC 7662)'
    return out
  }
  out.problem = token === '' ? 'no token after the scheme' : 'not a token: characters outside the RFC 6750 token syntax'
  out.advice = 'pass the access token itself (three base64url parts separated by dots)'
  return out
}

/**
 * A token for display: its start and end, never the whole (unless asked), and at most three
 * eighths of a short one (a JWT's first 12 characters are its header's, not secret).
 */
export function shorten(token: string): string {
  const head = Math.min(12, Math.floor(token.length / 4))
  const tail = Math.min(6, Math.floor(token.length / 8))
  return `${token.slice(0, head)}…${tail > 0 ? token.slice(-tail) : ''}`
}

/**
 * The proof-of-possession binding of the claims, if any: `cnf.jkt` (DPoP, RFC 9449), `cnf.x5t#S256`
 * (mTLS, RFC 8705), or a `cnf.jwk` whose RFC 7638 thumbprint is computed here.
 */
export async function bindingOf(claims: Record<string, unknown> | undefined): Promise<Binding | undefined> {
  const cnf = claims?.cnf
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return undefined
  const c = cnf as Record<string, unknown>
  if (typeof c.jkt === 'string') return { type: 'dpop', claim: 'cnf.jkt', thumbprint: c.jkt }
  if (typeof c['x5t#S256'] === 'string') return { type: 'mtls', claim: 'cnf.x5t#S256', thumbprint: c['x5t#S256'] }
  if (typeof c.jwk === 'object' && c.jwk !== null) {
    try {
      return { type: 'jwk', claim: 'cnf.jwk', thumbprint: await calculateJwkThumbprint(c.jwk as JWK, 'sha256') }
    } catch {
      return undefined
    }
  }
  return undefined
}
