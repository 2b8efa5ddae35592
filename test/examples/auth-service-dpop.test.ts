/**
 * The auth service's DPoP (RFC 9449, authorization-server side): a valid proof at /token or
 * /refresh_token binds the access token (`cnf.jkt`, `token_type: DPoP`) and the refresh-token
 * family to the proof's key; every check of §4.3 on the proof; optional server nonces (§8); /logout
 * takes a bound token only with its proof (§7). Proofs come from oauth4webapi (an independent
 * client) where the test follows a client's flow, and from jose where a test breaks one on purpose.
 */
import { request } from 'node:http'
import { exportJWK, generateSecret, SignJWT } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { startAuthService, type RunningAuthService } from '../../examples/auth-service/app.js'
import { configFromEnv } from '../../examples/auth-service/config.js'
import { createDpopChecker, DpopError } from '../../examples/auth-service/dpop.js'
import {
  accessTokenHash,
  decode,
  dpopProof,
  get,
  post,
  proofKey,
  testConfig,
  type Answer,
  type ProofKey,
} from '../helpers/auth-service-client.js'

const insecure = { [oauth.allowInsecureRequests]: true } as const

/** oauth4webapi as the client: discovery, then token requests with its DPoP handle. */
async function oauthClient(service: RunningAuthService) {
  const issuer = new URL(service.issuer)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: 'seed-client' }
  const retryOnNonce = async <T>(attempt: () => Promise<T>) => {
    try {
      return await attempt()
    } catch (err) {
      if (oauth.isDPoPNonceError(err)) return attempt()
      throw err
    }
  }
  return {
    as,
    login: (username: string, DPoP?: oauth.DPoPHandle) =>
      retryOnNonce(async () =>
        oauth.processGenericTokenEndpointResponse(
          as,
          client,
          await oauth.genericTokenEndpointRequest(as, client, oauth.None(), 'password', { username, password: `password_${username}` }, {
            ...insecure,
            ...(DPoP ? { DPoP } : {}),
          }),
        ),
      ),
    refresh: (refreshToken: string, DPoP?: oauth.DPoPHandle) =>
      retryOnNonce(async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, { ...insecure, ...(DPoP ? { DPoP } : {}) }),
        ),
      ),
  }
}

