import { describe, expect, it, vi } from 'vitest'
import { createVerifier, KeySourceUnavailableError } from 'bearer-guard'
import { discoverJwksUri, discoveryUrls } from '../../src/core/sources/discovery.js'
import { FROZEN_AT, freezeClock } from '../helpers/clock.js'
import { useIssuers } from '../helpers/issuers.js'
import { rejection } from '../helpers/rejection.js'

const issuers = useIssuers()

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

type Route = (url: URL, request: Request) => Response | Promise<Response> | undefined

/** An issuer whose endpoints are reached through a recording `fetch`; `route` may answer first. */
async function setup(issuerUrl = 'https://auth.test', route: Route = () => undefined) {
  const issuer = await issuers.issue({ issuer: issuerUrl, algorithm: 'ES256' })
  const urls: string[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    urls.push(request.url)
    return (await route(new URL(request.url), request)) ?? issuer.handler(request)
  }) as typeof globalThis.fetch
  const verifier = createVerifier(issuer.verifierOptions('discovery', { jwks: { fetch, timeout: '200ms' }, cache: false, logger: false }))
  return { issuer, verifier, urls }
}

describe('discoveryUrls', () => {
  it('puts OIDC discovery under the issuer and RFC 8414 metadata at the origin', () => {
    expect(discoveryUrls('https://auth.test').map(String)).toEqual([
      'https://auth.test/.well-known/openid-configuration',
      'https://auth.test/.well-known/oauth-authorization-server',
    ])
    expect(discoveryUrls('https://auth.test/realms/main/').map(String)).toEqual([
      'https://auth.test/realms/main/.well-known/openid-configuration',
      'https://auth.test/.well-known/oauth-authorization-server/realms/main',
    ])
  })

  it('drops a query string', () => {
    expect(discoveryUrls('https://auth.test/t?x=1').map(String)).toEqual([
      'https://auth.test/t/.well-known/openid-configuration',
      'https://auth.test/.well-known/oauth-authorization-server/t',
    ])
  })
})

