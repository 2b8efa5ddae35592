/**
 * Project Wycheproof JWS and JWK vectors (test/vectors/wycheproof, copied verbatim; see SOURCE).
 *
 * The vectors sign non-JSON payloads ("foo"), which the engine refuses before any signature check,
 * so each mutation is re-created on a JWT with JSON claims: the JWT is signed with the group's
 * private key under the vector's own header, then the vector's mutation is applied (a recipe per
 * `comment`). Where a recipe is a pure function of the token, it is first checked against the
 * vector itself: applied to the group's valid vector it must give the mutated vector exactly.
 * Every tcId is either re-created or listed in NOT_APPLICABLE with a reason.
 */
import { importJWK, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, isAuthError } from 'bearer-guard'
import type { IssuerOptions } from '../../src/core/types.js'
import { BACKENDS, useBackend } from '../helpers/backends.js'
import { AUDIENCE, b64, b64json, ISSUER, rawSign, validClaims } from '../helpers/forge.js'
import jwsFile from '../vectors/wycheproof/json_web_signature_test.json'
import jwkFile from '../vectors/wycheproof/json_web_key_test.json'

interface Vector { tcId: number; comment: string; jws: string | Record<string, unknown>; result: 'valid' | 'invalid'; flags: string[] }
interface Group { comment: string; private?: JWK & { keys?: JWK[] }; public?: JWK & { keys?: JWK[] }; tests: Vector[] }

const jwsGroups = (jwsFile as unknown as { testGroups: Group[] }).testGroups
const jwkGroups = (jwkFile as unknown as { testGroups: Group[] }).testGroups
const encoder = new TextEncoder()

/** Vectors that cannot be re-created, with the reason. Asserted to be exactly these. */
const NOT_APPLICABLE: Record<number, string> = {
  367: 'identical to tcId 357 (valid) although marked invalid: the padding the name refers to is absent from the file',
  370: 'identical to tcId 357 (valid) although marked invalid: the padding the name refers to is absent from the file',
}
const NOT_APPLICABLE_JWK: Record<number, string> = {}

/** Vectors bearer-guard deliberately decides the other way, with the refusal it gives instead. */
const STRICTER: Record<number, string> = {
  346: 'the JWK declares alg PS256 but the token is PS384: a key is only used for its own alg',
  347: 'the JWK declares alg "ES521" (an RFC 7520 typo): a key with an unknown alg is skipped',
  350: 'the JWK declares alg PS256 but the token is PS384: a key is only used for its own alg',
  351: 'the JWK declares alg "ES521" (an RFC 7520 typo): a key with an unknown alg is skipped',
  372: 'a "?" inside the header is not base64url: strict decoding refuses it',
  373: 'a "?" inside the payload is not base64url: strict decoding refuses it',
}
const STRICTER_JWK: Record<number, string> = {
  2: 'a shared secret is only taken from the `secret` option, never from a key set (a JWKS-borne secret is a key-confusion vector); the token is accepted with `secret`',
}

// ---------- bytes, big integers, RSA ----------

const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0))
const toInt = (b: Uint8Array): bigint => b.reduce((n, x) => (n << 8n) | BigInt(x), 0n)
const toBytes = (n: bigint, len: number): Uint8Array => {
  const out = new Uint8Array(len)
  for (let i = len - 1; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn)
  return out
}
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  b %= m
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m
  return r
}
const hashOf = async (bits: string, data: Uint8Array) => new Uint8Array(await crypto.subtle.digest(`SHA-${bits}`, data as BufferSource))
const concat = (...arrays: Uint8Array[]) => {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0))
  let at = 0
  for (const a of arrays) out.set(a, (at += a.length) - a.length)
  return out
}

interface Rsa { n: bigint; e: bigint; d: bigint; p: bigint; q: bigint; dp: bigint; dq: bigint; qi: bigint; k: number }
const rsaOf = (jwk: JWK): Rsa => {
  const i = (s: unknown) => toInt(fromB64(s as string))
  return { n: i(jwk.n), e: i(jwk.e), d: i(jwk.d), p: i(jwk.p), q: i(jwk.q), dp: i(jwk.dp), dq: i(jwk.dq), qi: i(jwk.qi), k: fromB64(jwk.n as string).length }
}
/** Raw RSA private operation (CRT). */
function rsaPrivate(key: Rsa, m: bigint): bigint {
  const m1 = modPow(m, key.dp, key.p)
  const m2 = modPow(m, key.dq, key.q)
  const h = (((m1 - m2) % key.p) + key.p) * key.qi % key.p
  return m2 + h * key.q
}

