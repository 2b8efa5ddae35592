/**
 * The protected-resource metadata handler (RFC 9728): the document, its validation at construction,
 * the DPoP hook, and the Web handler the adapters translate.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier, protectedResourceHandler, type ProtectedResourceOptions } from 'bearer-guard'

const RESOURCE = 'https://mcp.example.test/mcp'
const base = { resource: RESOURCE, authorizationServers: ['https://auth.example.test'] }

function typeErrorOf(options: unknown): string {
  try {
    protectedResourceHandler(options as ProtectedResourceOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return (error as TypeError).message
  }
  throw new Error('protectedResourceHandler accepted the options')
}

describe('protectedResourceHandler: the document', () => {
  it('has every RFC 9728 §2 member in snake_case', () => {
    const { metadata } = protectedResourceHandler({
      resource: RESOURCE,
      authorizationServers: ['https://auth.example.test', new URL('https://auth2.example.test/realms/x')],
      jwksUri: 'https://mcp.example.test/jwks.json',
      scopesSupported: ['tools:read', 'tools:call'],
      bearerMethodsSupported: ['header', 'body'],
      resourceSigningAlgValuesSupported: ['ES256'],
      resourceName: 'Example MCP',
      resourceDocumentation: 'https://docs.example.test/mcp',
      resourcePolicyUri: 'https://example.test/policy',
      resourceTosUri: new URL('https://example.test/tos'),
      tlsClientCertificateBoundAccessTokens: true,
      authorizationDetailsTypesSupported: ['payment_initiation'],
      dpopSigningAlgValuesSupported: ['ES256', 'EdDSA'],
      dpopBoundAccessTokensRequired: false,
    })
    expect(metadata).toEqual({
      resource: RESOURCE,
      authorization_servers: ['https://auth.example.test', 'https://auth2.example.test/realms/x'],
      jwks_uri: 'https://mcp.example.test/jwks.json',
      scopes_supported: ['tools:read', 'tools:call'],
      bearer_methods_supported: ['header', 'body'],
      resource_signing_alg_values_supported: ['ES256'],
      resource_name: 'Example MCP',
      resource_documentation: 'https://docs.example.test/mcp',
      resource_policy_uri: 'https://example.test/policy',
      resource_tos_uri: 'https://example.test/tos',
      tls_client_certificate_bound_access_tokens: true,
      authorization_details_types_supported: ['payment_initiation'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: false,
    })
    expect(Object.isFrozen(metadata)).toBe(true)
  })

  it('names the header as the one bearer method by default, and leaves out what is not set', () => {
    expect(protectedResourceHandler({ resource: RESOURCE }).metadata).toEqual({ resource: RESOURCE, bearer_methods_supported: ['header'] })
  })

  it("takes the resource from the verifier's resource option", () => {
    const verifier = createVerifier({ issuer: 'https://auth.example.test', resource: RESOURCE, secret: 'k'.repeat(32) })
    const handler = protectedResourceHandler({ verifier, authorizationServers: ['https://auth.example.test'] })
    expect(handler.metadata.resource).toBe(RESOURCE)
    expect(handler.path).toBe('/.well-known/oauth-protected-resource/mcp')
    expect(handler.url).toBe('https://mcp.example.test/.well-known/oauth-protected-resource/mcp')
    // the option wins over the verifier
    expect(protectedResourceHandler({ verifier, resource: 'https://mcp.example.test/' }).path).toBe('/.well-known/oauth-protected-resource')
  })

  it("fills the DPoP members from a verifier's dpop settings (the DPoP hook), the options winning", () => {
    const verifier = { resource: RESOURCE, dpop: { algorithms: ['ES256', 'EdDSA'], mode: 'required' } }
    expect(protectedResourceHandler({ verifier }).metadata).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: true,
    })
    const allowed = protectedResourceHandler({ verifier: { ...verifier, dpop: { algorithms: ['ES256'], mode: 'allowed' } } })
    expect(allowed.metadata.dpop_bound_access_tokens_required).toBeUndefined()
    const own = protectedResourceHandler({ verifier, dpopSigningAlgValuesSupported: ['PS256'], dpopBoundAccessTokensRequired: false })
    expect(own.metadata).toMatchObject({ dpop_signing_alg_values_supported: ['PS256'], dpop_bound_access_tokens_required: false })
    // a verifier without dpop (today's) adds no DPoP member
    const plain = createVerifier({ issuer: 'https://auth.example.test', resource: RESOURCE, secret: 'k'.repeat(32) })
    expect(Object.keys(protectedResourceHandler({ verifier: plain }).metadata)).toEqual(['resource', 'bearer_methods_supported'])
  })
})

describe('protectedResourceHandler: validated at construction', () => {
  it.each([
    ['no resource and no verifier', { authorizationServers: ['https://auth.example.test'] }, /"resource": is required/],
    ['a relative resource', { resource: '/mcp' }, /"resource": expected an absolute https URL/],
    ['an http resource on a public host', { resource: 'http://mcp.example.test/mcp' }, /"resource": must use https/],
    ['a resource with a fragment', { resource: `${RESOURCE}#x` }, /"resource": must not contain a fragment/],
    ['an http authorization server', { ...base, authorizationServers: ['https://a.test', 'http://b.test'] }, /"authorizationServers\[1\]": must use https/],
    ['an authorization server with a fragment', { ...base, authorizationServers: ['https://a.test/#x'] }, /"authorizationServers\[0\]": must not contain a fragment/],
    ['authorization servers not in an array', { ...base, authorizationServers: 'https://a.test' }, /"authorizationServers": expected an array/],
    ['an unknown bearer method', { ...base, bearerMethodsSupported: ['cookie'] }, /"bearerMethodsSupported": expected some of "header", "body", "query"/],
    ['"none" as a DPoP algorithm', { ...base, dpopSigningAlgValuesSupported: ['none'] }, /"dpopSigningAlgValuesSupported": "none" is not a signing algorithm/],
    ['an empty scope', { ...base, scopesSupported: ['tools:read', ''] }, /"scopesSupported": expected an array of non-empty strings/],
    ['a relative documentation URL', { ...base, resourceDocumentation: 'docs/mcp' }, /"resourceDocumentation": expected an absolute http\(s\) URL/],
    ['a non-boolean flag', { ...base, dpopBoundAccessTokensRequired: 'yes' }, /"dpopBoundAccessTokensRequired": expected true or false/],
    ['an empty name', { ...base, resourceName: '' }, /"resourceName": expected a non-empty string/],
    ['a bad cache age', { ...base, cacheMaxAge: 'soon' }, /"cacheMaxAge": expected seconds/],
    ['a snake_case member name', { ...base, scopes_supported: ['a'] }, /unknown option "scopes_supported"/],
  ])('throws a TypeError naming the option for %s', (_name, options, message) => {
    expect(typeErrorOf(options)).toMatch(message)
  })

  it('accepts plain http on a loopback host (local development)', () => {
    const handler = protectedResourceHandler({ resource: 'http://127.0.0.1:3000/mcp', authorizationServers: ['http://localhost:8001'] })
    expect(handler.url).toBe('http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp')
  })
})

describe('protectedResourceHandler: the Web handler', () => {
  const handler = protectedResourceHandler({ ...base, cacheMaxAge: '5m' })
  const url = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp'

  it('answers GET with the JSON, cacheable and readable from any origin', async () => {
    const res = handler(new Request(`${url}?x=1`)) as Response
    expect(res.status).toBe(200)
    expect(Object.fromEntries(res.headers)).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    })
    expect(await res.json()).toEqual(handler.metadata)
  })

  it('answers HEAD with the headers and no body', async () => {
    const res = handler(new Request(url, { method: 'HEAD' })) as Response
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    expect(res.body).toBeNull()
  })

  it('answers a CORS preflight', () => {
    const res = handler(new Request(url, { method: 'OPTIONS' })) as Response
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS')
  })

  it('answers any other method 405 with Allow', async () => {
    const res = handler(new Request(url, { method: 'PUT', body: '{}' })) as Response
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(await res.json()).toEqual({ error: 'method_not_allowed', error_description: 'use GET, HEAD, OPTIONS' })
  })

  it('leaves every other path alone', () => {
    for (const other of ['https://mcp.example.test/mcp', 'https://mcp.example.test/.well-known/oauth-protected-resource', `${url}/`, `${url}x`]) {
      expect(handler(new Request(other))).toBeUndefined()
    }
  })

  it('answers by path: an origin-form target with a query, or an absolute URL', () => {
    expect(handler.answer('GET', '/.well-known/oauth-protected-resource/mcp?a=b')?.status).toBe(200)
    expect(handler.answer('get', '/.well-known/oauth-protected-resource/mcp#f')?.status).toBe(200)
    expect(handler.answer('GET', url)?.status).toBe(200)
    expect(handler.answer('GET', 'not a url')).toBeUndefined()
  })
})
