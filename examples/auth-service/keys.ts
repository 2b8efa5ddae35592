/**
 * Signing keys and their rotation.
 *
 * A resource service caches the JWKS (bearer-guard: 10 minutes by default). If a new key signed
 * tokens the moment it was created, services with a cached JWKS would not know its `kid` yet. So a
 * key goes through three states:
 *
 *   next     published in /jwks.json, not signing yet   (caches learn it ahead of time)
 *   active   signs every new token
 *   retired  published until the last token it signed has expired, then dropped
 *
 * `rotate()` moves each key one state on and creates a new `next`. Call it less often than the
 * resource services' JWKS cache age, so the `next` key has reached every cache before it signs.
 *
 * In the seed's HS256 mode there is one shared secret and nothing to publish: rotating a shared
 * secret means redeploying every service, one of the reasons to prefer asymmetric keys.
 */
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose'

type KeyState = 'next' | 'active' | 'retired'

interface ManagedKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
  state: KeyState
  /** For retired keys: when (ms) the last token signed with it expires. */
  dropAfter?: number
}

export interface KeyRing {
  readonly algorithm: 'ES256' | 'HS256'
  /**
   * Signs a JWT with the active key, `typ: at+jwt` (RFC 9068) unless told otherwise (e.g.
   * `token-introspection+jwt`, RFC 9701).
   */
  sign(claims: JWTPayload, typ?: string): Promise<string>
  /** The public JWKS: next, active and retired keys (empty in HS256 mode). */
  jwks(now?: number): { keys: JWK[] }
  /** Verification material for tokens this service issued (used by /revoke and /logout). */
  verificationKeys(now?: number): { keys: JWK[] } | Uint8Array
  /** One rotation step; `maxTokenLifetime` (seconds) says how long the retiring key stays published. */
  rotate(maxTokenLifetime: number, now?: number): Promise<void>
  /** The kid of the active key (undefined with HS256). */
  readonly activeKid: string | undefined
}

const ALG = 'ES256'

async function newKey(state: KeyState): Promise<ManagedKey> {
  // extractable so we can export the public half; the private half never leaves this process
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk) // RFC 7638: a kid derived from the key itself
  return { kid, privateKey, state, publicJwk: { ...jwk, kid, alg: ALG, use: 'sig' } }
}

/** An ES256 key ring: one active key and one `next` key from the start. */
export async function createKeyRing(): Promise<KeyRing> {
  let keys: ManagedKey[] = [await newKey('active'), await newKey('next')]
  const active = () => keys.find((k) => k.state === 'active')!
  const published = (now: number) => {
    keys = keys.filter((k) => k.state !== 'retired' || (k.dropAfter ?? 0) > now)
    return { keys: keys.map((k) => k.publicJwk) }
  }

  return {
    algorithm: ALG,
    get activeKid() {
      return active().kid
    },
    sign: (claims, typ = 'at+jwt') => {
      const key = active()
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid: key.kid, typ })
        .sign(key.privateKey)
    },
    jwks: (now = Date.now()) => published(now),
    verificationKeys: (now = Date.now()) => published(now),
    async rotate(maxTokenLifetime, now = Date.now()) {
      for (const key of keys) {
        if (key.state === 'active') {
          key.state = 'retired'
          key.dropAfter = now + maxTokenLifetime * 1000
        } else if (key.state === 'next') {
          key.state = 'active'
        }
      }
      keys.push(await newKey('next'))
    },
  }
}

/** The seed's mode: HS256 with a shared secret (at least 32 bytes, checked by the config). */
export function createSecretKeyRing(secret: string): KeyRing {
  const key = new TextEncoder().encode(secret)
  return {
    algorithm: 'HS256',
    activeKid: undefined,
    sign: (claims, typ = 'at+jwt') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ }).sign(key),
    jwks: () => ({ keys: [] }),
    verificationKeys: () => key,
    async rotate() {
      throw new Error('a shared HS256 secret cannot be rotated by the auth service alone')
    },
  }
}