/** PKCS#1 padding mutation: the vector's encoded message with the signed hash swapped for ours. */
async function transferPkcs1(key: Rsa, vectorSig: Uint8Array, vectorInput: string, ourInput: string, bits: string): Promise<Uint8Array> {
  const em = toBytes(modPow(toInt(vectorSig), key.e, key.n), key.k)
  const hOld = await hashOf(bits, encoder.encode(vectorInput))
  const hNew = await hashOf(bits, encoder.encode(ourInput))
  // the longest run of the old hash inside the mutated message (it may be truncated or altered)
  let best = { len: 0, emAt: 0, hAt: 0 }
  for (let i = 0; i < em.length; i++) {
    for (let j = 0; j < hOld.length; j++) {
      let len = 0
      while (i + len < em.length && j + len < hOld.length && em[i + len] === hOld[j + len]) len++
      if (len > best.len) best = { len, emAt: i, hAt: j }
    }
  }
  // carry the mutation over as a difference: every byte where the old hash stood (or would stand)
  // keeps its change, so a modified hash byte stays modified instead of matching by chance
  if (best.len >= 8) {
    const at = best.emAt - best.hAt
    for (let j = 0; j < hOld.length; j++) {
      const i = at + j
      if (i >= 0 && i < em.length) em[i] = hNew[j]! ^ hOld[j]! ^ em[i]!
    }
  }
  const m = toInt(em)
  return toBytes(m < key.n ? rsaPrivate(key, m) : toInt(vectorSig), key.k)
}

interface PssTweak { mHash?: 'first' | 'last'; saltLen?: number; salt?: number; zeros?: boolean; h?: boolean; ps?: boolean; saltAfter?: boolean; maskedDb?: boolean; trailer?: boolean }

/** EMSA-PSS encoding (RFC 8017 §9.1.1) with one deliberate fault, signed with the raw key. */
async function pssSign(key: Rsa, input: string, bits: string, t: PssTweak = {}): Promise<Uint8Array> {
  const hLen = Number(bits) / 8
  const emLen = key.k
  const mHash = await hashOf(bits, encoder.encode(input))
  if (t.mHash) mHash[t.mHash === 'first' ? 0 : hLen - 1]! ^= 1
  const sLen = t.saltLen ?? hLen
  const salt = t.salt === undefined ? crypto.getRandomValues(new Uint8Array(sLen)) : new Uint8Array(sLen).fill(t.salt)
  const zeros = new Uint8Array(8)
  if (t.zeros) zeros[3] = 1
  const h = await hashOf(bits, concat(zeros, mHash, salt))
  const db = concat(new Uint8Array(emLen - sLen - hLen - 2), new Uint8Array([1]), salt)
  if (t.ps) db[0] = 1
  if (t.saltAfter) db[db.length - 1]! ^= 1
  const mask = new Uint8Array(db.length)
  for (let c = 0, at = 0; at < mask.length; c++) {
    const chunk = await hashOf(bits, concat(h, toBytes(BigInt(c), 4)))
    mask.set(chunk.subarray(0, Math.min(hLen, mask.length - at)), at)
    at += hLen
  }
  const masked = db.map((x, i) => x ^ mask[i]!)
  masked[0]! &= 0x7f
  if (t.maskedDb) masked[10]! ^= 1
  const em = concat(masked, h, new Uint8Array([0xbc]))
  if (t.h) em[masked.length]! ^= 1
  if (t.trailer) em[emLen - 1] = 0xbd
  return toBytes(rsaPrivate(key, toInt(em)), key.k)
}

// ---------- the JWT a vector is re-created on ----------

interface Ctx {
  group: Group
  vector: Vector
  /** The vector's header segment (or the group's valid vector's, when the vector's is damaged). */
  h: string
  /** JSON claims, base64url. */
  p: string
  /** Signs `input` with the group's key and the header's algorithm. */
  sign(input: string, alg?: string): Promise<Uint8Array>
  rsa?: Rsa
  alg: string
}

