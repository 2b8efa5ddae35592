/**
 * DPoP interop over real sockets: oidc-provider (an independent, certified authorization server)
 * issues DPoP-bound JWT access tokens through oauth4webapi's client flows (client credentials,
 * authorization code + PKCE, refresh); an Express app protected by bearer-guard accepts them with
 * the proofs oauth4webapi builds — sent by its own `protectedResourceRequest` over HTTP, nonce
 * round trip included — and refuses a replayed proof, the token as Bearer, and a thief's proof.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, type VerifierOptions } from 'bearer-guard'
import { requireAuth } from 'bearer-guard/express'
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider.js'

const insecure = { [oauth.allowInsecureRequests]: true } as const
const thumbprintOf = async (key: CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(key.publicKey))

interface Api {
  url: string
  close(): Promise<void>
}

/** An Express app on 127.0.0.1 whose `/orders` needs a token of `as`, with `dpop` as given. */
async function startApi(as: RunningOidcProvider, dpop: VerifierOptions['dpop']): Promise<Api> {
  const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, algorithms: ['ES256'], dpop })
  const app = express()
  app.get('/orders', requireAuth(verifier), (req, res) => {
    res.json({ subject: req.auth!.subject, scheme: req.auth!.scheme, jkt: req.auth!.confirmation?.jkt })
  })
  const server: Server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/orders`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}

const client = (as: RunningOidcProvider): oauth.Client => ({ client_id: as.clients.service.clientId })

async function send(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => ({}))) as Record<string, unknown> }
}

describe('DPoP-bound tokens of oidc-provider, verified by bearer-guard over HTTP', () => {
  let as: RunningOidcProvider
  let api: Api

  beforeAll(async () => {
    as = await startOidcProvider({ dpopAlgorithms: ['ES256', 'Ed25519', 'EdDSA', 'PS256', 'RS256'] })
    // oauth4webapi signs with an Ed25519 key as alg "Ed25519" (RFC 9864's fully-specified name):
    // bearer-guard's default proof algorithms include it, so the defaults are what is tested here
    api = await startApi(as, { mode: 'allowed' })
  })
  afterAll(async () => {
    await api?.close()
    await as?.close()
  })

  it.each(['ES256', 'EdDSA', 'PS256'] as const)(
    'accepts a client-credentials token bound to a %s key, with the proof oauth4webapi sends itself',
    async (alg) => {
      const key = await oauth.generateKeyPair(alg, { extractable: true })
      const token = await as.tokenFor({ scope: 'read', dpopKey: key })
      expect(token.tokenType).toBe('DPoP')
      // oauth4webapi's own resource request, over a real socket, its DPoP handle signing the proof
      const res = await oauth.protectedResourceRequest(token.accessToken, 'GET', new URL(`${api.url}?page=2`), new Headers(), null, {
        ...insecure,
        DPoP: oauth.DPoP(client(as), key),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ subject: as.clients.service.clientId, scheme: 'DPoP', jkt: await thumbprintOf(key) })
    },
  )

  it("accepts a user's token (authorization code + PKCE) and its refreshed successor with their key's proofs", async () => {
    const key = await oauth.generateKeyPair('ES256', { extractable: true })
    const first = await as.tokenFor({ user: 'alice', dpopKey: key })
    const refreshed = await as.refresh(first.refreshToken!, { dpopKey: key })
    expect(refreshed.tokenType).toBe('DPoP')
    for (const { accessToken } of [first, refreshed]) {
      const proof = await as.dpopProof({ key, method: 'GET', url: api.url, accessToken })
      const answer = await send(api.url, { authorization: `DPoP ${accessToken}`, dpop: proof })
      expect(answer).toMatchObject({ status: 200, body: { subject: 'alice', scheme: 'DPoP' } })
    }
  })

  it('refuses a replayed proof, the bound token as Bearer, a proof of another key and one for another URL', async () => {
    const key = await oauth.generateKeyPair('ES256', { extractable: true })
    const { accessToken } = await as.tokenFor({ dpopKey: key })
    const proof = await as.dpopProof({ key, method: 'GET', url: api.url, accessToken })
    const dpop = (p: string) => ({ authorization: `DPoP ${accessToken}`, dpop: p })

    expect((await send(api.url, dpop(proof))).status).toBe(200)
    const replayed = await send(api.url, dpop(proof))
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } })
    expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/)

    const asBearer = await send(api.url, { authorization: `Bearer ${accessToken}` })
    expect(asBearer).toMatchObject({ status: 401, body: { error: 'invalid_token' } })

    const thief = await oauth.generateKeyPair('ES256', { extractable: true })
    const stolen = await send(api.url, dpop(await as.dpopProof({ key: thief, method: 'GET', url: api.url, accessToken })))
    expect(stolen).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } })

    const elsewhere = await as.dpopProof({ key, method: 'GET', url: api.url.replace('/orders', '/other'), accessToken })
    expect(await send(api.url, dpop(elsewhere))).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } })
    const otherMethod = await as.dpopProof({ key, method: 'POST', url: api.url, accessToken })
    expect(await send(api.url, dpop(otherMethod))).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } })
  })

  it('still accepts an unbound token of the provider as Bearer in mode allowed', async () => {
    const { accessToken, tokenType } = await as.tokenFor({ scope: 'read' })
    expect(tokenType).toBe('Bearer')
    expect(await send(api.url, { authorization: `Bearer ${accessToken}` })).toMatchObject({
      status: 200,
      body: { subject: as.clients.service.clientId, scheme: 'Bearer' },
    })
  })

  it('takes server nonces the way oauth4webapi follows them: use_dpop_nonce, then a retry with the nonce', async () => {
    const nonced = await startApi(as, { mode: 'required', nonce: { secret: 'interop-nonce-secret-of-at-least-32-bytes' } })
    try {
      const key = await oauth.generateKeyPair('ES256', { extractable: true })
      const { accessToken } = await as.tokenFor({ dpopKey: key })
      const DPoP = oauth.DPoP(client(as), key)
      const request = () => oauth.protectedResourceRequest(accessToken, 'GET', new URL(nonced.url), new Headers(), null, { ...insecure, DPoP })
      const first = await request().then(
        (res) => res,
        (err: unknown) => err,
      )
      // oauth4webapi reports the challenge as a use_dpop_nonce error and keeps the nonce it was sent
      expect(oauth.isDPoPNonceError(first)).toBe(true)
      const second = await request()
      expect(second.status).toBe(200)
      expect(second.headers.get('dpop-nonce')).toEqual(expect.any(String))
      expect(await second.json()).toMatchObject({ scheme: 'DPoP', jkt: await thumbprintOf(key) })
    } finally {
      await nonced.close()
    }
  })

  it('refuses every token without DPoP in mode required, the provider’s Bearer tokens included', async () => {
    const strict = await startApi(as, { mode: 'required' })
    try {
      const { accessToken } = await as.tokenFor({ scope: 'read' })
      const answer = await send(strict.url, { authorization: `Bearer ${accessToken}` })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP /)
    } finally {
      await strict.close()
    }
  })
})
