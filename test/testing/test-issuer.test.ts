import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importSPKI,
  jwtVerify,
  type JWK,
} from 'jose'
import { describe, expect, it } from 'vitest'
import { createTestIssuer, type TestAlgorithm, type TestIssuer } from 'bearer-guard/testing'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()
const { msw, issue } = issuers

/** Verifies with jose only, trusting the issuer's published JWKS. */
function verifyWithJwks(issuer: TestIssuer, token: string) {
  return jwtVerify(token, createLocalJWKSet(issuer.jwks()), {
    issuer: issuer.issuer,
    audience: issuer.audience,
    algorithms: [issuer.algorithm],
  })
}

describe('createTestIssuer', () => {
  it.each<TestAlgorithm>(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'])(
    'signs %s tokens that verify against its JWKS',
    async (algorithm) => {
      const issuer = await issue({ algorithm })
      const token = await issuer.sign({ scope: 'read:data' })
      const { payload, protectedHeader } = await verifyWithJwks(issuer, token)
      expect(protectedHeader).toEqual({ alg: algorithm, kid: issuer.kid, typ: 'at+jwt' })
      expect(payload).toMatchObject({
        iss: 'https://issuer.test',
        aud: 'https://api.test',
        sub: 'user-123',
        scope: 'read:data',
      })
      expect(payload.exp! - payload.iat!).toBe(300)
      expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/)
    },
  )

  it('signs HS256 tokens with a secret of at least 32 bytes', async () => {
    const issuer = await issue({ algorithm: 'HS256' })
    expect(issuer.secret).toBeTypeOf('string')
    expect(new TextEncoder().encode(issuer.secret).length).toBeGreaterThanOrEqual(32)
    const token = await issuer.sign()
    const { payload } = await jwtVerify(token, new TextEncoder().encode(issuer.secret), {
      algorithms: ['HS256'],
    })
    expect(payload.sub).toBe('user-123')
    expect(issuer.jwks()).toEqual({ keys: [] })
    expect(issuer.verifierOptions('jwks')).toEqual({
      issuer: 'https://issuer.test',
      audience: 'https://api.test',
      algorithms: ['HS256'],
      secret: issuer.secret,
    })
  })

  it('uses a given HS256 secret', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!'
    const issuer = await issue({ algorithm: 'HS256', secret })
    const token = await issuer.sign()
    await expect(jwtVerify(token, new TextEncoder().encode(secret))).resolves.toMatchObject({
      payload: { sub: 'user-123', iss: 'https://issuer.test' },
      protectedHeader: { alg: 'HS256' },
    })
  })

  it('applies the per-token options', async () => {
    const issuer = await issue({ issuer: 'https://auth.example.com/', audience: ['a', 'b'], kid: 'k1' })
    const token = await issuer.sign(
      { tenant: 't1' },
      {
        audience: 'other',
        issuer: 'https://elsewhere.example',
        subject: 'alice',
        expiresIn: '1h',
        issuedAt: 1_700_000_000,
        notBefore: new Date(1_700_000_010_000),
        typ: 'JWT',
        kid: 'custom',
        header: { cty: 'x' },
      },
    )
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: 'custom', typ: 'JWT', cty: 'x' })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      aud: 'other',
      iss: 'https://elsewhere.example',
      sub: 'alice',
      iat: 1_700_000_000,
      nbf: 1_700_000_010,
      tenant: 't1',
    })
    expect(claims.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(3599)
    const plain = decodeJwt(await issuer.sign())
    expect(plain.aud).toEqual(['a', 'b'])
    expect(plain.iss).toBe('https://auth.example.com/')
  })

  it('lets claims override or remove defaults, hostile values included', async () => {
    const issuer = await issue()
    const noExp = decodeJwt(await issuer.sign({ exp: undefined, sub: 42 }))
    expect(noExp).not.toHaveProperty('exp')
    expect(noExp.sub).toBe(42)
    const odd = decodeJwt(await issuer.sign({ exp: 'soon', aud: undefined }))
    expect(odd.exp).toBe('soon')
    expect(odd).not.toHaveProperty('aud')
    const header = decodeProtectedHeader(
      await issuer.sign({}, { header: { jku: 'https://evil.example/jwks', kid: undefined }, typ: undefined }),
    )
    expect(header).toEqual({ alg: 'RS256', jku: 'https://evil.example/jwks' })
  })

  it('makes tokens that jose rejects as expired', async () => {
    const issuer = await issue()
    const token = await issuer.expired({ scope: 'x' })
    const claims = decodeJwt(token)
    expect(claims.exp).toBeLessThan(Date.now() / 1000 - 500)
    expect(claims.scope).toBe('x')
    await expect(verifyWithJwks(issuer, token)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' })
  })

  it('produces an unsigned token for alg none', async () => {
    const issuer = await issue()
    const token = await issuer.sign({}, { algorithm: 'none' })
    expect(token.endsWith('.')).toBe(true)
    expect(decodeProtectedHeader(token).alg).toBe('none')
    await expect(verifyWithJwks(issuer, token)).rejects.toThrow()
  })

  it('signs key-confusion tokens with the public key PEM as HMAC secret', async () => {
    const issuer = await issue()
    const token = await issuer.sign({}, { algorithm: 'HS256' })
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: issuer.kid })
    const { exportSPKI } = await import('jose')
    const publicKey = await importSPKIFromJwk(issuer.jwks().keys[0]!)
    const pem = await exportSPKI(publicKey)
    await expect(jwtVerify(token, new TextEncoder().encode(pem))).resolves.toMatchObject({ payload: { sub: 'user-123' } })
    await expect(verifyWithJwks(issuer, token)).rejects.toThrow()
  })

  it('signs with an unpublished key for another asymmetric algorithm', async () => {
    const issuer = await issue()
    const token = await issuer.sign({}, { algorithm: 'ES256' })
    expect(decodeProtectedHeader(token).alg).toBe('ES256')
    await expect(
      jwtVerify(token, createLocalJWKSet(issuer.jwks()), { algorithms: ['ES256', 'RS256'] }),
    ).rejects.toThrow()
  })

  it('keeps previous keys published after rotation', async () => {
    const issuer = await issue({ kid: 'key' })
    const before = await issuer.sign()
    const { kid } = await issuer.rotateKeys()
    expect(kid).toBe('key-2')
    expect(issuer.kid).toBe('key-2')
    const after = await issuer.sign()
    expect(decodeProtectedHeader(after).kid).toBe('key-2')
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual(['key-2', 'key'])
    for (const key of issuer.jwks().keys) expect(key).toMatchObject({ alg: 'RS256', use: 'sig' })
    await expect(verifyWithJwks(issuer, before)).resolves.toMatchObject({ protectedHeader: { kid: 'key' } })
    await expect(verifyWithJwks(issuer, after)).resolves.toMatchObject({ protectedHeader: { kid: 'key-2' } })
    await issuer.rotateKeys({ keepPrevious: false })
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual(['key-3'])
    await expect(verifyWithJwks(issuer, before)).rejects.toThrow()
  })

  it('never reuses a kid, even after dropping the older keys', async () => {
    const issuer = await issue({ kid: 'key' })
    const kids = [issuer.kid]
    kids.push((await issuer.rotateKeys({ keepPrevious: false })).kid)
    kids.push((await issuer.rotateKeys()).kid)
    expect(kids).toEqual(['key', 'key-2', 'key-3'])
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual(['key-3', 'key-2'])
  })

  it('publishes only public key material', async () => {
    for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
      const issuer = await issue({ algorithm })
      for (const key of issuer.jwks().keys) expect(key).not.toHaveProperty('d')
    }
  })

  it('rejects an unsupported algorithm', async () => {
    await expect(createTestIssuer({ algorithm: 'none' as TestAlgorithm })).rejects.toThrow(TypeError)
  })

  it('accepts a non-URL issuer for signing and static keys, but has nothing to serve', async () => {
    const issuer = await issue({ issuer: 'auth-service', algorithm: 'HS256' })
    expect(decodeJwt(await issuer.sign()).iss).toBe('auth-service')
    expect(() => issuer.jwksUri).toThrow(TypeError)
    expect((await issuer.handler(new Request('https://x.test/.well-known/jwks.json'))).status).toBe(404)
  })
})