type Recipe = (c: Ctx) => Promise<string> | string
const signed = async (c: Ctx, h = c.h, p = c.p) => `${h}.${p}.${b64(await c.sign(`${h}.${p}`))}`
const segs = async (c: Ctx) => (await signed(c)).split('.') as [string, string, string]
const resign = (mutate: (h: string, p: string) => [string, string]): Recipe => async (c) => {
  const [h, p] = mutate(c.h, c.p)
  return `${h}.${p}.${b64(await c.sign(`${h}.${p}`))}`
}
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const ecdsa = (f: (r: bigint, s: bigint) => Uint8Array): Recipe => async (c) => {
  const [h, p, s] = await segs(c)
  const raw = fromB64(s)
  return `${h}.${p}.${b64(f(toInt(raw.subarray(0, 32)), toInt(raw.subarray(32))))}`
}
const sigBytes = (f: (sig: Uint8Array, c: Ctx) => Uint8Array): Recipe => async (c) => {
  const [h, p, s] = await segs(c)
  return `${h}.${p}.${b64(f(fromB64(s), c))}`
}
const pss = (t: PssTweak): Recipe => async (c) => `${c.h}.${c.p}.${b64(await pssSign(c.rsa as Rsa, `${c.h}.${c.p}`, c.alg.slice(2), t))}`
const vectorSignature: Recipe = (c) => `${c.h}.${c.p}.${(c.vector.jws as string).split('.')[2]}`

