import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createVerifier,
  InvalidTokenError,
  TokenExpiredError,
  type AuthError,
  type IssuerOptions,
  type JWTPayload,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import { useFrozenClock } from '../helpers/clock.js'
import { AUDIENCE, forge, generateKey, ISSUER, validClaims } from '../helpers/forge.js'
import { rejection } from '../helpers/rejection.js'

const issuer = await createTestIssuer({ algorithm: 'ES256' })
const NOW = 1_900_000_000

useFrozenClock(NOW * 1000)

function verifier(overrides: Partial<IssuerOptions> = {}) {
  return createVerifier(issuer.verifierOptions('keys', { cache: false, ...overrides }))
}

async function verify(claims: Record<string, unknown>, overrides: Partial<IssuerOptions> = {}, header?: Parameters<typeof issuer.sign>[1]) {
  return verifier(overrides).verifyAccessToken(await issuer.sign(claims, header))
}

/** The 401 InvalidTokenError a token with these claims gets. */
async function reject(claims: Record<string, unknown>, overrides: Partial<IssuerOptions> = {}, header?: Parameters<typeof issuer.sign>[1]): Promise<AuthError> {
  const error = await rejection(verify(claims, overrides, header))
  expect(error).toBeInstanceOf(InvalidTokenError)
  expect(error.status).toBe(401)
  return error
}

