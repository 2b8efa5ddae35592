/**
 * The `resource` option (RFC 8707): the verifier's default audience, compared as the MCP SDK compares
 * resources (fragment and one trailing slash aside), and the identifiers' rules and metadata URLs.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier, isAuthError, type IssuerOptions, type VerifierOptions } from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'
import {
  comparableResource,
  isLoopback,
  metadataPath,
  requestResource,
  resourceMetadataUrl,
  sameResource,
} from '../../src/core/resource.js'

const RESOURCE = 'https://api.example.test/mcp'
const issuer = await createTestIssuer({ algorithm: 'ES256' })
const { audience: _audience, ...keyed } = issuer.verifierOptions('keys') as IssuerOptions<undefined>

/** The verifier's answer to a token: its `aud`, or the error's code and claim. */
async function outcome(verifierOptions: VerifierOptions, aud: string | string[] | undefined) {
  const verifier = createVerifier(verifierOptions)
  const token = await issuer.sign(aud === undefined ? { aud: undefined } : {}, aud === undefined ? {} : { audience: aud })
  try {
    return { audience: (await verifier.verifyAccessToken(token)).audience }
  } catch (error) {
    if (!isAuthError(error)) throw error
    return { status: error.status, code: error.code, claim: (error as { claim?: string }).claim }
  }
}