const RECIPES: Record<string, Recipe> = {
  rejectsModifiedSignature: async (c) => {
    const [h, p, s] = await segs(c)
    return `${h}.${p}.${s[0] === 'X' ? 'Y' : 'X'}${s.slice(1)}`
  },
  rejectsMissingSignature: async (c) => `${c.h}.${c.p}.`,
  rejectsMissingSignatureAndSeparator: async (c) => `${c.h}.${c.p}`,
  rejectsModifiedPayload: async (c) => {
    const [h, p, s] = await segs(c)
    return `${h}.${p.startsWith('WG') ? 'Zm' : 'WG'}${p.slice(2)}.${s}`
  },
  rejectsMissingPayload: async (c) => {
    const [h, , s] = await segs(c)
    return `${h}..${s}`
  },
  rejectsMissingPayloadAndSeparator: async (c) => {
    const [h, , s] = await segs(c)
    return `${h}.${s}`
  },
  rejectsModifiedHeader: async (c) => {
    const [h, p, s] = await segs(c)
    return `${b64(new TextDecoder().decode(fromB64(h)).replace('"kid":"k', '"kid":"X'))}.${p}.${s}`
  },
  rejectsMissingHeader: async (c) => `.${(await segs(c)).slice(1).join('.')}`,
  rejectsMissingHeaderAndSeparator: async (c) => (await segs(c)).slice(1).join('.'),
  rejectsMissingHeaderAndSignature: (c) => `.${c.p}.`,
  rejectsMissingHeaderSignatureAndSeparators: (c) => c.p,
  rejectsMissingHeaderSignatureAndSeparator: (c) => c.p,
  rejectsEmptyString: () => '',
  rejectsExtraEmptyComponent: async (c) => `${await signed(c)}.`,
  rejectsExtraComponent: async (c) => `${await signed(c)}.foo`,
  rejectsNoneAlgorithmAndMissingSignature: (c) => `${b64json({ alg: 'none', kid: c.group.private?.kid })}.${c.p}.`,
  rejectsValidJsonSerialization: async (c) => {
    const [h, p, s] = await segs(c)
    // the vector's JSON is itself cut short; its unprotected header is kept
    const unprotected = JSON.parse(/"header":(\{[^}]*\})/.exec(c.vector.jws as string)?.[1] ?? '{}') as unknown
    return JSON.stringify({ payload: p, signatures: [{ protected: h, header: unprotected, signature: s }] })
  },
  rejectsSymmetryConfusionAttacks_aesKeyFromEcVerificationKeyBytes: async (c) => {
    const h = b64json({ alg: 'HS256', kid: c.group.public?.kid })
    const secret = await ecConfusionSecret(c)
    return `${h}.${c.p}.${b64(await rawSign('HS256', secret, encoder.encode(`${h}.${c.p}`)))}`
  },
  rejectsAttackerProvidedEmbeddedJwk: async (c) => {
    const attacker = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
    const jwk = await crypto.subtle.exportKey('jwk', attacker.publicKey)
    const h = b64json({ alg: 'ES256', kid: c.group.public?.kid, jwk: { kty: 'EC', kid: c.group.public?.kid, use: 'sig', alg: 'ES256', x: jwk.x, y: jwk.y, crv: 'P-256' } })
    return `${h}.${c.p}.${b64(await rawSign('ES256', attacker.privateKey, encoder.encode(`${h}.${c.p}`)))}`
  },
  // base64 group
  rejectsSpacesInMac: async (c) => `${await signed(c)}`.replace(/\.([^.]*)$/, '.    $1'),
  rejectsInvalidCharacterInsertedInMac: async (c) =>
    c.vector.jws.toString().endsWith('?') ? `${await signed(c)}?` : (await signed(c)).replace(/\.([^.]*)$/, '.?$1'),
  rejects0ReplacedbyInvalidCharacter: async (c) => (await signed(c)).replace(/\.[^.]([^.]*)$/, '.?$1'),
  rejectsInvalidCharacters: async (c) => (await signed(c)).replace(/\.[^.]{4}([^.]*)$/, '.????$1'),
  spacesInHeader: resign((h, p) => [`${h}    `, p]),
  invalidCharactersInHeader: resign((h, p) => [`${h}####`, p]),
  spacesInPayload: resign((h, p) => [h, `    ${p}`]),
  invalidCharactersInPayload: resign((h, p) => [h, `####${p}`]),
  InvalidCharacterInPayload: resign((h, p) => [h, `?${p}`]),
  InvalidCharacterInsertedInHeader: async (c) => {
    const [h, p, s] = await segs(c)
    return `${h.slice(0, -1)}?${h.slice(-1)}.${p}.${s}`
  },
  InvalidCharacterInsertedInPayload: async (c) => {
    const [h, p, s] = await segs(c)
    return `${h}.${p}?.${s}`
  },
  ModifiedUnusedBitsInPayload: resign((h, p) => [h, setUnusedBit(p)]),
  MacOfIncorrectlyEncodedMessage: async (c) => {
    const [h, p, s] = await segs(c)
    return `${h}.${setUnusedBit(p)}.${s}`
  },
  // SpecialCaseEs256
  SignatureTooLong: ecdsa((r, s) => concat(toBytes(r, 33), toBytes(s, 33))),
  TrailingZeros: ecdsa((r, s) => concat(toBytes(r, 32), new Uint8Array(1), toBytes(s, 32), new Uint8Array(1))),
  RisTooBig: ecdsa((r, s) => concat(toBytes(r + P256_N, 33), toBytes(s, 33))),
  SisTooBig: ecdsa((r, s) => concat(toBytes(r, 33), toBytes(s + P256_N, 33))),
  IntegerOverflow: (c) =>
    ecdsa((r, s) => (c.vector.tcId === 383 ? concat(toBytes(r + (1n << 256n), 33), toBytes(s, 33)) : concat(toBytes(r, 33), toBytes(s + (1n << 256n), 33))))(c),
  BufferOverflow: ecdsa((r, s) => concat(toBytes(r, 257), toBytes(s, 257))),
  // RSA-PSS
  MhashModified: (c) => pss({ mHash: c.vector.tcId % 2 ? 'first' : 'last' })(c),
  lastByteOfMhashModified: pss({ mHash: 'last' }),
  FirstByteOfMhashModified: pss({ mHash: 'first' }),
  LastByteOfMhashModified: pss({ mHash: 'last' }),
  SaltLenChanged: (c) => pss({ saltLen: [0, 1, 20, 31, 33, 64][c.vector.tcId - 281] ?? 0 })(c),
  saltIsAll0: pss({ salt: 0 }),
  saltIsAll1: pss({ salt: 0xff }),
  ZeroPaddingModified: pss({ zeros: true }),
  ModifiedHash: pss({ h: true }),
  PSModified: pss({ ps: true }),
  SaltModified: pss({ saltAfter: true }),
  MaskedDbChanged: pss({ maskedDb: true }),
  EmModified: pss({ trailer: true }),
  modifiedSignature: sigBytes((sig) => sig.map((x, i) => (i === 100 ? x ^ 1 : x))),
  SignatureIs0: vectorSignature,
  SignatureIs1: vectorSignature,
  SignatureIsNsub1: vectorSignature,
  SignatureIsn: vectorSignature,
  SignatureIsnotReduced: sigBytes((sig, c) => toBytes(toInt(sig) + (c.rsa as Rsa).n, sig.length + 1)),
  prependingZerosToSignature: sigBytes((sig) => concat(new Uint8Array(2), sig)),
  appendingZerosToSignature: sigBytes((sig) => concat(sig, new Uint8Array(2))),
  truncatedSignature: sigBytes((sig) => sig.subarray(0, sig.length - 1)),
}
for (const r of ['rIsZero', 'rIsOne', 'rIsNminus1', 'rIsN']) {
  for (const s of ['sIsZero', 'sIsOne', 'sIsNminus1', 'sIsN']) RECIPES[`${r}_${s}`] = vectorSignature
}