describe('auth service: DPoP-bound tokens (RFC 9449)', () => {
  let service: RunningAuthService
  let client: Awaited<ReturnType<typeof oauthClient>>
  let key: ProofKey
  let DPoP: oauth.DPoPHandle
  const tokenUrl = () => `${service.issuer}/token`
  const login = (proof?: string, extra: Record<string, string> = {}) =>
    post(tokenUrl(), { username: 'alice', password: 'password_alice', ...extra }, proof === undefined ? {} : { dpop: proof })

  beforeAll(async () => {
    service = await startAuthService(testConfig(), { port: 0 })
    client = await oauthClient(service)
    key = await proofKey()
    DPoP = oauth.DPoP({}, key.pair)
  })
  afterAll(() => service.close())

  it('advertises its proof algorithms in discovery', async () => {
    const { body } = await get(`${service.url}/.well-known/oauth-authorization-server`)
    expect(body.dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'])
  })

  it('binds the access token to the key of an oauth4webapi proof: token_type DPoP, cnf.jkt', async () => {
    const res = await fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(key, 'POST', tokenUrl()) },
      body: new URLSearchParams({ username: 'alice', password: 'password_alice' }),
    })
    expect((await res.json()).token_type).toBe('DPoP') // the service's own spelling

    const tokens = await client.login('alice', DPoP)
    expect(tokens.token_type).toBe('dpop') // oauth4webapi lowercases
    expect(decode(tokens.access_token).cnf).toEqual({ jkt: await DPoP.calculateThumbprint() })
    expect(await DPoP.calculateThumbprint()).toBe(key.jkt)
    // bearer-guard's verifier takes it with a proof of the key (`ath` bound), never as a bearer token
    const verifier = createVerifier({ issuer: service.issuer, audience: 'demo-api' })
    const url = 'https://api.example.test/orders'
    const proof = await dpopProof(key, 'GET', url, { claims: { ath: accessTokenHash(tokens.access_token) } })
    const auth = await verifier.authenticateRequest({
      method: 'GET',
      url,
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof },
    })
    expect(auth).toMatchObject({ scheme: 'DPoP', confirmation: { jkt: key.jkt }, subject: 'alice' })
    // without its proof (verifyAccessToken has none) the bound token is refused
    await expect(verifier.verifyAccessToken(tokens.access_token)).rejects.toMatchObject({ status: 401, code: 'invalid_token', claim: 'cnf' })
  })

  it('issues plain bearer tokens without a DPoP header, as before', async () => {
    const res = await login()
    expect(res.body.token_type).toBe('Bearer')
    expect(decode(res.body.access_token).cnf).toBeUndefined()
  })

  it('binds the refresh token: a refresh needs a proof with the same key, and stays bound', async () => {
    const first = await client.login('alice', DPoP)
    const refreshed = await client.refresh(first.refresh_token!, DPoP)
    expect(refreshed.token_type).toBe('dpop')
    expect(decode(refreshed.access_token).cnf).toEqual({ jkt: key.jkt })
    expect(decode(refreshed.access_token).sid).toBe(decode(first.access_token).sid)
    const again = await client.refresh(refreshed.refresh_token!, DPoP)
    expect(decode(again.access_token).cnf).toEqual({ jkt: key.jkt })
  })

  it('refuses a bound refresh token without its key, and burns nothing (the key holder can still refresh)', async () => {
    const first = await client.login('alice', DPoP)
    const refresh = (headers: Record<string, string> = {}) =>
      post(tokenUrl(), { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, headers)

    const none = await refresh()
    expect(none.status).toBe(400)
    expect(none.body).toEqual({ error: 'invalid_grant', error_description: 'refresh token is bound to a DPoP key: send a DPoP proof' })

    const thief = await proofKey()
    const other = await refresh({ dpop: await dpopProof(thief, 'POST', tokenUrl()) })
    expect(other.status).toBe(400)
    expect(other.body.error_description).toBe('DPoP key does not match the refresh token')

    // neither attempt used the token up or revoked the session
    const own = await refresh({ dpop: await dpopProof(key, 'POST', tokenUrl()) })
    expect(own.status).toBe(200)
    expect(decode(own.body.access_token).cnf).toEqual({ jkt: key.jkt })
  })

  it('still detects reuse by the key holder: the family is revoked', async () => {
    const first = await client.login('alice', DPoP)
    await client.refresh(first.refresh_token!, DPoP)
    const reuse = await post(
      tokenUrl(),
      { grant_type: 'refresh_token', refresh_token: first.refresh_token! },
      { dpop: await dpopProof(key, 'POST', tokenUrl()) },
    )
    expect(reuse.body.error_description).toBe('refresh token reuse detected, session revoked')
  })

  it('binds on the seed’s /refresh_token, whose proofs name /refresh_token', async () => {
    const first = (await login(await dpopProof(key, 'POST', tokenUrl()))).body
    const url = `${service.issuer}/refresh_token`
    const bearer = `Bearer ${first.refresh_token}`
    const wrongHtu = await post(url, '', { authorization: bearer, dpop: await dpopProof(key, 'POST', tokenUrl()) })
    expect(wrongHtu.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'DPoP proof htu mismatch' })
    const res = await post(url, '', { authorization: bearer, dpop: await dpopProof(key, 'POST', url) })
    expect(res.status).toBe(200)
    expect(res.body.token_type).toBe('DPoP')
    expect(decode(res.body.access_token).cnf).toEqual({ jkt: key.jkt })
    const unproven = await post(url, '', { authorization: `Bearer ${res.body.refresh_token}` })
    expect(unproven.status).toBe(401)
    expect(unproven.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
  })

  it('binds the access token of an unbound family when the refresh carries a proof', async () => {
    const first = (await login()).body
    const res = await post(
      tokenUrl(),
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { dpop: await dpopProof(key, 'POST', tokenUrl()) },
    )
    expect(res.body.token_type).toBe('DPoP')
    expect(decode(res.body.access_token).cnf).toEqual({ jkt: key.jkt })
  })

  it('accepts htu with a query or another spelling of the same URL (RFC 9449 §4.3 normalisation)', async () => {
    const port = new URL(service.issuer).port
    for (const htu of [`${tokenUrl()}?x=1`, `${tokenUrl()}#f`, `HTTP://127.0.0.1:${port}/token`]) {
      const res = await login(await dpopProof(key, 'POST', htu))
      expect(res.status, htu).toBe(200)
    }
  })

  describe('refuses a bad proof with 400 invalid_dpop_proof and issues nothing', () => {
    const now = () => Math.floor(Date.now() / 1000)
    /** A proof for POST /token with something overridden. */
    const altered =
      (options: Parameters<typeof dpopProof>[3], htm = 'POST', htu?: string) =>
      async () => ({ dpop: await dpopProof(key, htm, htu ?? tokenUrl(), options) })
    const cases: [string, () => Promise<Record<string, string>>, string][] = [
      ['typ JWT', altered({ header: { typ: 'JWT' } }), 'DPoP proof typ must be dpop+jwt'],
      [
        'a symmetric alg (HS256)',
        async () => {
          const secret = await generateSecret('HS256')
          const jws = await new SignJWT({ htm: 'POST', htu: tokenUrl(), iat: now(), jti: 'hs' })
            .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as never })
            .sign(secret)
          return { dpop: jws }
        },
        'DPoP proof alg not allowed',
      ],
      [
        'alg none',
        async () => {
          const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
          const header = part({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })
          return { dpop: `${header}.${part({ htm: 'POST', htu: tokenUrl(), iat: now(), jti: 'n' })}.` }
        },
        'expected exactly one DPoP proof (a JWS)',
      ],
      [
        'an alg off the list (ES512)',
        async () => ({ dpop: await dpopProof(await proofKey('ES512'), 'POST', tokenUrl()) }),
        'DPoP proof alg not allowed',
      ],
      [
        'a private key in the jwk',
        async () => ({ dpop: await dpopProof(key, 'POST', tokenUrl(), { header: { jwk: await exportJWK(key.pair.privateKey) } }) }),
        'DPoP proof jwk must be a public key',
      ],
      ['no jwk', altered({ header: { jwk: undefined } }), 'DPoP proof has no jwk'],
      [
        'a signature by another key than the jwk',
        async () => ({ dpop: await dpopProof({ ...(await proofKey()), publicJwk: key.publicJwk }, 'POST', tokenUrl()) }),
        'DPoP proof signature or key invalid',
      ],
      ['htm GET', altered({}, 'GET'), 'DPoP proof htm mismatch'],
      ['htu of another endpoint', async () => altered({}, 'POST', `${service.issuer}/revoke`)(), 'DPoP proof htu mismatch'],
      ['htu of another host', altered({}, 'POST', 'https://auth.example.test/token'), 'DPoP proof htu mismatch'],
      ['htu not a URL', altered({}, 'POST', 'token'), 'DPoP proof htu mismatch'],
      ['iat 61 s old', async () => altered({ claims: { iat: now() - 61 } })(), 'DPoP proof too old'],
      ['iat 10 s ahead', async () => altered({ claims: { iat: now() + 10 } })(), 'DPoP proof iat is in the future'],
      ['no iat', altered({ claims: { iat: undefined } }), 'DPoP proof has no iat'],
      ['no jti', altered({ claims: { jti: undefined } }), 'DPoP proof jti missing'],
      ['ath at the token endpoint', altered({ claims: { ath: accessTokenHash('x') } }), 'DPoP proof ath not allowed at the token endpoint'],
      [
        'two proofs in one DPoP header',
        async () => ({ dpop: `${await dpopProof(key, 'POST', tokenUrl())}, ${await dpopProof(key, 'POST', tokenUrl())}` }),
        'expected exactly one DPoP proof (a JWS)',
      ],
      ['a malformed proof', async () => ({ dpop: 'a.b.c' }), 'malformed DPoP proof'],
      ['an oversized proof', async () => ({ dpop: `${'a'.repeat(4000)}.${'b'.repeat(100)}.c` }), 'DPoP proof too large'],
    ]
    it.each(cases)('%s', async (_name, headers, description) => {
      const res = await post(tokenUrl(), { username: 'alice', password: 'password_alice' }, await headers())
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ error: 'invalid_dpop_proof', error_description: description })
    })

    it('two DPoP header lines on the wire', async () => {
      const [a, b] = [await dpopProof(key, 'POST', tokenUrl()), await dpopProof(key, 'POST', tokenUrl())]
      const body = 'username=alice&password=password_alice'
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(tokenUrl(), { method: 'POST' }, (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode!, body: text }))
        })
        req.on('error', reject)
        req.setHeader('content-type', 'application/x-www-form-urlencoded')
        req.setHeader('DPoP', [a, b]) // two separate header lines
        req.end(body)
      })
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'expected exactly one DPoP proof (a JWS)',
      })
    })

    it('a replayed proof (the same jti at the same URL)', async () => {
      const proof = await dpopProof(key, 'POST', tokenUrl())
      expect((await login(proof)).status).toBe(200)
      const replay = await login(proof)
      expect(replay.status).toBe(400)
      expect(replay.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'DPoP proof replayed' })
    })
  })

  describe('at /logout, which takes the access token', () => {
    const logoutUrl = () => `${service.issuer}/logout`
    const logout = (headers: Record<string, string>) => fetch(logoutUrl(), { method: 'POST', headers })
    let bound: string
    beforeAll(async () => {
      bound = (await client.login('alice', DPoP)).access_token
    })

    it('refuses a bound token presented as Bearer', async () => {
      const res = await logout({ authorization: `Bearer ${bound}` })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP algs="[^"]+", error="invalid_token"/)
    })

    it('refuses the DPoP scheme without a proof, with a proof of another key, or without ath', async () => {
      const noProof = await logout({ authorization: `DPoP ${bound}` })
      expect(noProof.status).toBe(401)
      expect(noProof.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"')
      const thief = await proofKey()
      const otherKey = await logout({
        authorization: `DPoP ${bound}`,
        dpop: await dpopProof(thief, 'POST', logoutUrl(), { claims: { ath: accessTokenHash(bound) } }),
      })
      expect(otherKey.headers.get('www-authenticate')).toContain('error_description="DPoP key does not match the token"')
      const noAth = await logout({ authorization: `DPoP ${bound}`, dpop: await dpopProof(key, 'POST', logoutUrl()) })
      expect(noAth.headers.get('www-authenticate')).toContain('error_description="DPoP proof ath mismatch"')
    })

    it('refuses an unbound token under the DPoP scheme', async () => {
      const plain = (await login()).body.access_token
      const proof = await dpopProof(key, 'POST', logoutUrl(), { claims: { ath: accessTokenHash(plain) } })
      const res = await logout({ authorization: `DPoP ${plain}`, dpop: proof })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('error_description="token is not DPoP-bound"')
    })

    it('logs out with the DPoP scheme and a proof carrying ath', async () => {
      const res = await logout({
        authorization: `DPoP ${bound}`,
        dpop: await dpopProof(key, 'POST', logoutUrl(), { claims: { ath: accessTokenHash(bound) } }),
      })
      expect(res.status).toBe(204)
      const listed = (await get(`${service.url}/revocations?after=0`)).body.revoked.map((r: { jti: string }) => r.jti)
      expect(listed).toContain(decode(bound).jti)
    })
  })
})

