/**
 * Stage 1, the compact JWS: the token's size, its three parts, each canonical base64url, the payload
 * a JSON object, and the protected header's rules that do not depend on the issuer — no duplicate
 * member, an `alg` that is not `none`, no `crit`, no `b64: false`, no nested JWT (`cty`), a string
 * `kid`. Header fields `jku`, `x5u`, `jwk` and `x5c` are never read.
 *
 * @module bearer-guard
 */
import { decodeCanonical, decodeJsonPart, decodeJsonText, findDuplicateMember, isBase64url, NOT_BASE64URL, parseJsonText } from '../base64url.js'
import type { JWSHeaderParameters, JWTPayload } from '../types.js'
import { deepFreeze } from './freeze.js'
import { invalid } from './reasons.js'

/** A token's parts, decoded and checked. */
export interface JwsParts {
  /** The protected header, frozen (shared by every token with the same header text). */
  header: JWSHeaderParameters
  payload: JWTPayload
  signature: Uint8Array
  /** Length of the signing input: the token's first `signedLength` characters (`header.payload`). */
  signedLength: number
}

/** Parsed, checked protected headers kept by their exact base64url text (one issuer uses a few). */
const HEADER_CACHE_MAX = 64
const HEADER_CACHE_MAX_LENGTH = 1024

/** Refuses what is not a string, or longer than `maxLength`, before any other work. */
export function checkTokenSize(token: unknown, maxLength: number): asserts token is string {
  if (typeof token !== 'string') throw invalid(`token of type ${typeof token}`)
  if (token.length > maxLength) throw invalid(`token of ${token.length} bytes exceeds maxTokenLength ${maxLength}`)
}

/**
 * Reads compact JWS tokens for one verifier, keeping the headers it has checked (by their text: a
 * header is parsed and checked once, then shared).
 */
export class JwsReader {
  private readonly headers = new Map<string, JWSHeaderParameters>()
  // an issuer signs with one or two headers: comparing with the last one is cheaper than hashing
  // the header string for the Map (a token's parts are always new strings)
  private lastHeaderText = ''
  private lastHeader: JWSHeaderParameters | undefined
  // refilled for every token, not allocated: the caller reads its fields at once
  private readonly parts: JwsParts = { header: {}, payload: {}, signature: new Uint8Array(0), signedLength: 0 }

  /** The token's parts, or throws `InvalidTokenError`. The answer is reused by the next call: read it at once. */
  read(token: string): JwsParts {
    const d1 = token.indexOf('.')
    const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1)
    if (d2 === -1) throw invalid('not a compact JWS: expected three dot-separated parts')
    if (token.indexOf('.', d2 + 1) !== -1) {
      throw invalid(token.split('.').length === 5 ? 'JWE (encrypted) tokens are not accepted' : 'not a compact JWS: too many parts')
    }
    const h = token.slice(0, d1)
    const p = token.slice(d1 + 1, d2)
    const s = token.slice(d2 + 1)
    if (h === '' || p === '' || s === '') throw invalid('a part of the JWS is empty (unsigned tokens are not accepted)')
    let header = h === this.lastHeaderText ? this.lastHeader : this.headers.get(h)
    if (header === undefined && !isBase64url(h)) throw invalid('a part of the JWS is not base64url')
    // payload and signature: checked canonical while decoded (both decoders answer as isBase64url);
    // the payload is parsed now (from scratch bytes), its JSON refused only after the header's checks
    const payload = decodeJsonPart(p)
    const signature = payload !== NOT_BASE64URL && decodeCanonical(s)
    if (!signature) throw invalid('a part of the JWS is not base64url')
    if (header === undefined) {
      header = parseHeader(h)
      if (h.length <= HEADER_CACHE_MAX_LENGTH) {
        if (this.headers.size >= HEADER_CACHE_MAX) this.headers.clear()
        this.headers.set(h, header)
      }
    }
    if (h.length <= HEADER_CACHE_MAX_LENGTH) {
      this.lastHeaderText = h
      this.lastHeader = header
    }
    if (!payload) throw invalid('payload is not a JSON object')
    const parts = this.parts
    parts.header = header
    parts.payload = payload as JWTPayload
    parts.signature = signature
    parts.signedLength = d2
    return parts
  }
}

/** The header's checks that do not depend on the issuer; the header comes back frozen. */
export function parseHeader(h: string): JWSHeaderParameters {
  const text = decodeJsonText(h)
  const header = text === undefined ? undefined : (parseJsonText(text) as JWSHeaderParameters | undefined)
  if (!header) throw invalid('header is not a JSON object')
  // JSON parsers disagree on repeated names (first or last wins): RFC 7515 §4 lets us refuse them
  const duplicate = findDuplicateMember(text as string)
  if (duplicate !== undefined) throw invalid(`header has the member ${JSON.stringify(duplicate.slice(0, 40))} twice`)
  const alg = header.alg
  if (typeof alg !== 'string') throw invalid('header has no alg')
  if (alg.toLowerCase() === 'none') throw invalid('alg "none" is never accepted')
  if (header.crit !== undefined) throw invalid('header has crit: no extensions are supported')
  if (header.b64 !== undefined && header.b64 !== true) throw invalid('b64 other than true is not allowed in a JWT')
  if (header.kid !== undefined && typeof header.kid !== 'string') throw invalid('kid is not a string')
  // a nested JWT (RFC 7519 §5.2) signs another token, not claims: not supported
  if (typeof header.cty === 'string' && /^(application\/)?jwt$/i.test(header.cty)) throw invalid(`cty ${JSON.stringify(header.cty)}: nested JWTs are not accepted`)
  return deepFreeze(header)
}