function setUnusedBit(p: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  if (p.length % 4 === 0) throw new Error('claims must not fill whole base64 quanta')
  return p.slice(0, -1) + alphabet[alphabet.indexOf(p.at(-1) as string) | 1]
}

/** Bytes of the EC public key used as HMAC secret: the vector's, when recomputing its MAC finds them. */
async function ecConfusionSecret(c: Ctx): Promise<Uint8Array> {
  const jwk = c.group.public as JWK
  const [x, y] = [fromB64(jwk.x as string), fromB64(jwk.y as string)]
  const [vh, vp, vs] = (c.vector.jws as string).split('.') as [string, string, string]
  for (const candidate of [concat(new Uint8Array([4]), x, y), concat(x, y), x, encoder.encode(JSON.stringify(jwk))]) {
    if (b64(await rawSign('HS256', candidate, encoder.encode(`${vh}.${vp}`))) === vs) return candidate
  }
  // the vector's exact key derivation is not documented and none of the above reproduces it: use the
  // uncompressed point, the usual "verification key bytes" (X9.62)
  return concat(new Uint8Array([4]), x, y)
}

function recipeFor(v: Vector): Recipe {
  if (v.flags.includes('AlgIsNone')) {
    return (c) => `${(v.jws as string).split('.')[0]}.${c.p}.`
  }
  if (v.flags.includes('ModifiedPadding')) {
    return async (c) => {
      const [vh, vp, vs] = (v.jws as string).split('.') as [string, string, string]
      return `${c.h}.${c.p}.${b64(await transferPkcs1(c.rsa as Rsa, fromB64(vs), `${vh}.${vp}`, `${c.h}.${c.p}`, c.alg.slice(2)))}`
    }
  }
  if (v.flags.includes('WrongPrimitive')) {
    const used = v.comment.replace('Using', '')
    return async (c) => {
      const h = (v.jws as string).split('.')[0] as string
      return `${h}.${c.p}.${b64(await c.sign(`${h}.${c.p}`, used))}`
    }
  }
  if (v.result === 'valid' && !(v.comment in RECIPES)) {
    if (v.comment === 'ValidEdgeCaseMac') return edgeCaseMac(v)
    return (c) => signed(c)
  }
  if (v.comment === 'rejectWrongUse' || v.comment === 'rejectWrongKeyOps') return (c) => signed(c)
  const recipe = RECIPES[v.comment]
  if (!recipe) throw new Error(`no recipe for tcId ${v.tcId} (${v.comment})`)
  return recipe
}

/** A MAC starting with the same extreme byte as the vector's (0x00 / 0xff), found by varying jti. */
function edgeCaseMac(v: Vector): Recipe {
  const first = fromB64((v.jws as string).split('.')[2] as string)[0]
  return async (c) => {
    for (let i = 0; i < 20_000; i++) {
      const p = b64json(validClaims({ jti: `j${i}` }))
      const mac = await c.sign(`${c.h}.${p}`)
      if (mac[0] === first) return `${c.h}.${p}.${b64(mac)}`
    }
    throw new Error('no edge-case MAC found')
  }
}

// ---------- keys and verifiers per group ----------

const PUBLIC_MEMBERS = ['kty', 'kid', 'use', 'key_ops', 'alg', 'n', 'e', 'crv', 'x', 'y']
const publicOf = (jwk: JWK): JWK => Object.fromEntries(Object.entries(jwk).filter(([k]) => PUBLIC_MEMBERS.includes(k))) as JWK

async function signerFor(jwk: JWK): Promise<(input: string, alg: string) => Promise<Uint8Array>> {
  if (jwk.kty === 'oct') return async (input, alg) => rawSign(alg, fromB64(jwk.k as string), encoder.encode(input))
  const bare = Object.fromEntries(Object.entries(jwk).filter(([k]) => !['alg', 'use', 'key_ops', 'kid'].includes(k))) as JWK
  const cache = new Map<string, CryptoKey>()
  return async (input, alg) => {
    let key = cache.get(alg)
    if (!key) cache.set(alg, (key = (await importJWK(bare, alg)) as CryptoKey))
    return rawSign(alg, key, encoder.encode(input))
  }
}