describe('auth service: DPoP server nonces (RFC 9449 §8, DPOP_NONCE=1)', () => {
  let service: RunningAuthService
  let key: ProofKey
  const tokenUrl = () => `${service.issuer}/token`
  const login = (headers: Record<string, string>) => post(tokenUrl(), { username: 'bob', password: 'password_bob' }, headers)
  afterEach(() => {
    vi.useRealTimers()
  })

  beforeAll(async () => {
    service = await startAuthService(testConfig({}, { DPOP_NONCE: '1', DPOP_NONCE_LIFETIME: '60' }), { port: 0 })
    key = await proofKey()
  })
  afterAll(() => service.close())

  it('answers 400 use_dpop_nonce with a DPoP-Nonce, then accepts a proof carrying it', async () => {
    const first = await login({ dpop: await dpopProof(key, 'POST', tokenUrl()) })
    expect(first.status).toBe(400)
    expect(first.body.error).toBe('use_dpop_nonce')
    const nonce = first.headers.get('dpop-nonce')!
    expect(nonce).toMatch(/^[0-9a-z]+\.[\w-]{43}$/)

    const second = await login({ dpop: await dpopProof(key, 'POST', tokenUrl(), { claims: { nonce } }) })
    expect(second.status).toBe(200)
    expect(second.body.token_type).toBe('DPoP')
    expect(second.headers.get('dpop-nonce')).toEqual(expect.any(String)) // a fresh one for next time
  })

  it('works with oauth4webapi’s nonce handling (one retry)', async () => {
    const client = await oauthClient(service)
    const DPoP = oauth.DPoP({}, key.pair)
    const tokens = await client.login('bob', DPoP)
    expect(decode(tokens.access_token).cnf).toEqual({ jkt: key.jkt })
    const refreshed = await client.refresh(tokens.refresh_token!, DPoP)
    expect(decode(refreshed.access_token).cnf).toEqual({ jkt: key.jkt })
  })

  it('refuses a forged nonce and one two lifetimes old', async () => {
    const forged = await login({ dpop: await dpopProof(key, 'POST', tokenUrl(), { claims: { nonce: `1.${'A'.repeat(43)}` } }) })
    expect(forged.body.error).toBe('use_dpop_nonce')

    const nonce = (await login({ dpop: await dpopProof(key, 'POST', tokenUrl()) })).headers.get('dpop-nonce')!
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 121_000)
    const stale = await login({ dpop: await dpopProof(key, 'POST', tokenUrl(), { claims: { nonce } }) })
    expect(stale.body.error).toBe('use_dpop_nonce')
    expect(stale.headers.get('dpop-nonce')).not.toBe(nonce)
  })

  it('does not ask bearer clients for anything', async () => {
    const res = await login({})
    expect(res.status).toBe(200)
    expect(res.headers.get('dpop-nonce')).toBeNull()
  })
})

