/**
 * DPoP proofs (RFC 9449) as the auth service checks them, with jose.
 *
 * At the token endpoints (`/token`, `/refresh_token`) a valid proof binds what is issued to the
 * proof's key: the access token gets `cnf.jkt` (the key's RFC 7638 thumbprint) and the refresh
 * token's family is bound to the same key, so a refresh needs a proof signed with it (§5). At
 * `/logout`, which takes an access token, a DPoP-bound token needs `Authorization: DPoP` and a
 * proof carrying `ath` (§7).
 *
 * Every check of §4.3: exactly one `DPoP` header; a compact JWS with `typ: dpop+jwt`; an asymmetric
 * `alg` from the allowlist; a public `jwk` in the header (no private members); the signature;
 * `htm` = the method; `htu` = the endpoint's URL, ignoring query and fragment (both sides normalised
 * by the WHATWG URL parser: scheme and host case, default ports); `iat` within `maxAge` in the past
 * (and at most `CLOCK_SKEW` seconds in the future); `jti` not seen before for this URL within that
 * window (a bounded in-process cache: behind several instances it would be shared, e.g. Redis
 * `SET NX PX`); `ath` absent at the token endpoint and equal to base64url(SHA-256(access token))
 * at a resource; and, when server nonces are on (§8), a `nonce` this service issued recently.
 *
 * Nonces are stateless: `<window>.<HMAC-SHA256(secret, window)>` for the current time window of
 * `lifetime` seconds; the current and the previous window are accepted, so a nonce lives between
 * one and two lifetimes and no instance needs to remember any.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose'

/** Seconds a proof's `iat` may lie in the future (clocks differ a little). */
export const CLOCK_SKEW = 5
/** A DPoP header longer than this is refused before any parsing (an RSA-4096 proof is ~1.9 KB). */
const MAX_PROOF_CHARS = 4096
const MAX_JTI_CHARS = 256
/** JWK members that only private or symmetric keys have. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

export interface DpopSettings {
  /** Accepted proof algorithms (asymmetric only; `DPOP_SIGNING_ALGS`). */
  algorithms: string[]
  /** How old a proof may be, seconds (`DPOP_PROOF_MAX_AGE`, default 60). */
  maxAge: number
  /** Server nonces (`DPOP_NONCE=1`): `use_dpop_nonce` until the client sends a fresh one. */
  nonce: false | { secret: Uint8Array; lifetime: number }
  /** Most proofs remembered for replay detection at once (default 10 000). */
  replayCapacity?: number
}

/** Why a proof was refused: `use_dpop_nonce` asks the client to retry with the nonce it is sent. */
export class DpopError extends Error {
  constructor(
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'temporarily_unavailable',
    readonly description: string,
  ) {
    super(description)
  }
}

export interface CheckedProof {
  /** RFC 7638 thumbprint (SHA-256) of the proof's key: what `cnf.jkt` carries. */
  jkt: string
  jwk: JWK
}

export interface ProofInput {
  /** The `DPoP` header as received (several headers arrive joined by `, `). */
  header: string | undefined
  method: string
  /** The endpoint's public URL (issuer + path). */
  url: string
  /** The access token the proof goes with (resources); undefined at the token endpoint. */
  accessToken?: string
}

export interface DpopChecker {
  readonly algorithms: readonly string[]
  /** Undefined when there is no `DPoP` header; the checked proof; or throws a `DpopError`. */
  check(input: ProofInput): Promise<CheckedProof | undefined>
  /** A fresh nonce to send in `DPoP-Nonce` (undefined when nonces are off). */
  nonce(): string | undefined
}

const SYMMETRIC = /^HS/
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

/** The comparable form of an `htu`: scheme, host, port and path; no query, no fragment. */
function normaliseHtu(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  return `${url.origin}${url.pathname}`
}

/** A bounded set of (url, jti) seen, each forgotten once its proof is too old to be accepted. */
function replayCache(capacity: number) {
  const seen = new Map<string, number>() // key → expiry (ms); insertion order ≈ expiry order
  return {
    /** True the first time a key is seen within its lifetime; throws when the cache is full. */
    mark(key: string, expiresAt: number, now: number): boolean {
      const known = seen.get(key)
      if (known !== undefined && known > now) return false
      if (seen.size >= capacity) {
        for (const [k, exp] of seen) if (exp <= now) seen.delete(k)
      }
      // never fail open: when every remembered proof is still live, refuse rather than forget one
      if (seen.size >= capacity) {
        throw new DpopError('temporarily_unavailable', 'too many DPoP proofs, retry later')
      }
      seen.set(key, expiresAt)
      return true
    },
  }
}