describe('verifierOptions', () => {
  it('configures each key source', async () => {
    const issuer = await issue({ algorithm: 'ES256' })
    const base = { issuer: 'https://issuer.test', audience: 'https://api.test', algorithms: ['ES256'] }
    expect(issuer.verifierOptions()).toEqual({ ...base, keys: issuer.jwks() })
    expect(issuer.verifierOptions('jwks')).toEqual({
      ...base,
      jwksUri: 'https://issuer.test/.well-known/jwks.json',
    })
    expect(issuer.verifierOptions('discovery')).toEqual(base)
    expect(issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch } })).toMatchObject({
      jwks: { fetch: issuer.fetch },
    })
  })
})

describe('discovery and JWKS serving', () => {
  it('serves OIDC discovery, RFC 8414 metadata and the JWKS from handler()', async () => {
    const issuer = await issue({ issuer: 'https://auth.example.com/realms/demo' })
    const oidc = await issuer.handler(
      new Request('https://auth.example.com/realms/demo/.well-known/openid-configuration'),
    )
    expect(oidc.status).toBe(200)
    expect(oidc.headers.get('content-type')).toBe('application/json')
    const doc = await oidc.json()
    expect(doc).toMatchObject({
      issuer: 'https://auth.example.com/realms/demo',
      jwks_uri: 'https://auth.example.com/realms/demo/.well-known/jwks.json',
    })
    const rfc8414 = await issuer.handler(
      new Request('https://auth.example.com/.well-known/oauth-authorization-server/realms/demo'),
    )
    expect(await rfc8414.json()).toEqual(doc)
    const jwks = await issuer.handler(new Request(doc.jwks_uri))
    expect(await jwks.json()).toEqual(issuer.jwks())
    expect(issuer.requests).toEqual({ discovery: 2, jwks: 1 })
  })

  it('answers 404 for other paths and 405 for other methods', async () => {
    const issuer = await issue()
    expect((await issuer.handler(new Request('https://issuer.test/token'))).status).toBe(404)
    const post = await issuer.handler(
      new Request('https://issuer.test/.well-known/jwks.json', { method: 'POST' }),
    )
    expect(post.status).toBe(405)
  })

  it('keeps a trailing slash of the issuer in the discovery document', async () => {
    const issuer = await issue({ issuer: 'https://issuer.test/' })
    expect(issuer.discoveryUri).toBe('https://issuer.test/.well-known/openid-configuration')
    expect(issuer.metadataUri).toBe('https://issuer.test/.well-known/oauth-authorization-server')
    const doc = await (await issuer.fetch(issuer.discoveryUri)).json()
    expect(doc.issuer).toBe('https://issuer.test/')
    expect(doc.jwks_uri).toBe('https://issuer.test/.well-known/jwks.json')
  })

  it('serves discovery and JWKS through msw', async () => {
    const issuer = await issue()
    msw.use(...(await issuer.mswHandlers()))
    const doc = await (await fetch('https://issuer.test/.well-known/openid-configuration')).json()
    expect(doc.issuer).toBe('https://issuer.test')
    const meta = await (await fetch('https://issuer.test/.well-known/oauth-authorization-server')).json()
    expect(meta.issuer).toBe('https://issuer.test')
    const token = await issuer.sign()
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), {
      issuer: issuer.issuer,
      audience: issuer.audience,
    })
    expect(payload.sub).toBe('user-123')
  })

  it('serves over a real loopback server with listen: true', async () => {
    const issuer = await issue({ listen: true, issuer: '/realms/demo' })
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/realms\/demo$/)
    const doc = await (await fetch(issuer.discoveryUri)).json()
    expect(doc.issuer).toBe(issuer.issuer)
    const token = await issuer.sign()
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), {
      issuer: issuer.issuer,
    })
    expect(payload.iss).toBe(issuer.issuer)
    expect(issuer.server?.requests).toBe(2)
    await issuer.close()
    await expect(fetch(issuer.jwksUri)).rejects.toThrow()
  })

  it('serves an existing issuer on an extra loopback server', async () => {
    const issuer = await issue()
    const server = await issuer.listen()
    const res = await fetch(`${server.url}/.well-known/jwks.json`)
    expect(await res.json()).toEqual(issuer.jwks())
    expect(server.requests).toBe(1)
  })

  it('refuses listen: true with an absolute issuer URL', async () => {
    await expect(createTestIssuer({ listen: true, issuer: 'https://x.test' })).rejects.toThrow(
      TypeError,
    )
  })
})