describe('DPoP checker', () => {
  it('refuses to start with a symmetric or none algorithm', () => {
    const settings = { maxAge: 60, nonce: false as const }
    expect(() => createDpopChecker({ ...settings, algorithms: ['ES256', 'HS256'] })).toThrow(/asymmetric/)
    expect(() => createDpopChecker({ ...settings, algorithms: ['none'] })).toThrow(/asymmetric/)
    expect(() => configFromEnv({ DPOP_NONCE: 'yes' })).toThrow(/DPOP_NONCE/)
    expect(() => configFromEnv({ DPOP_NONCE: '1', DPOP_NONCE_SECRET: 'short' })).toThrow(/32 bytes/)
  })

  it('never forgets a live proof to make room: a full replay cache refuses new proofs (503)', async () => {
    const key = await proofKey()
    const url = 'https://auth.example.test/token'
    const checker = createDpopChecker({ algorithms: ['ES256'], maxAge: 60, nonce: false, replayCapacity: 2 })
    const check = async () => checker.check({ header: await dpopProof(key, 'POST', url), method: 'POST', url })
    await check()
    await check()
    const error = await check().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DpopError)
    expect(error).toMatchObject({ error: 'temporarily_unavailable' })

    // once those proofs are too old to be accepted anyway, their room is free again
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 66_000)
      await expect(check()).resolves.toMatchObject({ jkt: key.jkt })
    } finally {
      vi.useRealTimers()
    }
  })

  it('answers a full cache at the token endpoint with 503 and Retry-After', async () => {
    const config = testConfig()
    const service = await startAuthService({ ...config, dpop: { ...config.dpop, replayCapacity: 1 } }, { port: 0 })
    try {
      const key = await proofKey()
      const url = `${service.issuer}/token`
      const send = async (): Promise<Answer> =>
        post(url, { username: 'alice', password: 'password_alice' }, { dpop: await dpopProof(key, 'POST', url) })
      expect((await send()).status).toBe(200)
      const full = await send()
      expect(full.status).toBe(503)
      expect(full.body.error).toBe('temporarily_unavailable')
      expect(full.headers.get('retry-after')).toBe('5')
    } finally {
      await service.close()
    }
  })
})