function optionsFor(keyJwk: JWK, alg: string): IssuerOptions {
  const base = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] } as unknown as IssuerOptions
  if (keyJwk.kty === 'oct' && alg.startsWith('HS')) return { ...base, secret: fromB64(keyJwk.k as string) } as IssuerOptions
  return { ...base, keys: publicOf(keyJwk) } as IssuerOptions
}

/** Header segment of the JWT for a vector: the vector's own when intact, else the group's valid one. */
function headerFor(group: Group, v: Vector): string {
  const own = typeof v.jws === 'string' ? v.jws.split('.')[0] ?? '' : ''
  try {
    const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromB64(own))) as { alg?: unknown }
    if (/^[A-Za-z0-9_-]+$/.test(own) && typeof parsed.alg === 'string' && parsed.alg !== 'none' && parsed.alg.toLowerCase() !== 'none') {
      if (!v.comment.startsWith('rejectsModifiedHeader') && !v.comment.startsWith('rejectsSymmetry') && !v.comment.startsWith('rejectsAttacker')) return own
    }
  } catch {
    // fall through to the group's valid header
  }
  const valid = group.tests.find((t) => t.result === 'valid' && typeof t.jws === 'string')
  if (valid) return (valid.jws as string).split('.')[0] as string
  const key = (group.private ?? group.public) as JWK
  return b64json({ alg: key.alg ?? 'RS256', kid: key.kid })
}

/** Claims whose base64url leaves unused bits in the last character (for the unused-bits vectors). */
function claimsSegment(): string {
  for (let pad = 0; ; pad++) {
    const p = b64json(validClaims({ pad: 'x'.repeat(pad) }))
    if (p.length % 4 === 2) return p
  }
}

type Outcome = { accepted: true } | { accepted: false; reason: string }

async function decide(options: IssuerOptions, token: string): Promise<Outcome> {
  let verifier
  try {
    // quiet: a vector's skipped keys would warn on console (the warnings are tested in jwks-cache.test.ts)
    verifier = createVerifier({ ...options, logger: false })
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return { accepted: false, reason: `construction: ${(error as Error).message}` }
  }
  try {
    await verifier.verifyAccessToken(token)
    return { accepted: true }
  } catch (error) {
    expect(isAuthError(error), String(error)).toBe(true)
    expect(error).toMatchObject({ status: 401, code: 'invalid_token' })
    return { accepted: false, reason: (error as Error).message }
  }
}

interface Case { group: Group; vector: Vector }
const jwsCases: Case[] = jwsGroups.flatMap((group) => group.tests.map((vector) => ({ group, vector })))
const applicable = jwsCases.filter((c) => !(c.vector.tcId in NOT_APPLICABLE))

async function build({ group, vector }: Case): Promise<{ token: string; options: IssuerOptions; ctx: Ctx }> {
  const keyJwk = (group.private ?? group.public) as JWK
  const h = headerFor(group, vector)
  const alg = (JSON.parse(new TextDecoder().decode(fromB64(h))) as { alg: string }).alg
  const signer = await signerFor(keyJwk)
  const ctx: Ctx = {
    group,
    vector,
    h,
    p: claimsSegment(),
    alg,
    sign: (input, a = alg) => signer(input, a),
    rsa: keyJwk.kty === 'RSA' && keyJwk.d ? rsaOf(keyJwk) : undefined,
  }
  const token = await recipeFor(vector)(ctx)
  return { token, options: optionsFor(group.public ?? keyJwk, alg), ctx }
}