describe('claims', () => {
  it('builds the auth context', async () => {
    const auth = await verify({ scope: 'read write', roles: ['user'] })
    expect(auth).toMatchObject({
      subject: 'user-123',
      issuer: 'https://issuer.test',
      audience: ['https://api.test'],
      scopes: ['read', 'write'],
      roles: ['user'],
      expiresAt: new Date((NOW + 300) * 1000),
      issuedAt: new Date(NOW * 1000),
      header: { alg: 'ES256', typ: 'at+jwt', kid: issuer.kid },
    })
    expect((auth.claims as JWTPayload).sub).toBe('user-123')
    expect(Object.isFrozen(auth)).toBe(true)
    expect(Object.isFrozen(auth.claims)).toBe(true)
  })

  describe('iss', () => {
    it('accepts one of a list', async () => {
      const auth = await verify({ iss: 'https://b.test' }, { issuer: ['https://a.test', 'https://b.test'] })
      expect(auth.issuer).toBe('https://b.test')
    })

    it('compares exactly', async () => {
      const error = await reject({ iss: 'https://issuer.test/' })
      expect(error.reason).toBe('iss mismatch: got "https://issuer.test/", expected "https://issuer.test"')
      expect((error as InvalidTokenError).claim).toBe('iss')
    })

    it('is required unless the check is off', async () => {
      expect((await reject({ iss: undefined })).reason).toBe('iss missing')
      expect((await reject({ iss: 42 })).reason).toBe('iss missing')
      const auth = await verify({ iss: undefined }, { issuer: false })
      expect(auth.issuer).toBeUndefined()
    })
  })

  describe('aud', () => {
    it('accepts any configured audience, in a string or an array', async () => {
      await expect(verify({ aud: 'b' }, { audience: ['a', 'b'] })).resolves.toMatchObject({ audience: ['b'] })
      await expect(verify({ aud: ['x', 'a'] }, { audience: ['a', 'b'] })).resolves.toMatchObject({ audience: ['x', 'a'] })
    })

    it('rejects a mismatch', async () => {
      const error = await reject({ aud: ['x', 'y'] }, { audience: 'a' })
      expect(error.reason).toBe('aud mismatch: got ["x","y"], expected "a"')
    })

    it('rejects a missing or malformed aud', async () => {
      expect((await reject({ aud: undefined })).reason).toBe('aud missing')
      expect((await reject({ aud: ['https://api.test', 1] })).reason).toBe('aud has a non-string member')
      expect((await reject({ aud: { a: 1 } })).reason).toBe('aud is neither a string nor an array')
      expect((await reject({ aud: [] })).reason).toMatch(/aud mismatch/)
    })

    it('is not needed with audience: false, and still reported', async () => {
      await expect(verify({ aud: undefined }, { audience: false })).resolves.toMatchObject({ audience: [] })
      await expect(verify({ aud: 'other' }, { audience: false })).resolves.toMatchObject({ audience: ['other'] })
    })
  })

  describe('issuer and audience predicates', () => {
    it('accepts iss when the issuer function returns true, with the claims', async () => {
      const issuerFn = vi.fn((iss: string, claims: JWTPayload) => iss === `https://login.test/${String(claims.tid)}/v2.0`)
      const options = { issuer: issuerFn, keys: issuer.jwks() }
      await expect(verify({ iss: 'https://login.test/t1/v2.0', tid: 't1' }, options)).resolves.toMatchObject({ issuer: 'https://login.test/t1/v2.0' })
      const error = await reject({ iss: 'https://login.test/t2/v2.0', tid: 't1' }, options)
      expect(error.reason).toBe('iss "https://login.test/t2/v2.0" rejected by the issuer function')
      expect((await reject({ iss: undefined }, options)).reason).toBe('iss missing')
    })

    it('accepts a token when the audience function returns true', async () => {
      const audience = (aud: readonly string[], claims: JWTPayload) => aud.length === 0 && claims.client_id === 'app'
      await expect(verify({ aud: undefined, client_id: 'app' }, { audience })).resolves.toMatchObject({ audience: [] })
      const error = await reject({ aud: undefined, client_id: 'other' }, { audience })
      expect(error.reason).toBe('aud [] rejected by the audience function')
    })
  })

  describe('exp, nbf, iat and clockTolerance', () => {
    it('requires a numeric exp', async () => {
      expect((await reject({ exp: undefined })).reason).toBe('exp missing')
      expect((await reject({ exp: String(NOW + 60) })).reason).toBe('exp is not a number')
    })

    it('accepts exp just within the tolerance and rejects it just past', async () => {
      await expect(verify({ exp: NOW - 4 })).resolves.toMatchObject({ expiresAt: new Date((NOW - 4) * 1000) })
      const error = await reject({ exp: NOW - 5 })
      expect(error).toBeInstanceOf(TokenExpiredError)
      expect(error.description).toBe('token expired')
      expect((error as TokenExpiredError).expiredAt).toEqual(new Date((NOW - 5) * 1000))
      expect(error.reason).toBe(`exp ${NOW - 5} is past: now ${NOW}, tolerance 5s`)
    })

    it('uses the configured tolerance', async () => {
      await expect(verify({ exp: NOW - 59 }, { clockTolerance: '1m' })).resolves.toMatchObject({ expiresAt: new Date((NOW - 59) * 1000) })
      await expect(reject({ exp: NOW - 60 }, { clockTolerance: '1m' })).resolves.toBeInstanceOf(TokenExpiredError)
      await expect(reject({ exp: NOW }, { clockTolerance: 0 })).resolves.toBeInstanceOf(TokenExpiredError)
    })

    it('accepts nbf just within the tolerance and rejects it just past', async () => {
      await expect(verify({ nbf: NOW + 5 })).resolves.toMatchObject({ claims: { nbf: NOW + 5 } })
      const error = await reject({ nbf: NOW + 6 })
      expect(error.description).toBe('token not yet valid')
      expect(error.reason).toBe(`nbf ${NOW + 6} is in the future: now ${NOW}, tolerance 5s`)
      expect((await reject({ nbf: 'soon' })).reason).toBe('nbf is not a number')
    })

    it('accepts iat just within the tolerance and rejects it just past', async () => {
      await expect(verify({ iat: NOW + 5 })).resolves.toMatchObject({ issuedAt: new Date((NOW + 5) * 1000) })
      expect((await reject({ iat: NOW + 6 })).reason).toBe(`iat ${NOW + 6} is in the future: now ${NOW}, tolerance 5s`)
      expect((await reject({ iat: 'now' })).reason).toBe('iat is not a number')
    })

    it('rejects a token older than maxTokenAge, with the tolerance', async () => {
      await expect(verify({ iat: NOW - 3605 }, { maxTokenAge: '1h' })).resolves.toMatchObject({ issuedAt: new Date((NOW - 3605) * 1000) })
      expect((await reject({ iat: NOW - 3606 }, { maxTokenAge: '1h' })).reason).toBe(`iat ${NOW - 3606} is older than maxTokenAge 3600s`)
    })

    it('requires iat when maxTokenAge is set', async () => {
      expect((await reject({ iat: undefined }, { maxTokenAge: 60 })).reason).toBe('iat missing (maxTokenAge is set)')
      expect(await verify({ iat: undefined })).not.toHaveProperty('issuedAt')
    })
  })

  describe('requiredClaims', () => {
    it('requires each listed claim, by dot path', async () => {
      const options = { requiredClaims: ['tenant', 'org.id'] }
      await expect(verify({ tenant: 't', org: { id: 1 } }, options)).resolves.toMatchObject({ claims: { tenant: 't', org: { id: 1 } } })
      const error = await reject({ tenant: 't', org: {} }, options)
      expect(error.reason).toBe('required claim "org.id" missing')
      expect((error as InvalidTokenError).claim).toBe('org.id')
    })

    it('counts null as present', async () => {
      await expect(verify({ tenant: null }, { requiredClaims: ['tenant'] })).resolves.toMatchObject({ claims: { tenant: null } })
    })
  })

  describe('subject', () => {
    it('is required by default', async () => {
      expect((await reject({ sub: undefined })).reason).toBe('subject claim "sub" missing')
      expect((await reject({ sub: '' })).reason).toBe('subject claim "sub" is not a string or number')
      expect((await reject({ sub: { id: 1 } })).reason).toBe('subject claim "sub" is not a string or number')
    })

    it('reads another claim and turns a number into its string form', async () => {
      const auth = await verify({ sub: undefined, user_id: 42 }, { subjectClaim: 'user_id' })
      expect(auth.subject).toBe('42')
      expect((await reject({ sub: 'x' }, { subjectClaim: 'user_id' })).reason).toBe('subject claim "user_id" missing')
    })

    it('is optional with subjectClaim: false, and still read from sub', async () => {
      await expect(verify({ sub: undefined }, { subjectClaim: false })).resolves.toMatchObject({ subject: undefined })
      await expect(verify({ sub: 7 }, { subjectClaim: false })).resolves.toMatchObject({ subject: '7' })
    })

    it('refuses a numeric subject beyond 2^53, which two users would share as auth.subject', async () => {
      const key = await generateKey('HS256', 'k1')
      const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, secret: key.privateKey as Uint8Array })
      const claims = JSON.stringify(validClaims({ sub: 0 }))
      const tokenOf = (digits: string) => forge(key, { payload: claims.replace('"sub":0', `"sub":${digits}`) })
      // 2^53 + 1 parses to 2^53: user 9007199254740993 would be user 9007199254740992
      await expect(rejection(v.verifyAccessToken(await tokenOf('9007199254740993')))).resolves.toMatchObject({ code: 'invalid_token', claim: 'sub' })
      await expect(rejection(v.verifyAccessToken(await tokenOf('1234567890123456789')))).resolves.toMatchObject({ claim: 'sub' })
      // exact integers keep working
      await expect(v.verifyAccessToken(await tokenOf('9007199254740991'))).resolves.toMatchObject({ subject: '9007199254740991' })
      await expect(v.verifyAccessToken(await tokenOf('42'))).resolves.toMatchObject({ subject: '42' })
    })
  })

  describe('tokenType', () => {
    it('accepts the typ header at+jwt and application/at+jwt, case-insensitively', async () => {
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
        await expect(verify({}, { tokenType: 'at+jwt' }, { typ })).resolves.toMatchObject({ header: { typ } })
      }
      await expect(verify({}, { tokenType: 'application/at+jwt' }, { typ: 'at+jwt' })).resolves.toMatchObject({ header: { typ: 'at+jwt' } })
      await expect(verify({}, { tokenType: { header: ['at+jwt', 'jwt'] } }, { typ: 'JWT' })).resolves.toMatchObject({ header: { typ: 'JWT' } })
    })

    it('rejects another or a missing typ', async () => {
      expect((await reject({}, { tokenType: 'at+jwt' }, { typ: 'JWT' })).reason).toBe('typ "JWT" is not "at+jwt"')
      expect((await reject({}, { tokenType: 'at+jwt' }, { typ: undefined })).reason).toBe('typ missing, expected "at+jwt"')
      expect((await reject({}, { tokenType: 'at+jwt' }, { header: { typ: 5 } })).reason).toBe('typ 5 is not "at+jwt"')
    })

    it('compares typ in its normal form only: application/ is stripped once, then the case is ignored', async () => {
      // configured "application/application/at+jwt" means "application/at+jwt": a header typ of
      // "application/at+jwt" is "at+jwt", not it (the fast path for a typ written as configured must agree)
      const tokenType = 'application/application/at+jwt'
      await expect(verify({}, { tokenType }, { typ: 'application/application/at+jwt' })).resolves.toMatchObject({ subject: 'user-123' })
      expect((await reject({}, { tokenType }, { typ: 'application/at+jwt' })).reason).toBe('typ "application/at+jwt" is not "application/at+jwt"')
      expect((await reject({}, { tokenType }, { typ: 'at+jwt' })).reason).toBe('typ "at+jwt" is not "application/at+jwt"')
    })

    it('decides typ as the reference does (lowercase, application/ stripped once), for any typ and configuration', async () => {
      const normal = (t: string) => {
        const lower = t.toLowerCase()
        return lower.startsWith('application/') ? lower.slice(12) : lower
      }
      const part = fc.constantFrom('at+jwt', 'AT+JWT', 'At+Jwt', 'jwt', 'application/', 'APPLICATION/', 'Application/', 'İ', 'i̇', 'ß', '')
      const typ = fc.array(part, { minLength: 1, maxLength: 3 }).map((p) => p.join('')).filter((t) => t.length > 0)
      const v = (configured: string[]) => verifier({ tokenType: { header: configured } })
      await fc.assert(
        fc.asyncProperty(fc.array(typ, { minLength: 1, maxLength: 3 }), typ, async (configured, sent) => {
          const token = await issuer.sign({}, { typ: sent })
          const accepted = await v(configured).verifyAccessToken(token).then(
            () => true,
            () => false,
          )
          expect(accepted).toBe(configured.map(normal).includes(normal(sent)))
        }),
        { numRuns: 150 },
      )
    })

    it('ignores typ when not configured', async () => {
      await expect(verify({}, {}, { typ: 'refresh+jwt' })).resolves.toMatchObject({ header: { typ: 'refresh+jwt' }, subject: 'user-123' })
    })

    it('checks a claim, keeping refresh tokens out', async () => {
      const tokenType = { claim: 'token_type', value: 'access' }
      await expect(verify({ token_type: 'access' }, { tokenType })).resolves.toMatchObject({ claims: { token_type: 'access' } })
      const error = await reject({ token_type: 'refresh' }, { tokenType })
      expect(error.reason).toBe('token type claim "token_type" is "refresh", expected "access"')
      expect((await reject({}, { tokenType })).reason).toBe('token type claim "token_type" is missing, expected "access"')
      await expect(verify({ kind: 2 }, { tokenType: { claim: 'kind', value: [1, 2] } })).resolves.toMatchObject({ claims: { kind: 2 } })
      expect((await reject({ kind: '2' }, { tokenType: { claim: 'kind', value: [1, 2] } })).reason).toBe('token type claim "kind" is "2", expected 1 or 2')
    })
  })

  describe('claims schema (zod)', () => {
    const schema = z.object({ sub: z.string(), tenant: z.string(), level: z.number().int().default(1) })

    // the types of auth.claims, with and without a schema: claims.test-d.ts
    it('validates and transforms the payload', async () => {
      const v = createVerifier({ ...issuer.verifierOptions('keys'), cache: false, claims: schema })
      const auth = await v.verifyAccessToken(await issuer.sign({ tenant: 'acme' }))
      expect(auth.claims).toEqual({ sub: 'user-123', tenant: 'acme', level: 1 })
      expect(auth.expiresAt).toEqual(new Date((NOW + 300) * 1000))
    })

    it('rejects a payload that fails the schema with 401 and names the path', async () => {
      const error = await reject({ tenant: 5 }, { claims: schema })
      expect(error.reason).toMatch(/^claims schema: tenant: /)
      expect((error as InvalidTokenError).claim).toBe('tenant')
      expect(error.description).toBe('invalid token')
    })

    it('names the root for a whole-payload failure', async () => {
      const error = await reject({}, { claims: z.object({}).refine(() => false, 'nope') })
      expect(error.reason).toBe('claims schema: (root): nope')
    })
  })

  describe('roles and scopes', () => {
    it('reads scopes from a space-delimited scope, then from scp', async () => {
      await expect(verify({ scope: 'read:a  write:a' })).resolves.toMatchObject({ scopes: ['read:a', 'write:a'] })
      await expect(verify({ scp: ['read:a', 'read:b'] })).resolves.toMatchObject({ scopes: ['read:a', 'read:b'] })
      await expect(verify({ scope: 'a', scp: ['b', 'a'] })).resolves.toMatchObject({ scopes: ['a', 'b'] })
    })

    it('reads roles from roles by default, and nothing from other claims', async () => {
      await expect(verify({ roles: ['admin'], groups: ['x'] })).resolves.toMatchObject({ roles: ['admin'] })
      await expect(verify({ roles: 'admin' })).resolves.toMatchObject({ roles: ['admin'] })
      await expect(verify({ roles: 42 })).resolves.toMatchObject({ roles: [] })
    })

    it('reads a dot path', async () => {
      const auth = await verify({ realm_access: { roles: ['user', 'admin'] } }, { rolesClaim: 'realm_access.roles' })
      expect(auth.roles).toEqual(['user', 'admin'])
    })

    it('reads keys with colons and URLs', async () => {
      await expect(verify({ 'cognito:groups': ['admins'] }, { rolesClaim: 'cognito:groups' })).resolves.toMatchObject({ roles: ['admins'] })
      await expect(verify({ 'https://example.com/roles': ['editor'] }, { rolesClaim: 'https://example.com/roles' })).resolves.toMatchObject({
        roles: ['editor'],
      })
    })

    it('reads arrays such as permissions', async () => {
      await expect(verify({ permissions: ['read:orders'] }, { scopesClaim: 'permissions' })).resolves.toMatchObject({ scopes: ['read:orders'] })
    })

    it('merges several paths without duplicates', async () => {
      const auth = await verify(
        { realm_access: { roles: ['user'] }, resource_access: { api: { roles: ['admin', 'user'] } } },
        { rolesClaim: ['realm_access.roles', 'resource_access.api.roles'] },
      )
      expect(auth.roles).toEqual(['user', 'admin'])
    })

    it('calls a function with the claims', async () => {
      const rolesClaim = vi.fn((claims: JWTPayload) => (claims.is_staff ? ['staff'] : []))
      await expect(verify({ is_staff: true }, { rolesClaim })).resolves.toMatchObject({ roles: ['staff'] })
      expect(rolesClaim).toHaveBeenCalledWith(expect.objectContaining({ is_staff: true }))
    })
  })
})