function typeErrorOf(options: unknown): string {
  try {
    createVerifier(options as VerifierOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return (error as TypeError).message
  }
  throw new Error('createVerifier accepted the options')
}

describe('resource: the default audience', () => {
  it('accepts a token whose aud is the resource', async () => {
    expect(await outcome({ ...keyed, resource: RESOURCE }, RESOURCE)).toEqual({ audience: [RESOURCE] })
  })

  it.each([
    ['one trailing slash more', `${RESOURCE}/`],
    ['a fragment', `${RESOURCE}#tools`],
    ['the resource among others', ['https://other.test/', RESOURCE]],
    ['another spelling of the same URL (host case, default port)', 'https://API.example.test:443/mcp'],
  ])('accepts an aud that names it with %s', async (_name, aud) => {
    expect(await outcome({ ...keyed, resource: RESOURCE }, aud)).toEqual({ audience: [aud].flat() })
  })

  it('accepts an aud without the trailing slash of a resource that has one', async () => {
    expect(await outcome({ ...keyed, resource: 'https://api.example.test/' }, 'https://api.example.test')).toEqual({
      audience: ['https://api.example.test'],
    })
  })

  it.each([
    ['another resource', 'https://api.example.test/other'],
    ['a longer path', `${RESOURCE}/tools`],
    ['two trailing slashes', `${RESOURCE}//`],
    ['a query', `${RESOURCE}?x=1`],
    ['another scheme', 'http://api.example.test/mcp'],
    ['another port', 'https://api.example.test:8443/mcp'],
    ['a bare name', 'mcp'],
    ['the path alone', '/mcp'],
  ])('refuses an aud naming %s (401 invalid_token, claim aud)', async (_name, aud) => {
    expect(await outcome({ ...keyed, resource: RESOURCE }, aud)).toEqual({ status: 401, code: 'invalid_token', claim: 'aud' })
  })

  it('refuses a token without aud', async () => {
    expect(await outcome({ ...keyed, resource: RESOURCE }, undefined)).toEqual({ status: 401, code: 'invalid_token', claim: 'aud' })
  })

  it('lets an explicit audience say otherwise', async () => {
    const options = { ...keyed, resource: RESOURCE, audience: 'orders-api' }
    expect(await outcome(options, 'orders-api')).toEqual({ audience: ['orders-api'] })
    expect(await outcome(options, RESOURCE)).toMatchObject({ code: 'invalid_token', claim: 'aud' })
    expect(await outcome({ ...options, audience: false }, 'anything')).toEqual({ audience: ['anything'] })
  })

  it('is the default audience of every entry of issuers', async () => {
    const other = await createTestIssuer({ algorithm: 'ES256', issuer: 'https://other-issuer.test' })
    const { audience: _a, ...otherKeyed } = other.verifierOptions('keys') as IssuerOptions<undefined>
    const verifier = createVerifier({ resource: RESOURCE, issuers: [keyed, { ...otherKeyed, audience: 'legacy-api' }] })
    expect((await verifier.verifyAccessToken(await issuer.sign({}, { audience: RESOURCE }))).audience).toEqual([RESOURCE])
    const legacy = await other.sign({}, { audience: 'legacy-api' })
    expect((await verifier.verifyAccessToken(legacy)).audience).toEqual(['legacy-api'])
    const wrong = await verifier.verifyAccessToken(await issuer.sign({}, { audience: 'legacy-api' })).catch((e: unknown) => e)
    expect(wrong).toMatchObject({ code: 'invalid_token', claim: 'aud' })
  })

  it('is readable as verifier.resource, as given (a URL as its href)', () => {
    expect(createVerifier({ ...keyed, resource: RESOURCE }).resource).toBe(RESOURCE)
    expect(createVerifier({ ...keyed, resource: new URL('https://api.example.test') }).resource).toBe('https://api.example.test/')
    expect(createVerifier({ ...keyed, audience: 'api' }).resource).toBeUndefined()
    expect('resource' in createVerifier({ ...keyed, audience: 'api' })).toBe(false)
  })
})

describe('resource: validated at construction', () => {
  it.each([
    ['a relative reference', '/mcp', /expected an absolute https URL/],
    ['a bare name', 'demo-api', /expected an absolute https URL/],
    ['plain http on a public host', 'http://api.example.test/mcp', /must use https/],
    ['another scheme', 'urn:example:mcp', /must use https/],
    ['a fragment', `${RESOURCE}#tools`, /must not contain a fragment/],
    ['an empty fragment', `${RESOURCE}#`, /must not contain a fragment/],
    ['credentials', 'https://user:pw@api.example.test/mcp', /user name or password/],
    ['a number', 42, /expected an absolute https URL/],
  ])('throws a TypeError naming "resource" for %s', (_name, resource, message) => {
    const text = typeErrorOf({ ...keyed, resource })
    expect(text).toMatch(/^bearer-guard: invalid option "resource": /)
    expect(text).toMatch(message)
  })

  it('accepts plain http on a loopback host', () => {
    for (const resource of ['http://localhost:3000/mcp', 'http://127.0.0.1:8080/mcp', 'http://[::1]/mcp', 'http://mcp.localhost/']) {
      expect(createVerifier({ ...keyed, resource }).resource).toBe(resource)
    }
  })

  it('belongs at the top level with issuers, not in an entry', () => {
    expect(typeErrorOf({ issuers: [{ ...keyed, resource: RESOURCE }] })).toMatch(/"issuers\[0\]\.resource": applies to the whole verifier/)
  })

  it('still needs an audience or a resource', () => {
    expect(typeErrorOf({ ...keyed })).toMatch(/invalid option "audience": is required/)
  })
})

describe('resource identifiers', () => {
  it('compare as the MCP SDK compares them', () => {
    expect(comparableResource('https://api.example.test/mcp/#x')).toBe('https://api.example.test/mcp')
    expect(comparableResource('https://api.example.test')).toBe('https://api.example.test')
    expect(comparableResource('not a url')).toBeUndefined()
    expect(sameResource('https://api.example.test/mcp', new URL('https://api.example.test/mcp/'))).toBe(true)
    expect(sameResource('https://api.example.test/mcp', 'https://api.example.test/mcp2')).toBe(false)
    expect(sameResource('mcp', 'mcp')).toBe(false)
  })

  it('have their metadata at the well-known path inserted before the path (RFC 9728 §3.1)', () => {
    expect(resourceMetadataUrl(RESOURCE)).toBe('https://api.example.test/.well-known/oauth-protected-resource/mcp')
    expect(resourceMetadataUrl('https://api.example.test/')).toBe('https://api.example.test/.well-known/oauth-protected-resource')
    expect(resourceMetadataUrl('https://api.example.test')).toBe('https://api.example.test/.well-known/oauth-protected-resource')
    expect(resourceMetadataUrl('https://api.example.test/a/b/')).toBe('https://api.example.test/.well-known/oauth-protected-resource/a/b/')
    expect(resourceMetadataUrl('https://api.example.test/t?tenant=1')).toBe(
      'https://api.example.test/.well-known/oauth-protected-resource/t?tenant=1',
    )
    expect(resourceMetadataUrl('http://127.0.0.1:8080/mcp')).toBe('http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp')
    expect(metadataPath(RESOURCE)).toBe('/.well-known/oauth-protected-resource/mcp')
  })

  it('of a request: its URL without query and fragment', () => {
    expect(requestResource('https://api.example.test/mcp?session=1')).toBe('https://api.example.test/mcp')
  })

  it('loopback hosts', () => {
    expect(['localhost', 'LOCALHOST', 'a.localhost', '127.0.0.1', '127.1.2.3', '[::1]'].every(isLoopback)).toBe(true)
    expect(['localhost.example.com', '128.0.0.1', '[::2]', 'example.test', '127.0.0.1.example.com'].some(isLoopback)).toBe(false)
  })
})
