import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { google } from 'bearer-guard/presets'
import type { TestIssuer } from 'bearer-guard/testing'
import { setupMswServer } from '../helpers/msw-server.js'
import { expectRefused, providerIssuer, serveJwks } from './helpers.js'

const CERTS = 'https://www.googleapis.com/oauth2/v3/certs'
const PUSH = 'https://orders-abc123-ew.a.run.app/push'
const PUSHER = 'pusher@my-project.iam.gserviceaccount.com'
const server = setupMswServer()

/** A Google-signed ID token as Pub/Sub push sends it: aud = push endpoint, email of the service account. */
function pushClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: PUSH,
    azp: '111122223333444455556',
    email: PUSHER,
    email_verified: true,
    iss: 'https://accounts.google.com',
    sub: '111122223333444455556',
    jti: undefined,
    ...extra,
  }
}

describe('google()', () => {
  let g: TestIssuer
  beforeAll(async () => {
    g = await providerIssuer('https://accounts.google.com')
  })
  const sign = (claims: Record<string, unknown>) => g.sign(claims, { typ: 'JWT' })

  it('accepts an ID token from an allowed service account, with either issuer spelling', async () => {
    const jwks = serveJwks(server, CERTS, g)
    const verifier = createVerifier(google({ audience: PUSH, emails: [PUSHER] }))
    expect((await verifier.verifyAccessToken(await sign(pushClaims()))).subject).toBe('111122223333444455556')
    const legacy = await verifier.verifyAccessToken(await sign(pushClaims({ iss: 'accounts.google.com' })))
    expect(legacy.issuer).toBe('accounts.google.com')
    expect(jwks.hits).toBe(1)
  })

  it('refuses another caller, an unverified email and another audience', async () => {
    serveJwks(server, CERTS, g)
    const verifier = createVerifier(google({ audience: PUSH, emails: [PUSHER] }))
    await expectRefused(verifier, await sign(pushClaims({ email: 'attacker@gmail.com' })), { claim: 'email' })
    await expectRefused(verifier, await sign(pushClaims({ email_verified: false })), { claim: 'email_verified' })
    await expectRefused(verifier, await sign(pushClaims({ aud: 'https://other.run.app' })), { claim: 'aud' })
  })

  it('checks the Workspace domain (hd) when hostedDomain is given', async () => {
    serveJwks(server, CERTS, g)
    const verifier = createVerifier(google({ audience: 'client-id.apps.googleusercontent.com', hostedDomain: 'example.com' }))
    const signIn = pushClaims({ aud: 'client-id.apps.googleusercontent.com', email: 'alice@example.com', hd: 'example.com' })
    expect((await verifier.verifyAccessToken(await sign(signIn))).claims).toMatchObject({ hd: 'example.com' })
    await expectRefused(verifier, await sign({ ...signIn, hd: undefined, email: 'bob@gmail.com' }), { claim: 'hd' })
  })

  it('refuses a token of another issuer', async () => {
    serveJwks(server, CERTS, g)
    const verifier = createVerifier(google({ audience: PUSH }))
    await expectRefused(verifier, await sign(pushClaims({ iss: 'https://cloud.google.com/iap' })), { claim: 'iss' })
  })

  it('throws a TypeError naming the option for a bad audience or emails', () => {
    expect(() => google({ audience: '' })).toThrow(/google\(\): invalid option "audience"/)
    expect(() => google({ audience: PUSH, emails: ['pusher'] })).toThrow(/"emails"/)
  })
})
