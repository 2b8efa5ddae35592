/**
 * The interop fixture (test/helpers/oidc-provider.ts) proven: a real, independent authorization
 * server (oidc-provider, OpenID Certified) whose tokens bearer-guard's verifier accepts through the
 * provider's own discovery, DPoP-bound tokens whose `cnf.jkt` is the thumbprint of the key oauth4webapi
 * signed the proof with, and introspection of opaque tokens before and after revocation.
 */
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, isAuthError } from 'bearer-guard'
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider.js'

const thumbprintOf = async (key: CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(key.publicKey))
const dpopKey = () => oauth.generateKeyPair('ES256', { extractable: true })

// first in the file: the first start also imports oidc-provider, which has notices of its own
it('starts, issues, refuses and stops without writing to the console', async () => {
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m))
  try {
    const quiet = await startOidcProvider({ dpopNonce: true })
    const key = await dpopKey()
    await quiet.tokenFor()
    const user = await quiet.tokenFor({ user: 'carol', dpopKey: key })
    await quiet.refresh(user.refreshToken!, { dpopKey: key })
    await expect(quiet.tokenFor({ resource: 'https://unknown.example.test/' })).rejects.toThrow()
    const opaque = await quiet.opaqueToken()
    await quiet.introspectionClient.introspect(opaque.accessToken)
    await quiet.revoke(opaque.accessToken)
    await quiet.close()
    for (const spy of spies) expect(spy).not.toHaveBeenCalled()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
})

