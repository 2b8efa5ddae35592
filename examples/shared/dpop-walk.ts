/**
 * The demo's DPoP walk (RFC 9449), against every framework: a client with its own key pair logs in
 * with a proof and gets a DPoP-bound token; the token works with a fresh proof of that key; the same
 * token stolen and sent as a Bearer token, or with a proof the thief signs with another key, or with
 * the client's proof replayed, is refused.
 *
 * The client side is written with jose, as a client would: a key pair, and one proof per request
 * (`typ: dpop+jwt`, the public key in `jwk`, `htm`, `htu`, `iat`, a fresh `jti`, and `ath` when it
 * carries an access token). examples/demo.ts registers the steps (rows of its table) once and runs
 * the walk per framework.
 */
import { createHash, randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'

/** An answer as the demo records it. */
export interface WalkAnswer {
  status: number
  body: Record<string, unknown>
}

/** What the demo lends the walk: its table's rows, its recorder and its HTTP call. */
export interface WalkTools<F, S> {
  step(label: string, expected: number, check?: (a: WalkAnswer) => string | undefined): S
  expect(framework: F, step: S, request: () => Promise<WalkAnswer>): Promise<WalkAnswer | undefined>
  call(url: string, init?: RequestInit): Promise<WalkAnswer>
}

/** A DPoP client's key pair, and the proofs it signs. */
interface DpopKey {
  proof(method: string, url: string, accessToken?: string): Promise<string>
}

async function dpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk: JWK = await exportJWK(publicKey)
  return {
    proof(method, url, accessToken) {
      const htu = new URL(url)
      htu.search = ''
      htu.hash = ''
      const claims: Record<string, unknown> = { htm: method, htu: htu.href, jti: randomUUID() }
      if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url')
      return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).setIssuedAt().sign(privateKey)
    },
  }
}

const error = (code: string) => (a: WalkAnswer) =>
  a.body.error === code ? undefined : `error ${JSON.stringify(a.body.error)}, expected "${code}"`

/**
 * Registers the walk's steps with the demo (call once, before any walk) and returns the walk of one
 * framework: `api` is its resource service, `auth` the auth service.
 */
export function dpopWalk<F, S>({ step, expect, call }: WalkTools<F, S>) {
  const S = {
    login: step('DPoP client logs in (POST /token + proof)', 200, (a) =>
      a.body.token_type === 'DPoP' ? undefined : `token_type ${JSON.stringify(a.body.token_type)}, expected "DPoP"`,
    ),
    me: step('  … GET /users/me: DPoP token + its proof', 200, (a) =>
      a.body.username === 'alice' ? undefined : `username ${String(a.body.username)}`,
    ),
    again: step('  … again, with a fresh proof', 200),
    asBearer: step('  … token stolen, sent as Bearer', 401, error('invalid_token')),
    thiefKey: step("  … token stolen, thief's own proof", 401, error('invalid_dpop_proof')),
    replayed: step('  … a proof replayed', 401, error('invalid_dpop_proof')),
  }

  return async function walk(framework: F, api: string, auth: string): Promise<void> {
    const client = await dpopKey()
    const login = await expect(framework, S.login, async () =>
      call(`${auth}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          dpop: await client.proof('POST', `${auth}/token`),
        },
        body: new URLSearchParams({ username: 'alice', password: 'password_alice', client_id: 'seed-client' }).toString(),
      }),
    )
    const token = login?.body.access_token
    if (typeof token !== 'string') return
    const url = `${api}/users/me`
    const dpop = (proof: string) => ({ headers: { authorization: `DPoP ${token}`, dpop: proof } })

    const proof = await client.proof('GET', url, token)
    await expect(framework, S.me, () => call(url, dpop(proof)))
    await expect(framework, S.again, async () => call(url, dpop(await client.proof('GET', url, token))))
    await expect(framework, S.asBearer, () => call(url, { headers: { authorization: `Bearer ${token}` } }))
    const thief = await dpopKey()
    await expect(framework, S.thiefKey, async () => call(url, dpop(await thief.proof('GET', url, token))))
    await expect(framework, S.replayed, () => call(url, dpop(proof)))
  }
}