describe('Wycheproof JWS vectors: coverage', () => {
  it('covers every tcId: re-created or listed as not applicable', () => {
    const total = (jwsFile as { numberOfTests: number }).numberOfTests
    expect(jwsCases.length).toBe(total)
    expect(applicable.length + Object.keys(NOT_APPLICABLE).length).toBe(total)
    for (const id of Object.keys(NOT_APPLICABLE)) expect(jwsCases.some((c) => c.vector.tcId === Number(id))).toBe(true)
    for (const c of applicable) expect(() => recipeFor(c.vector), `tcId ${c.vector.tcId}`).not.toThrow()
  })

  it('lists as not applicable only vectors that contradict the file (same token as a valid one)', () => {
    const byId = new Map(jwsCases.map((c) => [c.vector.tcId, c.vector]))
    for (const id of Object.keys(NOT_APPLICABLE).map(Number)) expect(byId.get(id)?.jws).toBe(byId.get(357)?.jws)
  })

  it('reproduces the vectors exactly when the string-level recipes are applied to the group valid vector', async () => {
    let checked = 0
    for (const { group, vector } of applicable) {
      const valid = group.tests.find((t) => t.result === 'valid' && typeof t.jws === 'string')
      const recipe = RECIPES[vector.comment]
      if (!valid || !recipe || vector.result === 'valid' || typeof vector.jws !== 'string') continue
      if (!/^rejects(Modified(Signature|Payload)|Missing|EmptyString|Extra)|^rejectsInvalidCharacterInsertedInMac|^rejectsSpacesInMac/.test(vector.comment)) continue
      const [vh, vp, vs] = (valid.jws as string).split('.') as [string, string, string]
      const ctx = { group, vector, h: vh, p: vp, alg: '', sign: async () => fromB64(vs) } as unknown as Ctx
      expect(await recipe(ctx), `tcId ${vector.tcId}`).toBe(vector.jws)
      checked++
    }
    expect(checked).toBe(38)
  })

  it('reproduces the SpecialCaseEs256 signatures from the valid vector', async () => {
    const group = jwsGroups.find((g) => g.comment === 'SpecialCaseEs256') as Group
    const valid = group.tests.find((t) => t.tcId === 378) as Vector
    const [vh, vp, vs] = (valid.jws as string).split('.') as [string, string, string]
    const ref = jwsGroups.flatMap((g) => g.tests).find((t) => t.tcId === 18) as Vector
    const refSig = fromB64((ref.jws as string).split('.')[2] as string)
    for (const vector of group.tests.filter((t) => t.tcId >= 379 && t.tcId <= 385)) {
      const ctx = { group, vector, h: vh, p: vp, alg: 'ES256', sign: async () => refSig } as unknown as Ctx
      expect((await RECIPES[vector.comment]!(ctx)).split('.')[2], `tcId ${vector.tcId}`).toBe((vector.jws as string).split('.')[2])
    }
    expect(b64(concat(refSig.subarray(0, 32), toBytes(P256_N - toInt(refSig.subarray(32)), 32)))).toBe(vs)
  })

  it('reproduces the PKCS#1 padding mutations exactly when our hash is the vector hash', async () => {
    const rs = jwsGroups.filter((g) => g.tests.some((t) => t.flags.includes('ModifiedPadding')))
    let checked = 0
    for (const group of rs) {
      const key = rsaOf(group.private as JWK)
      for (const vector of group.tests.filter((t) => t.flags.includes('ModifiedPadding')).slice(0, 40)) {
        const [vh, vp, vs] = (vector.jws as string).split('.') as [string, string, string]
        expect(b64(await transferPkcs1(key, fromB64(vs), `${vh}.${vp}`, `${vh}.${vp}`, '256')), `tcId ${vector.tcId}`).toBe(vs)
        checked++
      }
    }
    expect(checked).toBe(40)
  })
})