describe('simulate', () => {
  it('answers with a status, bad JSON, an oversized body or a custom response', async () => {
    const issuer = await issue()
    issuer.simulate('jwks', 404)
    expect((await issuer.fetch(issuer.jwksUri)).status).toBe(404)
    expect((await issuer.fetch(issuer.discoveryUri)).status).toBe(200)
    issuer.simulate('all', 'bad-json')
    await expect((await issuer.fetch(issuer.discoveryUri)).json()).rejects.toThrow(SyntaxError)
    issuer.simulate('jwks', 'oversized')
    expect((await (await issuer.fetch(issuer.jwksUri)).arrayBuffer()).byteLength).toBeGreaterThan(
      1024 * 1024,
    )
    issuer.simulate('jwks', () => Response.json({ keys: [{ kty: 'oct', k: 'AA' }] }))
    expect(await (await issuer.fetch(issuer.jwksUri)).json()).toEqual({ keys: [{ kty: 'oct', k: 'AA' }] })
    issuer.simulate('all', null)
    expect(await (await issuer.fetch(issuer.jwksUri)).json()).toEqual(issuer.jwks())
  })

  it('never answers a timed-out request until it is aborted', async () => {
    const issuer = await issue()
    issuer.simulate('jwks', 'timeout')
    const pending = issuer.fetch(issuer.jwksUri, { signal: AbortSignal.timeout(100) })
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('makes a real HTTP client time out on the loopback server', async () => {
    const issuer = await issue({ listen: true })
    issuer.simulate('jwks', 'timeout')
    await expect(fetch(issuer.jwksUri, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    })
  })
})

async function importSPKIFromJwk(jwk: JWK) {
  const { importJWK, exportSPKI } = await import('jose')
  const key = (await importJWK(jwk, 'RS256')) as CryptoKey
  return importSPKI(await exportSPKI(key), 'RS256', { extractable: true })
}
