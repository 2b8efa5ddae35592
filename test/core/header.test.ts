import { describe, expect, it } from 'vitest'
import { createVerifier } from 'bearer-guard'
import { AUDIENCE, b64, b64json, expectRefused, generateKey, ISSUER, rawSign, validClaims } from '../helpers/forge.js'

// The protected header is read once per distinct text (the verifier caches it by that text), so
// these checks cost nothing per token.

const key = await generateKey('ES256', 'k1')
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [key.publicJwk!] })
const encoder = new TextEncoder()

/** A token whose protected header is exactly `headerText`, validly signed by `key`. */
async function withHeader(headerText: string): Promise<string> {
  const signingInput = `${b64(headerText)}.${b64json(validClaims())}`
  return `${signingInput}.${b64(await rawSign('ES256', key.privateKey, encoder.encode(signingInput)))}`
}

describe('protected header: duplicate member names', () => {
  it.each([
    ['alg twice, "none" first', '{"alg":"none","kid":"k1","alg":"ES256"}', 'alg'],
    ['alg twice, the same value', '{"alg":"ES256","kid":"k1","alg":"ES256"}', 'alg'],
    ['kid twice', '{"alg":"ES256","kid":"other","kid":"k1"}', 'kid'],
    ['a name spelled with an escape', '{"alg":"ES256","kid":"k1","\\u0061lg":"ES256"}', 'alg'],
    ['a duplicate inside a nested object', '{"alg":"ES256","kid":"k1","x":{"a":1,"b":[{"c":1}],"a":2}}', 'a'],
    ['a duplicate inside an object in an array', '{"alg":"ES256","kid":"k1","x":[1,{"c":1,"c":1}]}', 'c'],
    ['whitespace around the names', '{ "alg" : "ES256" , "kid" : "k1" , "alg" : "ES256" }', 'alg'],
  ])('refuses %s', async (_what, header, name) => {
    const token = await withHeader(header)
    await expectRefused(verifier.verifyAccessToken(token), { reason: `header has the member "${name}" twice` })
    // the header is cached by its text: the second look refuses it too
    await expectRefused(verifier.verifyAccessToken(token), { reason: `header has the member "${name}" twice` })
  })

  it.each([
    ['the same name in different objects', '{"alg":"ES256","kid":"k1","x":{"alg":1,"kid":2},"y":[{"kid":1},{"kid":2}]}'],
    ['names inside string values', '{"alg":"ES256","kid":"k1","note":"{\\"alg\\":1,\\"alg\\":2}, \\"kid\\""}'],
    ['an empty object and array', '{"alg":"ES256","kid":"k1","x":{},"y":[]}'],
  ])('accepts %s', async (_what, header) => {
    await expect(verifier.verifyAccessToken(await withHeader(header))).resolves.toMatchObject({ subject: 'user-1' })
  })
})

describe('protected header: nested JWTs', () => {
  it.each(['JWT', 'jwt', 'application/jwt', 'Application/JWT'])('refuses cty %s', async (cty) => {
    await expectRefused(verifier.verifyAccessToken(await withHeader(JSON.stringify({ alg: 'ES256', kid: 'k1', cty }))), {
      reason: `cty ${JSON.stringify(cty)}: nested JWTs are not accepted`,
    })
  })

  it('accepts another cty', async () => {
    const token = await withHeader(JSON.stringify({ alg: 'ES256', kid: 'k1', cty: 'json' }))
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ subject: 'user-1' })
  })
})
