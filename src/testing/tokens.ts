/**
 * Signing for the test issuer (private): RFC 9068 access tokens with overridable defaults, and the
 * hostile tokens a verifier must refuse — unsigned (`alg: none`), HMAC-signed with the public key
 * (key confusion), or signed by a key that is never published.
 *
 * @module bearer-guard/testing
 */
import { base64url, CompactSign, exportSPKI, type JWSHeaderParameters } from 'jose'
import type { Algorithm } from '../core/types.js'
import { toSeconds } from './duration.js'
import { makeKey, type KeyRing, type TestKey } from './key-ring.js'
import type { SignOptions } from './types.js'

/** What a signer reads from its issuer when it signs. */
export interface SignerContext {
  readonly ring: KeyRing
  /** The issuer URL (`iss`); read at signing time, as a `listen: true` issuer learns it late. */
  issuer(): string
  readonly audience: string | string[]
}

/** `sign(claims, options)` of a test issuer. */
export type Sign = (claims?: Record<string, unknown>, options?: SignOptions) => Promise<string>

const DEFAULT_SUBJECT = 'user-123'
const encoder = new TextEncoder()

/**
 * The `sign` function of one issuer: defaults (`iss`, `sub`, `aud`, `iat`, `exp` in 5 minutes, a
 * random `jti`; header `{ alg, kid, typ: 'at+jwt' }`), then `options`, then `claims` last.
 */
export function createSigner(context: SignerContext): Sign {
  const attackKeys = createAttackKeys()
  return async function sign(claims = {}, opts = {}) {
    const key = context.ring.current
    const now = Math.floor(Date.now() / 1000)
    const payload: Record<string, unknown> = {
      iss: opts.issuer ?? context.issuer(),
      sub: opts.subject ?? DEFAULT_SUBJECT,
      aud: opts.audience ?? context.audience,
      iat: opts.issuedAt === undefined ? now : epoch(opts.issuedAt, now, 'issuedAt'),
      exp: now + toSeconds(opts.expiresIn ?? '5m', 'expiresIn'),
      jti: crypto.randomUUID(),
    }
    if (opts.notBefore !== undefined) payload.nbf = epoch(opts.notBefore, now, 'notBefore')
    Object.assign(payload, claims)
    const alg = opts.algorithm ?? key.alg
    const header: Record<string, unknown> = {
      alg,
      kid: 'kid' in opts ? opts.kid : key.kid,
      typ: 'typ' in opts ? opts.typ : 'at+jwt',
      ...opts.header,
    }
    const body = encoder.encode(JSON.stringify(payload))
    const headerAlg = typeof header.alg === 'string' ? header.alg : alg
    if (headerAlg === 'none') return unsignedToken(header, body)
    return new CompactSign(body)
      .setProtectedHeader(header as unknown as JWSHeaderParameters & { alg: string })
      .sign(await attackKeys.signingKey(headerAlg, key))
  }
}

/** The signer's options for a token that expired ten minutes ago (issued an hour ago). */
export function expiredOptions(): SignOptions {
  return { issuedAt: Math.floor(Date.now() / 1000) - 3600, expiresIn: '-10m' }
}

/** A compact JWS with an empty signature. */
function unsignedToken(header: Record<string, unknown>, body: Uint8Array): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(body)}.`
}

/**
 * The key a token with `alg` is signed with: the issuer's own for its algorithm; for HS* on an
 * asymmetric issuer, the public key's SPKI PEM as the HMAC secret (the classic key-confusion attack);
 * for any other algorithm a throw-away key, made once per algorithm and never published.
 */
function createAttackKeys() {
  const foreign = new Map<string, Promise<CryptoKey | Uint8Array>>()
  return {
    async signingKey(alg: string, key: TestKey): Promise<CryptoKey | Uint8Array> {
      if (alg === key.alg) return key.signingKey
      if (alg.startsWith('HS') && key.publicKey !== undefined) return encoder.encode(await exportSPKI(key.publicKey))
      let made = foreign.get(alg)
      if (made === undefined) {
        made = makeKey(alg as Algorithm, 'foreign').then((k) => k.signingKey)
        foreign.set(alg, made)
      }
      return made
    },
  }
}

function epoch(value: number | string | Date, now: number, name: string): number {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000)
  if (typeof value === 'number') return value
  return now + toSeconds(value, name)
}