describe('discovery', () => {
  it('reads jwks_uri from OpenID Connect discovery first', async () => {
    const { issuer, verifier, urls } = await setup()
    await verifier.verifyAccessToken(await issuer.sign())
    expect(urls).toEqual([issuer.discoveryUri, issuer.jwksUri])
  })

  it('falls back to RFC 8414 metadata when OIDC discovery answers 404', async () => {
    const { issuer, verifier, urls } = await setup('https://auth.test/realms/main', (url) =>
      url.pathname.endsWith('/openid-configuration') ? json({ error: 'not found' }, 404) : undefined,
    )
    await verifier.verifyAccessToken(await issuer.sign())
    expect(urls).toEqual([
      'https://auth.test/realms/main/.well-known/openid-configuration',
      'https://auth.test/.well-known/oauth-authorization-server/realms/main',
      'https://auth.test/realms/main/.well-known/jwks.json',
    ])
  })

  it('also tries RFC 8414 after a server error', async () => {
    const { issuer, verifier, urls } = await setup('https://auth.test', (url) =>
      url.pathname.endsWith('/openid-configuration') ? json({}, 500) : undefined,
    )
    await verifier.verifyAccessToken(await issuer.sign())
    expect(urls).toHaveLength(3)
  })

  it('does not try RFC 8414 after a timeout, and answers 503', async () => {
    const { issuer, verifier, urls } = await setup()
    issuer.simulate('discovery', 'timeout')
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/discovery for https:\/\/auth\.test failed: GET .* timed out/)
    expect(urls).toEqual([issuer.discoveryUri])
  })

  it.each([
    ['DNS', 'ENOTFOUND', 'getaddrinfo ENOTFOUND auth.test', /failed: GET https:\/\/auth\.test\/\.well-known\/openid-configuration failed: DNS lookup failed: getaddrinfo ENOTFOUND auth\.test$/],
    ['a refused connection', 'ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:443', /failed: connection refused: connect ECONNREFUSED 10\.1\.2\.3:443$/],
    ['TLS', 'CERT_HAS_EXPIRED', 'certificate has expired', /failed: TLS: certificate has expired \(CERT_HAS_EXPIRED\)$/],
  ])('keeps the root cause of %s in the reason, and does not try RFC 8414 on the same host', async (_what, code, message, reason) => {
    const { issuer, verifier, urls } = await setup('https://auth.test', () =>
      Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) })),
    )
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/^JWKS unavailable: discovery for https:\/\/auth\.test failed: /)
    expect(error.reason).toMatch(reason)
    expect(urls).toEqual([issuer.discoveryUri])
  })

  it('warns through the logger with the root cause, once per minute', async () => {
    const clock = freezeClock(FROZEN_AT)
    const issuer = await issuers.issue({ issuer: 'https://auth.test', algorithm: 'ES256' })
    const dns = (() => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND auth.test'), { code: 'ENOTFOUND' }) }))) as unknown as typeof fetch
    const warn = vi.fn()
    const verifier = createVerifier(issuer.verifierOptions('discovery', { jwks: { fetch: dns }, cache: false, logger: { warn } }))
    for (let i = 0; i < 3; i++) {
      await rejection(verifier.verifyAccessToken(await issuer.sign()))
      clock.advance(6)
    }
    expect(warn.mock.calls).toEqual([
      [
        'bearer-guard: JWKS unavailable, answering 503 until it can be fetched: discovery for https://auth.test failed: GET https://auth.test/.well-known/openid-configuration failed: DNS lookup failed: getaddrinfo ENOTFOUND auth.test',
      ],
    ])
  })

  it('tries RFC 8414 after a 5xx from OIDC discovery and stops after a failure without a status', async () => {
    const statuses = await setup('https://auth.test', (url) => (url.pathname.endsWith('/openid-configuration') ? json({}, 503) : undefined))
    await statuses.verifier.verifyAccessToken(await statuses.issuer.sign())
    expect(statuses.urls).toEqual([statuses.issuer.discoveryUri, statuses.issuer.metadataUri, statuses.issuer.jwksUri])
    const body = await setup('https://auth.test', (url) => (url.pathname.endsWith('/openid-configuration') ? new Response('<html>') : undefined))
    await rejection(body.verifier.verifyAccessToken(await body.issuer.sign()))
    expect(body.urls).toEqual([body.issuer.discoveryUri])
  })

  it('answers 503 when neither metadata document exists', async () => {
    const { issuer, verifier } = await setup()
    issuer.simulate('discovery', 404)
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(/answered 404; GET .*oauth-authorization-server answered 404/)
  })

  it.each([
    ['with a trailing slash added', 'https://auth.test/'],
    ['in another case', 'https://AUTH.test'],
    ['of another server', 'https://evil.test'],
  ])('rejects metadata whose issuer differs %s', async (_what, claimed) => {
    const { issuer, verifier, urls } = await setup('https://auth.test', (url) =>
      url.pathname.endsWith('/openid-configuration') ? json({ issuer: claimed, jwks_uri: 'https://evil.test/jwks' }) : undefined,
    )
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toContain(`issuer "${claimed}" does not equal "https://auth.test"`)
    expect(urls.some((u) => u.startsWith('https://evil.test'))).toBe(false)
  })

  it.each([
    ['no jwks_uri', {}, /no jwks_uri/],
    ['a jwks_uri that is not a URL', { jwks_uri: 'not a url' }, /jwks_uri is not a URL/],
    ['a jwks_uri that is not http(s)', { jwks_uri: 'file:///etc/passwd' }, /jwks_uri is not http\(s\)/],
  ])('rejects metadata with %s', async (_what, extra, reason) => {
    const { issuer, verifier } = await setup('https://auth.test', (url) =>
      url.pathname.endsWith('/openid-configuration') ? json({ issuer: 'https://auth.test', ...extra }) : undefined,
    )
    const error = await rejection(verifier.verifyAccessToken(await issuer.sign()))
    expect(error).toBeInstanceOf(KeySourceUnavailableError)
    expect(error.reason).toMatch(reason)
  })

  it('discovers again after a failure, once the backoff has passed', async () => {
    const clock = freezeClock(FROZEN_AT)
    const { issuer, verifier, urls } = await setup()
    issuer.simulate('discovery', 503)
    await rejection(verifier.verifyAccessToken(await issuer.sign()))
    issuer.simulate('discovery', null)
    clock.advance(6)
    await expect(verifier.verifyAccessToken(await issuer.sign())).resolves.toMatchObject({ issuer: 'https://auth.test', subject: 'user-123' })
    expect(urls.at(-1)).toBe(issuer.jwksUri)
  })

  it('works through msw at the real well-known URLs', async () => {
    const issuer = await issuers.serve({ issuer: 'https://msw.auth.test/tenant', algorithm: 'ES256' })
    const auth = await createVerifier(issuer.verifierOptions('discovery')).verifyAccessToken(await issuer.sign())
    expect(auth.issuer).toBe('https://msw.auth.test/tenant')
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 })
  })

  it('discoverJwksUri returns the URL', async () => {
    const issuer = await issuers.issue({ issuer: 'https://auth.test' })
    const uri = await discoverJwksUri('https://auth.test', { timeoutMs: 1000, maxBytes: 65536, fetch: issuer.fetch })
    expect(uri.href).toBe(issuer.jwksUri)
  })
})
