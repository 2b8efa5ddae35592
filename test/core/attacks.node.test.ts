/**
 * Attacks that need Node: a real loopback server that a hostile `jku`/`x5u` points at, and JWKS
 * served through msw.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { BACKENDS, useBackend } from '../helpers/backends.js'
import { expectRefused, forge, generateKey, type ForgeKey } from '../helpers/forge.js'
import { setupMswServer } from '../helpers/msw-server.js'

const msw = setupMswServer()

let trap: Server
let trapUrl: string
let trapRequests = 0
let attacker: ForgeKey
let issuer: TestIssuer

beforeAll(async () => {
  attacker = await generateKey('RS256', 'attacker-key')
  const attackerJwks = JSON.stringify({ keys: [attacker.publicJwk] })
  trap = createServer((_req, res) => {
    trapRequests++
    res.writeHead(200, { 'content-type': 'application/json' }).end(attackerJwks)
  })
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`
  issuer = await createTestIssuer({ algorithm: 'RS256' })
})

afterAll(async () => {
  await new Promise<void>((resolve) => trap.close(() => resolve()))
  await issuer.close()
})

describe.each(BACKENDS)('header-driven key sources through the %s crypto backend', (backend) => {
  useBackend(backend)

  it('the trap server answers when called directly (so a count of 0 means it was never asked)', async () => {
    const before = trapRequests
    const res = await fetch(`${trapUrl}/jwks.json`)
    expect(await res.json()).toEqual({ keys: [attacker.publicJwk] })
    expect(trapRequests).toBe(before + 1)
    trapRequests = before
  })

  it.each(['jku', 'x5u'])('never fetches a %s URL from the token header (JWKS verifier)', async (param) => {
    msw.use(...(await issuer.mswHandlers()))
    const verifier = createVerifier(issuer.verifierOptions('jwks'))
    const token = await forge(attacker, {
      header: { [param]: `${trapUrl}/jwks.json` },
      claims: { iss: issuer.issuer, aud: issuer.audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 },
    })
    const before = trapRequests
    await expectRefused(verifier.verifyAccessToken(token), { reason: 'no JWKS key fits kid "attacker-key" and alg RS256' })
    expect(trapRequests - before).toBe(0)
    expect(issuer.requests.jwks).toBeGreaterThan(0)
  })

  it.each(['jku', 'x5u'])('never fetches a %s URL from the token header (static keys)', async (param) => {
    const verifier = createVerifier(issuer.verifierOptions('keys'))
    const token = await forge(attacker, {
      header: { [param]: `${trapUrl}/jwks.json`, kid: issuer.kid },
      claims: { iss: issuer.issuer, aud: issuer.audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 },
    })
    const before = trapRequests
    await expectRefused(verifier.verifyAccessToken(token), { reason: 'signature verification failed' })
    expect(trapRequests - before).toBe(0)
  })

  it('refuses an HS256 token signed with the issuer public key PEM against its JWKS', async () => {
    msw.use(...(await issuer.mswHandlers()))
    const verifier = createVerifier(issuer.verifierOptions('jwks', { algorithms: undefined }))
    const token = await issuer.sign({}, { algorithm: 'HS256' })
    await expectRefused(verifier.verifyAccessToken(token), { reason: /alg "HS256" is not allowed/ })
  })

  it('refuses a kid shared by two keys of a remote JWKS as ambiguous', async () => {
    const [a, b] = await Promise.all([generateKey('RS256', 'dup'), generateKey('RS256', 'dup')])
    const { http, HttpResponse } = await import('msw')
    msw.use(http.get('https://dup.test/jwks', () => HttpResponse.json({ keys: [a.publicJwk as JWK, b.publicJwk as JWK] })))
    const verifier = createVerifier({ issuer: 'https://issuer.forge.test', audience: 'https://api.forge.test', jwksUri: 'https://dup.test/jwks' })
    await expectRefused(verifier.verifyAccessToken(await forge(a)), { reason: 'kid "dup" matches 2 keys: ambiguous' })
  })
})