describe.each(BACKENDS)('Wycheproof JWS vectors re-created on JWTs (%s crypto backend)', (backend) => {
  useBackend(backend)

  it.each(applicable.map((c) => [c.vector.tcId, c.vector.comment, c.vector.result, c] as const))(
    'tcId %i %s: %s',
    async (_id, _comment, result, c) => {
      const { token, options } = await build(c)
      const outcome = await decide(options, token)
      const stricter = STRICTER[c.vector.tcId]
      if (result === 'valid' && !stricter) {
        expect(outcome, JSON.stringify(outcome)).toEqual({ accepted: true })
      } else {
        expect(outcome.accepted, `accepted tcId ${c.vector.tcId}`).toBe(false)
        // signature-level mutations must fail on the signature, not on something incidental
        if (c.vector.flags.some((f) => f === 'ModifiedPadding' || f === 'ModifiedSignature') || c.group.comment === 'SpecialCaseEs256') {
          expect((outcome as { reason: string }).reason).toBe('signature verification failed')
        }
      }
    },
  )

  it('gives the stricter refusals for the stated reasons', async () => {
    const reasons: Record<number, RegExp> = {
      346: /no configured key fits .* alg PS384/,
      347: /no usable verification key \(alg "ES521"/,
      350: /no configured key fits .* alg PS384/,
      351: /no usable verification key \(alg "ES521"/,
      372: /not base64url/,
      373: /not base64url/,
    }
    for (const id of Object.keys(STRICTER).map(Number)) {
      const c = applicable.find((x) => x.vector.tcId === id) as Case
      const { token, options } = await build(c)
      const outcome = await decide(options, token)
      expect(outcome.accepted, `tcId ${id}`).toBe(false)
      expect((outcome as { reason: string }).reason, `tcId ${id}`).toMatch(reasons[id] as RegExp)
    }
  })
})

// ---------- JWK vectors ----------

interface KeyCase { group: Group; vector: Vector }
const jwkCases: KeyCase[] = jwkGroups.flatMap((group) => group.tests.map((vector) => ({ group, vector })))
const jwkApplicable = jwkCases.filter((c) => !(c.vector.tcId in NOT_APPLICABLE_JWK))

async function buildKeyCase({ group, vector }: KeyCase): Promise<{ token: string; options: IssuerOptions }> {
  const header = (vector.jws as string).split('.')[0] as string
  const { alg, kid } = JSON.parse(new TextDecoder().decode(fromB64(header))) as { alg: string; kid: string }
  const privateKeys = (group.private?.keys ?? []) as JWK[]
  const publicKeys = (group.public?.keys ?? privateKeys.map((k) => (k.kty === 'oct' ? k : publicOf(k)))) as JWK[]
  const p = claimsSegment()
  let sig: Uint8Array
  const signing = privateKeys.find((k) => k.kid === kid) ?? privateKeys[0]
  try {
    if (!signing || (signing.kty === 'oct' && !signing.k)) throw new Error('no usable private key')
    sig = await (await signerFor(signing))(`${header}.${p}`, alg)
  } catch {
    // the private half is unusable too (empty or mismatched key): sign with a fresh key of the alg
    const fresh = alg.startsWith('HS') ? crypto.getRandomValues(new Uint8Array(64)) : ((await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])) as CryptoKeyPair).privateKey
    sig = await rawSign(alg, fresh, encoder.encode(`${header}.${p}`))
  }
  if (vector.comment === 'rejectsModifiedSignature') sig = sig.map((x, i) => (i === 0 ? x ^ 0x10 : x))
  const token = `${header}.${p}.${b64(sig)}`
  const base = { issuer: ISSUER, audience: AUDIENCE } as IssuerOptions
  // a single oct key is what `secret` is for; a key set goes to `keys`
  const options = publicKeys.length === 1 && publicKeys[0]!.kty === 'oct' && alg.startsWith('HS') && /^HS/.test(String(publicKeys[0]!.alg))
    ? ({ ...base, secret: fromB64((publicKeys[0]!.k as string) ?? ''), algorithms: [alg] } as IssuerOptions)
    : ({ ...base, keys: { keys: publicKeys } } as IssuerOptions)
  return { token, options }
}

describe('Wycheproof JWK vectors: coverage', () => {
  it('covers every tcId: re-created or listed as not applicable', () => {
    const total = (jwkFile as { numberOfTests: number }).numberOfTests
    expect(jwkCases.length).toBe(total)
    expect(jwkApplicable.length + Object.keys(NOT_APPLICABLE_JWK).length).toBe(total)
  })
})

describe.each(BACKENDS)('Wycheproof JWK vectors (%s crypto backend)', (backend) => {
  useBackend(backend)

  it.each(jwkApplicable.map((c) => [c.vector.tcId, c.group.comment, c.vector.comment, c.vector.result, c] as const))(
    'tcId %i %s %s: %s',
    async (id, _group, _comment, result, c) => {
      const { token, options } = await buildKeyCase(c)
      const outcome = await decide(options, token)
      if (result === 'valid' && !STRICTER_JWK[id]) expect(outcome, JSON.stringify(outcome)).toEqual({ accepted: true })
      else expect(outcome.accepted, `accepted tcId ${id}`).toBe(false)
    },
  )

  it('accepts the jws_keyset token when its secret is given as `secret` (the stricter case above)', async () => {
    const c = jwkApplicable.find((x) => x.vector.tcId === 2) as KeyCase
    const { token, options } = await buildKeyCase(c)
    expect(await decide(options, token)).toMatchObject({ accepted: false, reason: /construction: .*no usable verification key/ })
    const secret = fromB64((c.group.private?.keys?.[0] as JWK).k as string)
    const withSecret = { ...options, keys: undefined, secret, algorithms: ['HS256'] } as IssuerOptions
    expect(await decide(withSecret, token)).toEqual({ accepted: true })
  })
})

beforeAll(() => {
  expect(Object.keys(STRICTER).every((id) => applicable.some((c) => c.vector.tcId === Number(id)))).toBe(true)
})