describe('oidc-provider as an independent authorization server', () => {
  let as: RunningOidcProvider
  beforeAll(async () => {
    as = await startOidcProvider()
  })
  afterAll(() => as.close())

  it('publishes discovery with its JWKS, introspection, revocation and DPoP algorithms', () => {
    expect(as.metadata).toMatchObject({
      issuer: as.issuer,
      jwks_uri: as.jwksUri,
      introspection_endpoint: as.introspectionClient.endpoint,
      revocation_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
    })
  })

  it('issues a JWT access token for the resource that createVerifier accepts via discovery', async () => {
    const token = await as.tokenFor({ scope: 'read' })
    expect(token.tokenType).toBe('Bearer')
    expect(decodeProtectedHeader(token.accessToken)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' })

    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource })
    const auth = await verifier.verifyAccessToken(token.accessToken)
    expect(auth.subject).toBe(as.clients.service.clientId) // client credentials: sub = client_id
    expect(auth.scopes).toEqual(['read'])
    expect(auth.audience).toEqual([as.resource])
    expect(auth.claims.client_id).toBe(as.clients.service.clientId)
  })

  it.each(['RS256', 'PS256', 'EdDSA'] as const)('signs with %s when configured, and createVerifier accepts it', async (alg) => {
    const other = await startOidcProvider({ alg })
    try {
      const { accessToken } = await other.tokenFor()
      expect(decodeProtectedHeader(accessToken).alg).toBe(alg)
      const verifier = createVerifier({ issuer: other.issuer, audience: other.resource, algorithms: [alg] })
      expect((await verifier.verifyAccessToken(accessToken)).subject).toBe(other.clients.service.clientId)
    } finally {
      await other.close()
    }
  })

  it('issues a token for the user of a public client (authorization code + PKCE) with a refresh token', async () => {
    const token = await as.tokenFor({ user: 'alice', scope: 'read write' })
    expect(token.refreshToken).toEqual(expect.any(String))
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource })
    const auth = await verifier.verifyAccessToken(token.accessToken)
    expect(auth).toMatchObject({ subject: 'alice', scopes: ['read', 'write'] })
    expect(auth.claims.client_id).toBe(as.clients.app.clientId)

    const refreshed = await as.refresh(token.refreshToken!)
    expect((await verifier.verifyAccessToken(refreshed.accessToken)).subject).toBe('alice')
  })

  it('refuses a token of another resource: its aud is not ours', async () => {
    const other = await startOidcProvider({ resource: 'https://other.example.test/' })
    try {
      const { accessToken } = await other.tokenFor()
      const verifier = createVerifier({ issuer: other.issuer, audience: as.resource })
      const error = await verifier.verifyAccessToken(accessToken).catch((e: unknown) => e)
      expect(isAuthError(error)).toBe(true)
      expect(error).toMatchObject({ code: 'invalid_token', claim: 'aud' })
    } finally {
      await other.close()
    }
  })

  it('refuses a resource it does not know with invalid_target (RFC 8707)', async () => {
    await expect(as.tokenFor({ resource: 'https://unknown.example.test/' })).rejects.toMatchObject({
      error: 'invalid_target',
    })
  })

  it('binds a token to the DPoP key oauth4webapi proved: cnf.jkt is its RFC 7638 thumbprint', async () => {
    const key = await dpopKey()
    const token = await as.tokenFor({ scope: 'read', dpopKey: key })
    expect(token.tokenType).toBe('DPoP')
    expect(decodeProtectedHeader(token.accessToken)).toMatchObject({ typ: 'at+jwt' })
    const claims = decodeJwt(token.accessToken)
    expect(claims.cnf).toEqual({ jkt: await thumbprintOf(key) })
    // bearer-guard verifies it with a proof of that key (built by oauth4webapi), never as a bearer token
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource })
    const url = 'https://api.example.test/orders'
    const proof = await as.dpopProof({ key, method: 'GET', url, accessToken: token.accessToken })
    const auth = await verifier.authenticateRequest({
      method: 'GET',
      url,
      headers: { authorization: `DPoP ${token.accessToken}`, dpop: proof },
    })
    expect(auth).toMatchObject({ scheme: 'DPoP', confirmation: { jkt: await thumbprintOf(key) } })
    expect(auth.claims.cnf).toEqual({ jkt: await thumbprintOf(key) })
    // without its proof (verifyAccessToken has none) the token is refused, not accepted as a bearer token
    await expect(verifier.verifyAccessToken(token.accessToken)).rejects.toMatchObject({
      code: 'invalid_token',
      reason: expect.stringMatching(/DPoP-bound token \(cnf\.jkt\) presented as a bearer token/),
    })
  })

  it('accepts only its default proof algorithms unless told: an RS256 proof is refused, then accepted', async () => {
    const rsa = await oauth.generateKeyPair('RS256', { extractable: true })
    await expect(as.tokenFor({ dpopKey: rsa })).rejects.toMatchObject({ error: 'invalid_dpop_proof' })
    const wider = await startOidcProvider({ dpopAlgorithms: ['ES256', 'RS256', 'PS256'] })
    try {
      const token = await wider.tokenFor({ dpopKey: rsa })
      expect(decodeJwt(token.accessToken).cnf).toEqual({ jkt: await thumbprintOf(rsa) })
      expect(wider.metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256'])
    } finally {
      await wider.close()
    }
  })

  it('binds a public client’s refresh token to the DPoP key: refreshing needs that key', async () => {
    const key = await dpopKey()
    const token = await as.tokenFor({ user: 'bob', dpopKey: key })
    expect(token.tokenType).toBe('DPoP')
    await expect(as.refresh(token.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' })
    await expect(as.refresh(token.refreshToken!, { dpopKey: await dpopKey() })).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    const refreshed = await as.refresh(token.refreshToken!, { dpopKey: key })
    expect(decodeJwt(refreshed.accessToken).cnf).toEqual({ jkt: await thumbprintOf(key) })
  })

  it('builds resource-request proofs with oauth4webapi: typ, jwk, htm, htu without query, ath', async () => {
    const key = await dpopKey()
    const { accessToken } = await as.tokenFor({ dpopKey: key })
    const proof = await as.dpopProof({ key, method: 'GET', url: 'https://api.example.test/orders?x=1#f', accessToken, nonce: 'n-1' })
    const header = decodeProtectedHeader(proof)
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    expect(await calculateJwkThumbprint(header.jwk!)).toBe(await thumbprintOf(key))
    const { payload } = await jwtVerify(proof, createLocalJWKSet({ keys: [header.jwk!] }), { typ: 'dpop+jwt' })
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))).toString('base64url')
    expect(payload).toMatchObject({ htm: 'GET', htu: 'https://api.example.test/orders', ath, nonce: 'n-1' })
    expect(payload.jti).toEqual(expect.any(String))
  })

  it('introspects an opaque token for the resource server: active, scope, client_id', async () => {
    const token = await as.opaqueToken({ scope: 'read' })
    expect(token.accessToken.split('.')).toHaveLength(1) // a reference, not a JWT
    expect(await as.introspectionClient.introspect(token.accessToken)).toMatchObject({
      active: true,
      scope: 'read',
      client_id: as.clients.service.clientId,
      iss: as.issuer,
      aud: as.opaqueResource,
      token_type: 'Bearer',
      exp: expect.any(Number),
      iat: expect.any(Number),
    })
  })

  it('introspects a DPoP-bound opaque token with cnf.jkt and token_type DPoP', async () => {
    const key = await dpopKey()
    const token = await as.opaqueToken({ dpopKey: key })
    expect(await as.introspectionClient.introspect(token.accessToken)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: await thumbprintOf(key) },
    })
  })

  it('answers a revoked token inactive at once', async () => {
    const token = await as.opaqueToken()
    expect(await as.introspectionClient.introspect(token.accessToken)).toMatchObject({ active: true })
    await as.revoke(token.accessToken)
    expect(await as.introspectionClient.introspect(token.accessToken)).toEqual({ active: false })
  })

  it('answers RFC 9701 JWT introspection signed with its own keys', async () => {
    const token = await as.opaqueToken({ scope: 'write' })
    const jwt = (await as.introspectionClient.introspect(token.accessToken, { jwt: true })) as string
    const jwks = (await (await fetch(as.jwksUri)).json()) as { keys: [] }
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      issuer: as.issuer,
      typ: 'token-introspection+jwt',
    })
    expect(protectedHeader.alg).toBe('ES256')
    expect(payload.aud).toBe(as.clients.resourceServer.clientId) // oidc-provider: aud = the caller's client_id
    expect(payload.token_introspection).toMatchObject({ active: true, scope: 'write' })
  })

  it('tells an unauthenticated or wrong caller nothing, and refuses to introspect JWTs', async () => {
    const { accessToken } = await as.opaqueToken()
    const post = (body: Record<string, string>) =>
      fetch(as.introspectionClient.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      })
    const anonymous = await post({ token: accessToken })
    expect(anonymous.status).toBe(400)
    expect(await anonymous.json()).toMatchObject({ error: 'invalid_request' })
    const wrong = await post({ token: accessToken, client_id: as.clients.resourceServer.clientId, client_secret: 'nope' })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' })
    const jwt = (await as.tokenFor()).accessToken
    const structured = await post({ token: jwt, ...creds(as) })
    expect(structured.status).toBe(400)
    expect(await structured.json()).toMatchObject({ error: 'unsupported_token_type' })
  })
})

describe('oidc-provider with DPoP nonces required at the token endpoint', () => {
  let as: RunningOidcProvider
  beforeAll(async () => {
    as = await startOidcProvider({ dpopNonce: true })
  })
  afterAll(() => as.close())

  it('answers use_dpop_nonce first; oauth4webapi retries with the nonce and gets a bound token', async () => {
    const key = await dpopKey()
    const seen: number[] = []
    as.provider.on('grant.error', () => seen.push(1))
    const token = await as.tokenFor({ dpopKey: key })
    expect(token.tokenType).toBe('DPoP')
    expect(decodeJwt(token.accessToken).cnf).toEqual({ jkt: await thumbprintOf(key) })
    expect(seen).toHaveLength(1) // exactly one refused attempt: the one without a nonce
  })
})

function creds(as: RunningOidcProvider) {
  return { client_id: as.clients.resourceServer.clientId, client_secret: as.clients.resourceServer.clientSecret }
}
