/**
 * The attack table: hostile tokens with the verifier options they are sent to and the refusal each
 * must get. test/core/attacks.test.ts runs it through both crypto backends;
 * test/core/crypto-backends.test.ts checks that both backends decide every row the same way.
 */
import { exportSPKI, importJWK, type JWK } from 'jose'
import { InvalidTokenError, TokenExpiredError, type IssuerOptions } from 'bearer-guard'
import {
  AUDIENCE,
  b64,
  b64json,
  forge,
  generateKey,
  ISSUER,
  parts,
  rawSign,
  validClaims,
  type ForgeKey,
  type Refusal,
} from './forge.js'

export interface Fixture {
  rsa: ForgeKey
  rsaOther: ForgeKey
  ec: ForgeKey
  ec384: ForgeKey
  ed: ForgeKey
  hs: ForgeKey
  attacker: ForgeKey
  rsa1024: ForgeKey
}

export async function createFixture(): Promise<Fixture> {
  const [rsa, rsaOther, ec, ec384, ed, hs, attacker, rsa1024] = await Promise.all([
    generateKey('RS256', 'rsa-1'),
    generateKey('RS256', 'rsa-1'),
    generateKey('ES256', 'ec-1'),
    generateKey('ES384', 'ec-384'),
    generateKey('EdDSA', 'ed-1'),
    generateKey('HS256', 'hs-1'),
    generateKey('ES256', 'attacker'),
    generateKey('RS256', 'rsa-1024', 1024),
  ])
  return { rsa, rsaOther, ec, ec384, ed, hs, attacker, rsa1024 }
}

/** Options trusting `keys` (public JWKs) for the forge issuer and audience. */
export function keysOptions(keys: JWK[] | JWK, extra: Partial<IssuerOptions> = {}): IssuerOptions {
  return { issuer: ISSUER, audience: AUDIENCE, keys: Array.isArray(keys) ? { keys } : keys, ...extra } as IssuerOptions
}

export function secretOptions(key: ForgeKey, extra: Partial<IssuerOptions> = {}): IssuerOptions {
  return { issuer: ISSUER, audience: AUDIENCE, secret: key.privateKey as Uint8Array, ...extra } as IssuerOptions
}

export interface AttackCase {
  name: string
  make(fx: Fixture): Promise<{ token: string; options: IssuerOptions }>
  refusal: Refusal
}

const none = (variant: string, signature: string) => `${b64json({ alg: variant, typ: 'at+jwt' })}.${b64json(validClaims())}.${signature}`

const P256_N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'
const hex = (h: string) => Uint8Array.from(h.match(/../g) as string[], (x) => parseInt(x, 16))

/** Replaces the signature of a token. */
const withSignature = (token: string, sig: string) => `${parts(token)[0]}.${parts(token)[1]}.${sig}`

const rsaOptions = (fx: Fixture, extra: Partial<IssuerOptions> = {}) => keysOptions(fx.rsa.publicJwk as JWK, extra)