export function createDpopChecker(
  settings: DpopSettings,
  now: () => number = () => Date.now(),
): DpopChecker {
  const algorithms = settings.algorithms.filter((alg) => alg !== 'none' && !SYMMETRIC.test(alg))
  if (algorithms.length === 0 || algorithms.length !== settings.algorithms.length) {
    throw new Error('DPoP algorithms must be asymmetric JWS algorithms (not none, not HS*)')
  }
  const replays = replayCache(settings.replayCapacity ?? 10_000)
  const nonces = settings.nonce
    ? statelessNonces(settings.nonce.secret, settings.nonce.lifetime)
    : undefined

  async function check({ header, method, url, accessToken }: ProofInput) {
    if (header === undefined) return undefined
    const fail = (description: string): never => {
      throw new DpopError('invalid_dpop_proof', description)
    }
    if (header.length > MAX_PROOF_CHARS) fail('DPoP proof too large')
    // a compact JWS has no comma or space: one there means several DPoP headers were sent
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(header)) fail('expected exactly one DPoP proof (a JWS)')

    let protectedHeader: ReturnType<typeof decodeProtectedHeader>
    try {
      protectedHeader = decodeProtectedHeader(header)
    } catch {
      return fail('malformed DPoP proof')
    }
    if (protectedHeader.typ !== 'dpop+jwt') fail('DPoP proof typ must be dpop+jwt')
    if (typeof protectedHeader.alg !== 'string' || !algorithms.includes(protectedHeader.alg)) {
      fail('DPoP proof alg not allowed')
    }
    const jwk = protectedHeader.jwk
    if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) fail('DPoP proof has no jwk')
    if (PRIVATE_MEMBERS.some((member) => member in jwk!)) fail('DPoP proof jwk must be a public key')

    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(header, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms,
        currentDate: new Date(now()),
      }))
    } catch {
      return fail('DPoP proof signature or key invalid')
    }

    const { htm, htu, iat, jti, ath, nonce } = payload
    if (htm !== method) fail('DPoP proof htm mismatch')
    const expected = normaliseHtu(url)
    if (typeof htu !== 'string' || normaliseHtu(htu) === undefined || normaliseHtu(htu) !== expected) {
      fail('DPoP proof htu mismatch')
    }
    const nowSeconds = now() / 1000
    if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('DPoP proof has no iat')
    if ((iat as number) > nowSeconds + CLOCK_SKEW) fail('DPoP proof iat is in the future')
    if ((iat as number) < nowSeconds - settings.maxAge) fail('DPoP proof too old')
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_CHARS) fail('DPoP proof jti missing')

    if (accessToken === undefined) {
      if (ath !== undefined) fail('DPoP proof ath not allowed at the token endpoint')
    } else if (typeof ath !== 'string' || ath !== sha256(accessToken)) {
      fail('DPoP proof ath mismatch')
    }

    if (nonces && (typeof nonce !== 'string' || !nonces.valid(nonce))) {
      throw new DpopError('use_dpop_nonce', 'a DPoP nonce is required')
    }

    // last, so that a proof refused above does not use up its jti
    const expiresAt = ((iat as number) + settings.maxAge + CLOCK_SKEW) * 1000
    if (!replays.mark(`${expected} ${jti as string}`, expiresAt, now())) fail('DPoP proof replayed')

    return { jkt: await calculateJwkThumbprint(jwk as JWK, 'sha256'), jwk: jwk as JWK }
  }

  return { algorithms, check, nonce: () => nonces?.issue() }

  function statelessNonces(secret: Uint8Array, lifetime: number) {
    const mac = (window: number) =>
      createHmac('sha256', secret).update(`dpop-nonce:${window}`).digest('base64url')
    const windowAt = () => Math.floor(now() / 1000 / lifetime)
    return {
      issue: () => {
        const window = windowAt()
        return `${window.toString(36)}.${mac(window)}`
      },
      valid(value: string) {
        const match = /^([0-9a-z]{1,12})\.([\w-]{43})$/.exec(value)
        if (!match) return false
        const window = parseInt(match[1]!, 36)
        const current = windowAt()
        if (window !== current && window !== current - 1) return false
        const expected = Buffer.from(mac(window))
        const given = Buffer.from(match[2]!)
        return given.length === expected.length && timingSafeEqual(given, expected)
      },
    }
  }
}

/** A random nonce secret, for a single instance (several instances share `DPOP_NONCE_SECRET`). */
export const randomNonceSecret = () => new Uint8Array(randomBytes(32))
