/**
 * DPoP (RFC 9449) in the core: `authenticateRequest` with a bound token and its proof, every check
 * of §4.3 and §7.1 as an attack case, the replay store, stateless nonces, and the challenges. Proofs
 * are built with jose (test/helpers/dpop.ts). Node only: the helper hashes with node:crypto; the
 * Web Crypto backend is exercised here with `setCryptoBackend('web')`.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { addSuccessHeaders, createMemoryReplayStore, createVerifier, successHeaders, withSuccessHeaders, type AuthRequest, type ReplayStore, type VerifierOptions } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { setCryptoBackend } from '../../src/core/keys/backend.js'
import { ath, dpopClient, unsignedProof, type DpopClient } from '../helpers/dpop.js'
import { rejection } from '../helpers/rejection.js'

const URL_ = 'https://api.test/orders'
let issuer: TestIssuer
let client: DpopClient
let other: DpopClient
let bound: string
let unbound: string

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
  client = await dpopClient('ES256')
  other = await dpopClient('ES256')
  bound = await issuer.sign({ sub: 'alice', cnf: { jkt: client.jkt } })
  unbound = await issuer.sign({ sub: 'bob' })
})

afterEach(() => {
  vi.useRealTimers()
  setCryptoBackend(undefined)
})

function verifierWith(extra: Partial<VerifierOptions> = {}) {
  return createVerifier({ ...(issuer.verifierOptions('keys') as VerifierOptions), ...extra } as VerifierOptions)
}

function request(authorization: string | string[] | undefined, dpop: string | string[] | undefined, over: Partial<AuthRequest> = {}): AuthRequest {
  return { method: 'GET', url: URL_, headers: { authorization, dpop }, ...over }
}

describe('a DPoP-bound token with its proof', () => {
  it('is accepted with scheme DPoP and its confirmation; the query of the URL is not part of htu', async () => {
    const verifier = verifierWith()
    const proof = await client.proof({ url: URL_, token: bound })
    const auth = await verifier.authenticateRequest(request(`DPoP ${bound}`, proof, { url: `${URL_}?page=2#top` }))
    expect(auth.scheme).toBe('DPoP')
    expect(auth.subject).toBe('alice')
    expect(auth.confirmation).toEqual({ jkt: client.jkt })
    expect(auth.responseHeaders).toBeUndefined()
  })

  it('accepts a case-insensitive scheme, an upper-case host and a default port in htu (RFC 9449 §4.3 normalisation)', async () => {
    const verifier = verifierWith()
    const proof = await client.proof({ url: 'HTTPS://API.test:443/orders', token: bound })
    expect((await verifier.authenticateRequest(request(`dpop ${bound}`, proof))).scheme).toBe('DPoP')
  })

  it.each(['EdDSA', 'PS256', 'RS256'] as const)('verifies %s proofs (the default algorithms)', async (alg) => {
    const c = await dpopClient(alg)
    const token = await issuer.sign({ sub: 'alice', cnf: { jkt: c.jkt } })
    const verifier = verifierWith()
    const auth = await verifier.authenticateRequest(request(`DPoP ${token}`, await c.proof({ url: URL_, token })))
    expect(auth.confirmation?.jkt).toBe(c.jkt)
  })

  it('verifies on Web Crypto as on node:crypto', async () => {
    setCryptoBackend('web')
    const verifier = verifierWith()
    const auth = await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))
    expect(auth.scheme).toBe('DPoP')
    await expect(verifier.authenticateRequest(request(`DPoP ${bound}`, await other.proof({ url: URL_, token: bound })))).rejects.toMatchObject({ code: 'invalid_dpop_proof' })
  })

  it('checks the proof on every request, also when the token comes from the verified-token cache', async () => {
    const verifier = verifierWith()
    await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))
    // the token is cached now; a proof by another key still fails, and so does no proof
    const stolen = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await other.proof({ url: URL_, token: bound }))))
    expect(stolen).toMatchObject({ code: 'invalid_dpop_proof', status: 401 })
    expect(stolen.reason).toMatch(/thumbprint/)
    await expect(verifier.authenticateRequest(request(`DPoP ${bound}`, undefined))).rejects.toMatchObject({ code: 'invalid_dpop_proof' })
  })
})

describe('a DPoP-bound token presented as a bearer token', () => {
  it.each([['allowed'], ['required'], [false]] as const)('is refused with 401 invalid_token in mode %s', async (mode) => {
    const verifier = verifierWith({ dpop: { mode } })
    const viaRequest = await rejection(verifier.authenticateRequest(request(`Bearer ${bound}`, undefined)))
    expect(viaRequest).toMatchObject({ status: 401, code: 'invalid_token' })
    await expect(verifier.authenticate(`Bearer ${bound}`)).rejects.toMatchObject({ status: 401, code: 'invalid_token' })
    await expect(verifier.verifyAccessToken(bound)).rejects.toMatchObject({ status: 401, code: 'invalid_token' })
  })

  it('is refused with a proof too: the Bearer scheme never checks one', async () => {
    const verifier = verifierWith()
    const proof = await client.proof({ url: URL_, token: bound })
    const error = await rejection(verifier.authenticateRequest(request(`Bearer ${bound}`, proof)))
    expect(error.code).toBe('invalid_token')
    expect(error.reason).toMatch(/presented as a bearer token/)
    expect(error.wwwAuthenticate()).toBe(
      'Bearer realm="api", error="invalid_token", error_description="DPoP proof required", DPoP realm="api", algs="ES256 EdDSA Ed25519 PS256 RS256"',
    )
  })
})

describe('modes', () => {
  it("'allowed' (the default) still accepts bearer tokens, with scheme Bearer", async () => {
    const auth = await verifierWith().authenticateRequest(request(`Bearer ${unbound}`, undefined))
    expect(auth.scheme).toBe('Bearer')
    expect(auth.confirmation).toBeUndefined()
  })

  it("'required' refuses unbound tokens, as Bearer and as DPoP, and challenges with DPoP only", async () => {
    const verifier = verifierWith({ dpop: { mode: 'required' } })
    const asBearer = await rejection(verifier.authenticateRequest(request(`Bearer ${unbound}`, undefined)))
    expect(asBearer).toMatchObject({ status: 401, code: 'invalid_token' })
    expect(asBearer.wwwAuthenticate()).toBe('DPoP realm="api", error="invalid_token", error_description="invalid token", algs="ES256 EdDSA Ed25519 PS256 RS256"')
    const asDpop = await rejection(verifier.authenticateRequest(request(`DPoP ${unbound}`, await client.proof({ url: URL_, token: unbound }))))
    expect(asDpop).toMatchObject({ status: 401, code: 'invalid_token' })
    expect(asDpop.reason).toMatch(/not bound/)
    const none = await rejection(verifier.authenticateRequest(request(undefined, undefined)))
    expect(none.code).toBe('missing_token')
    expect(none.wwwAuthenticate()).toBe('DPoP realm="api", algs="ES256 EdDSA Ed25519 PS256 RS256"')
    // and the bound token with its proof passes
    expect((await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))).scheme).toBe('DPoP')
  })

  it('an unbound token with the DPoP scheme is refused in allowed mode too (nothing to bind the proof to)', async () => {
    const error = await rejection(verifierWith().authenticateRequest(request(`DPoP ${unbound}`, await client.proof({ url: URL_, token: unbound }))))
    expect(error.code).toBe('invalid_token')
    expect(error.wwwAuthenticate()).toBe(
      'DPoP realm="api", error="invalid_token", error_description="invalid token", algs="ES256 EdDSA Ed25519 PS256 RS256", Bearer realm="api"',
    )
  })

  it('false: the DPoP scheme is another scheme (no token)', async () => {
    const verifier = verifierWith({ dpop: false })
    const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound }))))
    expect(error.code).toBe('missing_token')
    expect(error.wwwAuthenticate()).toBe('Bearer realm="api"')
  })
})

describe('attack cases: each refused with 401 invalid_dpop_proof', () => {
  const cases: [string, () => Promise<{ dpop: string | string[]; over?: Partial<AuthRequest> }>, RegExp][] = [
    ['no DPoP header', async () => ({ dpop: [] }), /without a DPoP proof/],
    ['two DPoP headers', async () => ({ dpop: [await client.proof({ url: URL_, token: bound }), await client.proof({ url: URL_, token: bound })] }), /2 DPoP headers/],
    ['two proofs joined in one value', async () => ({ dpop: `${await client.proof({ url: URL_, token: bound })}, ${await client.proof({ url: URL_, token: bound })}` }), /several DPoP proofs/],
    ['a huge proof', async () => ({ dpop: await client.proof({ url: URL_, token: bound, claims: { pad: 'x'.repeat(9000) } }) }), /exceeds 8192/],
    ['not a JWS', async () => ({ dpop: 'not-a-jws' }), /compact JWS/],
    ['wrong typ', async () => ({ dpop: await client.proof({ url: URL_, token: bound, header: { typ: 'JWT' } }) }), /typ/],
    ['no typ', async () => ({ dpop: await client.proof({ url: URL_, token: bound, header: { typ: undefined } }) }), /typ/],
    ['alg none', async () => ({ dpop: unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: client.jwk }, { htm: 'GET', htu: URL_, iat: now(), jti: 'n1', ath: ath(bound) }) }), /none/],
    ['alg HS256', async () => ({ dpop: unsignedProof({ typ: 'dpop+jwt', alg: 'HS256', jwk: client.jwk }, { htm: 'GET', htu: URL_, iat: now(), jti: 'h1', ath: ath(bound) }) }), /HS256/],
    ['alg outside the list (ES384)', async () => {
      const c = await dpopClient('ES384')
      return { dpop: await c.proof({ url: URL_, token: bound }) }
    }, /ES384/],
    ['a private jwk in the header', async () => ({ dpop: await client.proof({ url: URL_, token: bound, header: { jwk: { ...client.jwk, d: 'AAAA' } } }) }), /private member "d"/],
    ['a symmetric jwk', async () => ({ dpop: await client.proof({ url: URL_, token: bound, header: { jwk: { kty: 'oct', k: 'AAAA' } } }) }), /private member "k"|kty/],
    ['no jwk', async () => ({ dpop: await client.proof({ url: URL_, token: bound, header: { jwk: undefined } }) }), /jwk header missing/],
    ['signed by another key than its jwk', async () => ({ dpop: await client.proof({ url: URL_, token: bound, signWith: other.privateKey }) }), /signature/],
    ['the key of another client (jkt mismatch)', async () => ({ dpop: await other.proof({ url: URL_, token: bound }) }), /thumbprint/],
    ['wrong htm', async () => ({ dpop: await client.proof({ method: 'POST', url: URL_, token: bound }) }), /htm/],
    ['wrong htu (path)', async () => ({ dpop: await client.proof({ url: 'https://api.test/admin', token: bound }) }), /htu/],
    ['wrong htu (host)', async () => ({ dpop: await client.proof({ url: 'https://evil.test/orders', token: bound }) }), /htu/],
    ['wrong htu (scheme)', async () => ({ dpop: await client.proof({ url: 'http://api.test/orders', token: bound }) }), /htu/],
    ['no htu', async () => ({ dpop: await client.proof({ url: URL_, token: bound, claims: { htu: undefined } }) }), /htu missing/],
    ['stale iat', async () => ({ dpop: await client.proof({ url: URL_, token: bound, iat: now() - 66 }) }), /older than maxAge/],
    ['future iat', async () => ({ dpop: await client.proof({ url: URL_, token: bound, iat: now() + 60 }) }), /in the future/],
    ['no iat', async () => ({ dpop: await client.proof({ url: URL_, token: bound, claims: { iat: undefined } }) }), /iat missing/],
    ['no jti', async () => ({ dpop: await client.proof({ url: URL_, token: bound, claims: { jti: undefined } }) }), /jti/],
    ['ath of another token', async () => ({ dpop: await client.proof({ url: URL_, token: unbound }) }), /ath is not/],
    ['no ath', async () => ({ dpop: await client.proof({ url: URL_ }) }), /ath missing/],
    ['a crit header', async () => ({ dpop: unsignedProof({ typ: 'dpop+jwt', alg: 'ES256', jwk: client.jwk, crit: ['x'], x: 1 }, { htm: 'GET', htu: URL_, iat: now(), jti: 'c1', ath: ath(bound) }) }), /crit/],
  ]

  it.each(cases)('%s', async (_name, make, reason) => {
    const verifier = verifierWith()
    const { dpop, over } = await make()
    const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, dpop, over)))
    expect(error).toMatchObject({ status: 401, code: 'invalid_dpop_proof', description: 'invalid DPoP proof' })
    expect(error.reason).toMatch(reason)
    expect(error.wwwAuthenticate('orders')).toBe(
      'DPoP realm="orders", error="invalid_dpop_proof", error_description="invalid DPoP proof", algs="ES256 EdDSA Ed25519 PS256 RS256", Bearer realm="orders"',
    )
  })

  it('a replayed proof (same jti) is refused; the first use was accepted', async () => {
    const verifier = verifierWith()
    const proof = await client.proof({ url: URL_, token: bound })
    await verifier.authenticateRequest(request(`DPoP ${bound}`, proof))
    const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, proof)))
    expect(error).toMatchObject({ code: 'invalid_dpop_proof' })
    expect(error.reason).toMatch(/replayed/)
  })

  it('a proof within the clock tolerance in the future, and one maxAge old, are accepted', async () => {
    const verifier = verifierWith({ dpop: { maxAge: '30s' } })
    await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, iat: now() + 4 })))
    await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, iat: now() - 34 })))
    await expect(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, iat: now() - 36 })))).rejects.toMatchObject({ code: 'invalid_dpop_proof' })
  })

  it('errors of the token in a DPoP request challenge with DPoP (an expired token)', async () => {
    const expired = await issuer.expired({ sub: 'alice', cnf: { jkt: client.jkt } })
    const error = await rejection(verifierWith().authenticateRequest(request(`DPoP ${expired}`, await client.proof({ url: URL_, token: expired }))))
    expect(error).toMatchObject({ code: 'invalid_token', description: 'token expired' })
    expect(error.wwwAuthenticate()).toMatch(/^DPoP realm="api", error="invalid_token", error_description="token expired", algs=".*", Bearer realm="api"$/)
  })

  it('a DPoP scheme without a token is a malformed request (400) with the DPoP challenge', async () => {
    const error = await rejection(verifierWith().authenticateRequest(request('DPoP ', await client.proof({ url: URL_, token: bound }))))
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' })
    expect(error.wwwAuthenticate()).toMatch(/^DPoP realm="api", error="invalid_request"/)
  })
})

describe('the replay store', () => {
  it('is asked with the key thumbprint and jti, until the end of the proof window', async () => {
    const seen: [string, number][] = []
    const replay: ReplayStore = { mark: (id, expiresAt) => (seen.push([id, expiresAt]), true) }
    const verifier = verifierWith({ dpop: { replay, maxAge: '60s' } })
    const iat = now()
    await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, iat, jti: 'j-1' })))
    expect(seen).toEqual([[`${client.jkt}:j-1`, iat + 60 + 5]])
  })

  it('an asynchronous store works; one that throws or rejects answers 503, never an accepted proof', async () => {
    const later = verifierWith({ dpop: { replay: { mark: async () => true } } })
    expect((await later.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))).scheme).toBe('DPoP')
    for (const mark of [() => { throw new Error('down') }, () => Promise.reject(new Error('down'))]) {
      const verifier = verifierWith({ dpop: { replay: { mark } } })
      const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound }))))
      expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', description: 'replay check unavailable, retry later' })
      expect(error.reason).toMatch(/replay store failed: down/)
      expect(error.wwwAuthenticate()).toBeUndefined()
    }
  })

  it('an answer other than true is a replay', async () => {
    const verifier = verifierWith({ dpop: { replay: { mark: () => 'yes' as unknown as boolean } } })
    await expect(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))).rejects.toMatchObject({ code: 'invalid_dpop_proof' })
  })
})

describe('createMemoryReplayStore', () => {
  it('says true the first time, false after, until expiresAt', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000_000)
    const store = createMemoryReplayStore()
    expect(store.mark('a', 1_000_060)).toBe(true)
    expect(store.mark('a', 1_000_060)).toBe(false)
    vi.setSystemTime(1_000_060_000)
    expect(store.mark('a', 1_000_120)).toBe(true)
  })

  it('is bounded: expired entries make room; when every entry is live, mark throws (503), it never forgets a live one', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000_000)
    const store = createMemoryReplayStore({ max: 2 })
    expect(store.mark('a', 1_000_010)).toBe(true)
    expect(store.mark('b', 1_000_060)).toBe(true)
    expect(() => store.mark('c', 1_000_060)).toThrow(/full/)
    expect(store.mark('a', 1_000_010)).toBe(false)
    vi.setSystemTime(1_000_011_000)
    expect(store.mark('c', 1_000_060)).toBe(true) // 'a' expired and made room
    expect(store.size).toBe(2)
    expect(store.mark('b', 1_000_060)).toBe(false)
  })

  it('refuses a bad max and bad arguments', () => {
    expect(() => createMemoryReplayStore({ max: 0 })).toThrow(TypeError)
    expect(() => createMemoryReplayStore().mark('', 1)).toThrow(TypeError)
    expect(() => createMemoryReplayStore().mark('a', Number.NaN)).toThrow(TypeError)
  })
})

describe('server nonces', () => {
  const secret = 'a nonce secret of at least 32 bytes!'

  async function nonceOf(verifier: ReturnType<typeof verifierWith>): Promise<string> {
    const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound }))))
    expect(error).toMatchObject({ status: 401, code: 'use_dpop_nonce' })
    return error.challenge!.nonce!
  }

  it('a proof without a nonce gets 401 use_dpop_nonce and a nonce; with it, the request passes and gets a fresh one', async () => {
    const verifier = verifierWith({ dpop: { nonce: { secret } } })
    const error = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound }))))
    expect(error.wwwAuthenticate()).toBe('DPoP realm="api", error="use_dpop_nonce", error_description="DPoP nonce required", algs="ES256 EdDSA Ed25519 PS256 RS256", Bearer realm="api"')
    const nonce = error.challenge!.nonce!
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const auth = await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, nonce })))
    expect(auth.responseHeaders).toEqual({ 'DPoP-Nonce': nonce, 'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce' })
  })

  it('accepts the nonce of this window and the previous one, not older; a wrong nonce is use_dpop_nonce', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Math.ceil(Date.now() / 300_000) * 300_000 // the start of a 5-minute window
    vi.setSystemTime(start)
    const token = await issuer.sign({ sub: 'alice', cnf: { jkt: client.jkt } }, { expiresIn: '1h' })
    const verifier = verifierWith({ dpop: { nonce: { secret, lifetime: '5m' } } })
    const first = await rejection(verifier.authenticateRequest(request(`DPoP ${token}`, await client.proof({ url: URL_, token }))))
    const nonce = first.challenge!.nonce!
    vi.setSystemTime(start + 9 * 60_000)
    const auth = await verifier.authenticateRequest(request(`DPoP ${token}`, await client.proof({ url: URL_, token, nonce })))
    expect(auth.responseHeaders?.['DPoP-Nonce']).not.toBe(nonce) // the next window's
    vi.setSystemTime(start + 10 * 60_000)
    const stale = await rejection(verifier.authenticateRequest(request(`DPoP ${token}`, await client.proof({ url: URL_, token, nonce }))))
    expect(stale).toMatchObject({ code: 'use_dpop_nonce' })
    expect(stale.reason).toMatch(/stale/)
    const wrong = await rejection(verifier.authenticateRequest(request(`DPoP ${token}`, await client.proof({ url: URL_, token, nonce: 'x'.repeat(43) }))))
    expect(wrong).toMatchObject({ code: 'use_dpop_nonce' })
  })

  it('rotates without state: a nonce of the old secret (second in the list) is accepted; new nonces use the first', async () => {
    const oldSecret = 'the old nonce secret, 32 bytes at least'
    const before = verifierWith({ dpop: { nonce: { secret: oldSecret } } })
    const oldNonce = await nonceOf(before)
    const after = verifierWith({ dpop: { nonce: { secret: [secret, oldSecret] } } })
    const auth = await after.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, nonce: oldNonce })))
    expect(auth.responseHeaders?.['DPoP-Nonce']).toBe(await nonceOf(verifierWith({ dpop: { nonce: { secret } } })))
    // two instances with the same secret agree
    expect(await nonceOf(verifierWith({ dpop: { nonce: { secret } } }))).toBe(auth.responseHeaders?.['DPoP-Nonce'])
  })

  it('on Web Crypto alike', async () => {
    setCryptoBackend('web')
    const verifier = verifierWith({ dpop: { nonce: { secret } } })
    const nonce = await nonceOf(verifier)
    const auth = await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound, nonce })))
    expect(auth.responseHeaders?.['DPoP-Nonce']).toBe(nonce)
  })
})

describe('options', () => {
  it.each([
    [{ mode: 'sometimes' }, /dpop\.mode/],
    [{ algorithms: ['HS256'] }, /dpop\.algorithms/],
    [{ algorithms: ['none'] }, /dpop\.algorithms/],
    [{ algorithms: [] }, /dpop\.algorithms/],
    [{ maxAge: '2h' }, /dpop\.maxAge/],
    [{ replay: {} }, /dpop\.replay/],
    [{ nonce: { secret: 'short' } }, /dpop\.nonce\.secret/],
    [{ nonce: { secret: 'x'.repeat(32), lifetime: 'forever' } }, /dpop\.nonce\.lifetime/],
    [{ nonces: true }, /dpop\.nonces/],
  ])('refuses dpop %j with a TypeError naming it', (dpop, message) => {
    expect(() => verifierWith({ dpop } as never)).toThrow(TypeError)
    expect(() => verifierWith({ dpop } as never)).toThrow(message)
  })

  it('refuses dpop inside an entry of issuers (it applies to the whole verifier)', () => {
    expect(() => createVerifier({ issuers: [{ ...(issuer.verifierOptions('keys') as object), dpop: false }] } as never)).toThrow(/dpop/)
  })

  it('restricts the algorithms: an ES256-only verifier refuses an EdDSA proof and advertises ES256', async () => {
    const c = await dpopClient('EdDSA')
    const token = await issuer.sign({ sub: 'alice', cnf: { jkt: c.jkt } })
    const error = await rejection(verifierWith({ dpop: { algorithms: ['ES256'] } }).authenticateRequest(request(`DPoP ${token}`, await c.proof({ url: URL_, token }))))
    expect(error.wwwAuthenticate()).toContain('algs="ES256"')
  })
})

describe('confirmation claims bearer-guard cannot check', () => {
  it.each([
    [{ jwk: { kty: 'EC' } }, /no supported confirmation method/],
    ['abc', /cnf is not an object/],
    [{ jkt: 5 }, /cnf.jkt is not a string/],
  ])('refuses a token with cnf %j (fail closed: not a bearer token either)', async (cnf, reason) => {
    const token = await issuer.sign({ sub: 'alice', cnf })
    const error = await rejection(verifierWith().authenticateRequest(request(`Bearer ${token}`, undefined)))
    expect(error.code).toBe('invalid_token')
    expect(error.reason).toMatch(reason)
  })
})

function now(): number {
  return Math.floor(Date.now() / 1000)
}


describe('the success headers the adapters add', () => {
  const auth = { responseHeaders: { 'DPoP-Nonce': 'n1', 'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce' } } as never

  it('merges Access-Control-Expose-Headers into what a CORS middleware set, keeps "*", and adds nothing for a plain request', () => {
    expect(successHeaders(auth, () => 'X-Total-Count, www-authenticate')).toEqual([
      ['DPoP-Nonce', 'n1'],
      ['Access-Control-Expose-Headers', 'X-Total-Count, www-authenticate, DPoP-Nonce'],
    ])
    expect(successHeaders(auth, () => undefined)).toEqual([
      ['DPoP-Nonce', 'n1'],
      ['Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce'],
    ])
    expect(successHeaders(auth, () => '*')).toEqual([['DPoP-Nonce', 'n1']])
    expect(successHeaders(undefined, () => undefined)).toEqual([])
  })

  it("adds them through a framework's getter and setter, the response passed in; nothing is read or set without them", () => {
    const response = new Map<string, string>([['access-control-expose-headers', 'X-Total-Count']])
    const get = (r: Map<string, string>, name: string) => r.get(name.toLowerCase())
    const set = (r: Map<string, string>, name: string, value: string) => void r.set(name.toLowerCase(), value)
    addSuccessHeaders(auth, response, get, set)
    expect(Object.fromEntries(response)).toEqual({ 'access-control-expose-headers': 'X-Total-Count, WWW-Authenticate, DPoP-Nonce', 'dpop-nonce': 'n1' })
    const untouched = () => {
      throw new Error('read or set without success headers')
    }
    for (const plain of [undefined, null, { subject: 'alice' }] as never[]) addSuccessHeaders(plain, response, untouched, untouched)
  })

  it('adds them to a Web Response, also one whose headers are immutable', async () => {
    const fetched = Response.redirect('https://api.test/next', 302) // immutable headers
    const out = withSuccessHeaders(fetched, auth)
    expect(out.status).toBe(302)
    expect(out.headers.get('dpop-nonce')).toBe('n1')
    const plain = new Response('x')
    expect(withSuccessHeaders(plain, undefined)).toBe(plain)
  })
})

describe('threadpool: true', () => {
  it('checks the proof on the threadpool too, and decides as before', async () => {
    const nodeCrypto = process.getBuiltinModule('node:crypto') as typeof import('node:crypto')
    const verifier = verifierWith({ threadpool: true })
    const spy = vi.spyOn(nodeCrypto, 'verify')
    try {
      const auth = await verifier.authenticateRequest(request(`DPoP ${bound}`, await client.proof({ url: URL_, token: bound })))
      expect(auth.scheme).toBe('DPoP')
      // the token's signature and the proof's, each handed over with a callback
      expect(spy.mock.calls.length).toBe(2)
      expect(spy.mock.calls.every((call) => typeof call[4] === 'function')).toBe(true)
      const stolen = await rejection(verifier.authenticateRequest(request(`DPoP ${bound}`, await other.proof({ url: URL_, token: bound }))))
      expect(stolen).toMatchObject({ code: 'invalid_dpop_proof' })
      expect(spy.mock.calls.length).toBe(3)
    } finally {
      spy.mockRestore()
    }
  })
})

