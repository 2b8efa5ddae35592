import fc from 'fast-check'
import type { JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, isAuthError, type Verifier } from 'bearer-guard'
import { keysOptions } from '../helpers/attack-table.js'
import { forge, generateKey, type ForgeKey } from '../helpers/forge.js'

let key: ForgeKey
let verifier: Verifier<unknown>
let token: string

beforeAll(async () => {
  key = await generateKey('ES256', 'prop-1')
  verifier = createVerifier(keysOptions(key.publicJwk as JWK))
  token = await forge(key)
})

/** The outcome of a call: 'accepted', 'auth-error', or the unexpected exception itself. */
async function outcome(run: () => Promise<unknown>): Promise<'accepted' | 'auth-error'> {
  try {
    await run()
    return 'accepted'
  } catch (error) {
    if (isAuthError(error)) return 'auth-error'
    throw error
  }
}

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
const jwsLike = fc
  .array(fc.array(fc.constantFrom(...B64URL), { maxLength: 80 }).map((c) => c.join('')), { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join('.'))

describe('property: hostile input only ever yields an AuthError', () => {
  it('rejects any string as a token with an AuthError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), jwsLike), async (input) => {
        expect(await outcome(() => verifier.verifyAccessToken(input))).toBe('auth-error')
      }),
      { numRuns: 500 },
    )
  })

  it('rejects any non-string value passed as a token with an AuthError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (input) => {
        fc.pre(typeof input !== 'string')
        expect(await outcome(() => verifier.verifyAccessToken(input as string))).toBe('auth-error')
      }),
      { numRuns: 200 },
    )
  })

  it('answers any Authorization header value (string, array, null, undefined) with an AuthError', async () => {
    const header = fc.oneof(
      fc.string(),
      fc.string().map((s) => `Bearer ${s}`),
      jwsLike.map((s) => `Bearer ${s}`),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constantFrom(null, undefined, '', 'Bearer', 'Bearer  ', 'Basic abc'),
    )
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        expect(await outcome(() => verifier.authenticate(value as string | string[] | null | undefined))).toBe('auth-error')
      }),
      { numRuns: 500 },
    )
  })

  it('rejects any JSON header and payload under a valid-looking signature with an AuthError', async () => {
    const b64 = (v: unknown) => btoa(unescape(encodeURIComponent(JSON.stringify(v) ?? 'null'))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    const header = fc.oneof(fc.jsonValue(), fc.record({ alg: fc.oneof(fc.constant('ES256'), fc.string()), kid: fc.oneof(fc.constant('prop-1'), fc.jsonValue()) }, { requiredKeys: [] }))
    await fc.assert(
      fc.asyncProperty(header, fc.jsonValue(), async (h, p) => {
        const sig = token.split('.')[2] as string
        expect(await outcome(() => verifier.verifyAccessToken(`${b64(h)}.${b64(p)}.${sig}`))).toBe('auth-error')
      }),
      { numRuns: 300 },
    )
  })
})

describe('property: a mutated valid token is never accepted', () => {
  it('accepts the unmutated token (the control)', async () => {
    expect(await outcome(() => verifier.verifyAccessToken(token))).toBe('accepted')
  })

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), to: fc.constantFrom(...B64URL, '.', '=', ' ', '+', '/') }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), to: fc.constantFrom('.', ...B64URL) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  )

  it('rejects a flipped, truncated, inserted-into or shortened token unless it is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        let t = token
        for (const m of mutations) {
          const at = m.at % (t.length + 1)
          if (m.kind === 'flip') t = t.slice(0, at) + m.to + t.slice(at + 1)
          else if (m.kind === 'truncate') t = t.slice(0, at)
          else if (m.kind === 'insert') t = t.slice(0, at) + m.to + t.slice(at)
          else t = t.slice(0, at) + t.slice(at + 1)
        }
        const result = await outcome(() => verifier.verifyAccessToken(t))
        expect(result).toBe(t === token ? 'accepted' : 'auth-error')
      }),
      { numRuns: 1500 },
    )
  })
})