export const ATTACKS: AttackCase[] = [
  ...['none', 'None', 'NONE', 'nOnE'].flatMap((variant): AttackCase[] => [
    {
      name: `refuses alg "${variant}" without a signature`,
      make: async (fx) => ({ token: none(variant, ''), options: rsaOptions(fx) }),
      refusal: { error: InvalidTokenError, reason: 'unsigned tokens are not accepted' },
    },
    {
      name: `refuses alg "${variant}" even with a signature part`,
      make: async (fx) => ({ token: none(variant, b64('sig')), options: rsaOptions(fx) }),
      refusal: { error: InvalidTokenError, reason: /alg "none" is never accepted/ },
    },
  ]),
  {
    name: 'refuses alg "none" against a shared-secret verifier',
    make: async (fx) => ({ token: none('none', b64('x')), options: secretOptions(fx.hs) }),
    refusal: { reason: 'alg "none" is never accepted' },
  },
  {
    name: 'refuses an HS256 token signed with the RSA public key PEM as HMAC secret (key confusion)',
    make: async (fx) => {
      const pem = await exportSPKI((await importJWK(fx.rsa.publicJwk as JWK, 'RS256', { extractable: true })) as CryptoKey)
      const token = await forge({ ...fx.rsa, alg: 'HS256', privateKey: new TextEncoder().encode(pem) })
      return { token, options: rsaOptions(fx) }
    },
    refusal: { reason: /alg "HS256" is not allowed \(allowed: [A-Z0-9, ]*RS256/ },
  },
  {
    name: 'refuses an HS256 token signed with the RSA public JWK JSON as HMAC secret, even with RS256 allowlisted',
    make: async (fx) => {
      const secret = new TextEncoder().encode(JSON.stringify(fx.rsa.publicJwk))
      const token = await forge({ ...fx.rsa, alg: 'HS256', privateKey: secret })
      return { token, options: rsaOptions(fx, { algorithms: ['RS256'] }) }
    },
    refusal: { reason: 'alg "HS256" is not allowed (allowed: RS256)' },
  },
  {
    name: 'refuses an HS256 token signed with the EC public key bytes as HMAC secret',
    make: async (fx) => {
      const jwk = fx.ec.publicJwk as JWK
      const secret = new Uint8Array([4, ...b64decode(jwk.x as string), ...b64decode(jwk.y as string)])
      const token = await forge({ ...fx.ec, alg: 'HS256', privateKey: secret })
      return { token, options: keysOptions(jwk) }
    },
    refusal: { reason: 'alg "HS256" is not allowed' },
  },
  {
    name: 'refuses a token whose embedded jwk header carries the attacker key',
    make: async (fx) => {
      const token = await forge(fx.attacker, { header: { kid: fx.ec.kid, jwk: fx.attacker.publicJwk } })
      return { token, options: keysOptions(fx.ec.publicJwk as JWK) }
    },
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses a token with an embedded jwk header and no kid',
    make: async (fx) => {
      const token = await forge(fx.attacker, { header: { kid: undefined, jwk: fx.attacker.publicJwk } })
      return { token, options: keysOptions(fx.ec.publicJwk as JWK) }
    },
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses an attacker-signed token carrying an x5c chain (x5c is never used)',
    make: async (fx) => {
      const token = await forge(fx.attacker, { header: { kid: fx.ec.kid, x5c: [b64('not a certificate')] } })
      return { token, options: keysOptions(fx.ec.publicJwk as JWK) }
    },
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses an unknown critical header parameter',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { crit: ['exp'], exp: 1 } }), options: rsaOptions(fx) }),
    refusal: { reason: 'header has crit' },
  },
  {
    name: 'refuses crit ["b64"] with b64 false (RFC 7797 unencoded payload)',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { crit: ['b64'], b64: false } }), options: rsaOptions(fx) }),
    refusal: { reason: 'header has crit' },
  },
  {
    name: 'refuses b64 false without crit',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { b64: false } }), options: rsaOptions(fx) }),
    refusal: { reason: 'b64 other than true is not allowed' },
  },
  {
    name: 'refuses an ES256 signature with r = s = 0 (64 zero bytes)',
    make: async (fx) => ({ token: withSignature(await forge(fx.ec), b64(new Uint8Array(64))), options: keysOptions(fx.ec.publicJwk as JWK) }),
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses an ES256 signature with r = s = n (the curve order)',
    make: async (fx) => ({ token: withSignature(await forge(fx.ec), b64(hex(P256_N + P256_N))), options: keysOptions(fx.ec.publicJwk as JWK) }),
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses an ES256 signature in DER form instead of r||s',
    make: async (fx) => {
      const token = await forge(fx.ec)
      const raw = b64decode(parts(token)[2])
      const int = (b: Uint8Array) => (b[0]! & 0x80 ? [0, ...b] : [...b])
      const r = int(raw.slice(0, 32))
      const s = int(raw.slice(32))
      const der = new Uint8Array([0x30, r.length + s.length + 4, 2, r.length, ...r, 2, s.length, ...s])
      return { token: withSignature(token, b64(der)), options: keysOptions(fx.ec.publicJwk as JWK) }
    },
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses a 5-part JWE-shaped token',
    make: async (fx) => ({ token: `${b64json({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${b64('k')}.${b64('iv')}.${b64('ct')}.${b64('tag')}`, options: rsaOptions(fx) }),
    refusal: { reason: 'JWE (encrypted) tokens are not accepted' },
  },
  {
    name: 'refuses a 4-part token',
    make: async (fx) => ({ token: `${await forge(fx.rsa)}.${b64('extra')}`, options: rsaOptions(fx) }),
    refusal: { reason: 'too many parts' },
  },
  {
    name: 'refuses a token with an empty signature',
    make: async (fx) => ({ token: withSignature(await forge(fx.rsa), ''), options: rsaOptions(fx) }),
    refusal: { reason: 'a part of the JWS is empty' },
  },
  {
    name: 'refuses a token without its signature part',
    make: async (fx) => ({ token: (await forge(fx.rsa)).split('.').slice(0, 2).join('.'), options: rsaOptions(fx) }),
    refusal: { reason: 'expected three dot-separated parts' },
  },
  {
    name: 'refuses a token that is only a header',
    make: async (fx) => ({ token: parts(await forge(fx.rsa))[0], options: rsaOptions(fx) }),
    refusal: { reason: 'expected three dot-separated parts' },
  },
  {
    name: 'refuses an empty header part',
    make: async (fx) => ({ token: `.${parts(await forge(fx.rsa)).slice(1).join('.')}`, options: rsaOptions(fx) }),
    refusal: { reason: 'a part of the JWS is empty' },
  },
  {
    name: 'refuses an empty payload part',
    make: async (fx) => {
      const [h, , s] = parts(await forge(fx.rsa))
      return { token: `${h}..${s}`, options: rsaOptions(fx) }
    },
    refusal: { reason: 'a part of the JWS is empty' },
  },
  {
    name: 'refuses a token signed by another key with the same kid',
    make: async (fx) => ({ token: await forge(fx.rsaOther), options: rsaOptions(fx) }),
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses a token whose payload was changed after signing',
    make: async (fx) => {
      const [h, , s] = parts(await forge(fx.rsa))
      return { token: `${h}.${b64json(validClaims({ sub: 'admin' }))}.${s}`, options: rsaOptions(fx) }
    },
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses a token with a wrong HMAC secret',
    make: async (fx) => ({ token: await forge({ ...fx.hs, privateKey: crypto.getRandomValues(new Uint8Array(32)) }), options: secretOptions(fx.hs) }),
    refusal: { reason: 'signature verification failed' },
  },
  {
    name: 'refuses exp given as a string',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ exp: String(Math.floor(Date.now() / 1000) + 300) }) }), options: rsaOptions(fx) }),
    refusal: { reason: 'exp is not a number', claim: 'exp' },
  },
  {
    name: 'refuses a token without exp',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ exp: undefined }) }), options: rsaOptions(fx) }),
    refusal: { reason: 'exp missing', claim: 'exp' },
  },
  {
    name: 'refuses a negative exp as expired',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ exp: -1 }) }), options: rsaOptions(fx) }),
    refusal: { error: TokenExpiredError, reason: /exp -1 is past/, claim: 'exp' },
  },
  {
    name: 'refuses nbf in the future',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ nbf: Math.floor(Date.now() / 1000) + 120 }) }), options: rsaOptions(fx) }),
    refusal: { reason: /nbf \d+ is in the future/, claim: 'nbf' },
  },
  {
    name: 'refuses iat in the future',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ iat: Math.floor(Date.now() / 1000) + 120 }) }), options: rsaOptions(fx) }),
    refusal: { reason: /iat \d+ is in the future/, claim: 'iat' },
  },
  {
    name: 'refuses an iss mismatch',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ iss: 'https://evil.test' }) }), options: rsaOptions(fx) }),
    refusal: { reason: `iss mismatch: got "https://evil.test", expected "${ISSUER}"`, claim: 'iss' },
  },
  {
    name: 'refuses an aud mismatch',
    make: async (fx) => ({ token: await forge(fx.rsa, { claims: validClaims({ aud: ['https://other-api.test'] }) }), options: rsaOptions(fx) }),
    refusal: { reason: /aud mismatch: got \["https:\/\/other-api.test"\], expected/, claim: 'aud' },
  },
  {
    name: 'refuses typ "JWT" when tokenType is at+jwt',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { typ: 'JWT' } }), options: rsaOptions(fx, { tokenType: 'at+jwt' }) }),
    refusal: { reason: 'typ "JWT" is not "at+jwt"', claim: 'typ' },
  },
  {
    name: 'refuses a missing typ when tokenType is at+jwt',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { typ: undefined } }), options: rsaOptions(fx, { tokenType: 'at+jwt' }) }),
    refusal: { reason: 'typ missing, expected "at+jwt"', claim: 'typ' },
  },
  {
    name: 'refuses a refresh token where token_type must be access',
    make: async (fx) => ({
      token: await forge(fx.rsa, { claims: validClaims({ token_type: 'refresh' }) }),
      options: rsaOptions(fx, { tokenType: { claim: 'token_type', value: 'access' } }),
    }),
    refusal: { reason: 'token type claim "token_type" is "refresh", expected "access"', claim: 'token_type' },
  },
  {
    name: 'refuses a non-JSON payload',
    make: async (fx) => ({ token: await forge(fx.rsa, { payload: 'not json' }), options: rsaOptions(fx) }),
    refusal: { reason: 'payload is not a JSON object' },
  },
  ...([['array', '[1,2]'], ['null', 'null'], ['number', '42'], ['string', '"claims"']] as const).map(([kind, payload]): AttackCase => ({
    name: `refuses a JSON ${kind} payload`,
    make: async (fx) => ({ token: await forge(fx.rsa, { payload }), options: rsaOptions(fx) }),
    refusal: { reason: 'payload is not a JSON object' },
  })),
  {
    name: 'refuses a payload with invalid UTF-8',
    make: async (fx) => {
      const json = new TextEncoder().encode(JSON.stringify(validClaims({ name: 'XX' })))
      const at = json.indexOf(0x58)
      json.set([0xc3, 0x28], at) // an invalid 2-byte sequence
      return { token: await forge(fx.rsa, { payload: json }), options: rsaOptions(fx) }
    },
    refusal: { reason: 'payload is not a JSON object' },
  },
  {
    name: 'refuses a header that is not JSON',
    make: async (fx) => {
      const [, p, s] = parts(await forge(fx.rsa))
      return { token: `${b64('{"alg":"RS256"')}.${p}.${s}`, options: rsaOptions(fx) }
    },
    refusal: { reason: 'header is not a JSON object' },
  },
  {
    name: 'refuses a token whose kid matches two keys of the key set (ambiguous)',
    make: async (fx) => ({ token: await forge(fx.rsa), options: keysOptions([fx.rsa.publicJwk as JWK, fx.rsaOther.publicJwk as JWK]) }),
    refusal: { reason: 'matches 2 keys: ambiguous' },
  },
  ...([['number', 123], ['object', { id: 'rsa-1' }], ['array', ['rsa-1']], ['null', null]] as const).map(([kind, kid]): AttackCase => ({
    name: `refuses a kid of type ${kind}`,
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { kid } }), options: rsaOptions(fx) }),
    refusal: { reason: 'kid is not a string' },
  })),
  {
    name: 'refuses an RS256 token when the allowlist is ES256',
    make: async (fx) => ({ token: await forge(fx.rsa), options: keysOptions([fx.rsa.publicJwk as JWK, fx.ec.publicJwk as JWK], { algorithms: ['ES256'] }) }),
    refusal: { reason: 'alg "RS256" is not allowed (allowed: ES256)' },
  },
  {
    name: 'refuses an ES256 token against an RSA key',
    make: async (fx) => ({ token: await forge(fx.ec, { header: { kid: fx.rsa.kid } }), options: rsaOptions(fx, { algorithms: ['RS256', 'ES256'] }) }),
    refusal: { reason: 'no configured key fits kid "rsa-1" and alg ES256' },
  },
  {
    name: 'refuses an ES256 token against an RSA key with the default allowlist',
    make: async (fx) => ({ token: await forge(fx.ec, { header: { kid: fx.rsa.kid } }), options: rsaOptions(fx) }),
    refusal: { reason: 'alg "ES256" is not allowed' },
  },
  {
    name: 'refuses an ES384 token against a P-256 key',
    make: async (fx) => ({ token: await forge(fx.ec384, { header: { kid: fx.ec.kid } }), options: keysOptions(fx.ec.publicJwk as JWK, { algorithms: ['ES256', 'ES384'] }) }),
    refusal: { reason: 'no configured key fits kid "ec-1" and alg ES384' },
  },
  {
    name: 'refuses a token signed by an RSA key under 2048 bits (the key is skipped)',
    // the warning about the skipped key: test/core/attacks.test.ts
    make: async (fx) => ({ token: await forge(fx.rsa1024), options: keysOptions([fx.rsa1024.publicJwk as JWK, fx.rsa.publicJwk as JWK], { logger: false }) }),
    refusal: { reason: 'no configured key fits kid "rsa-1024" and alg RS256' },
  },
  {
    name: 'refuses a token with an oversized kid without echoing it whole',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { kid: 'k'.repeat(4000) } }), options: rsaOptions(fx) }),
    refusal: { reason: /^no configured key fits kid "k{64}" and alg RS256$/ },
  },
  {
    name: 'refuses an oversized alg without echoing it whole',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { alg: `RS256${'x'.repeat(4000)}` }, signAlg: 'RS256' }), options: rsaOptions(fx) }),
    refusal: { reason: /^alg "RS256x{15}" is not allowed/ },
  },
  {
    name: 'refuses a header too large for maxTokenLength before decoding it',
    make: async (fx) => ({ token: await forge(fx.rsa, { header: { x: 'y'.repeat(9000) } }), options: rsaOptions(fx) }),
    refusal: { reason: /exceeds maxTokenLength 8192/ },
  },
  {
    name: 'refuses a non-canonical spelling of the signature (unused low bits set)',
    make: async (fx) => {
      const token = await forge(fx.ec) // 64 bytes: 86 characters, the last one with 4 unused bits
      const s = parts(token)[2]
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = alphabet[alphabet.indexOf(s.at(-1) as string) | 1] as string
      return { token: withSignature(token, s.slice(0, -1) + last), options: keysOptions(fx.ec.publicJwk as JWK) }
    },
    refusal: { reason: 'not base64url' },
  },
  {
    name: 'refuses non-base64url characters in the signature',
    make: async (fx) => ({ token: `${await forge(fx.rsa)}=`, options: rsaOptions(fx) }),
    refusal: { reason: 'not base64url' },
  },
]

function b64decode(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4))
  return Uint8Array.from(bin, (c) => c.charCodeAt(0))
}

export { b64decode, rawSign }
