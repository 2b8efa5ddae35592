/**
 * The request the core reads (src/core/request.ts) and its builders, on request-like objects: what
 * they read, and that the URL and the certificate are built only when read (a bearer request costs
 * nothing more). Runs on Node and in the edge runtime. Real sockets: test/adapters/request.test.ts.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  authenticateRequest,
  createVerifier,
  InvalidRequestError,
  nodeAuthorization,
  nodeHeaders,
  nodeRequest,
  socketCertificate,
  webRequest,
  type NodeRequestLike,
} from 'bearer-guard'
import { createTestIssuer } from 'bearer-guard/testing'

const issuer = await createTestIssuer({ algorithm: 'ES256' })
const verifier = createVerifier(issuer.verifierOptions('keys'))

const der = new Uint8Array([0x30, 0x82, 0x01, 0x0a])

function nodeLike(extra: Partial<NodeRequestLike> = {}): NodeRequestLike {
  return {
    method: 'PUT',
    url: '/orders?x=1',
    headers: { host: 'api.example.com:8443', authorization: 'Bearer a' },
    rawHeaders: ['Host', 'api.example.com:8443', 'Authorization', 'Bearer a'],
    socket: {},
    ...extra,
  }
}

describe('nodeRequest', () => {
  it("builds a plain Node request's URL from the socket's scheme, the Host header and url", () => {
    expect(nodeRequest(nodeLike()).url).toBe('http://api.example.com:8443/orders?x=1')
    expect(nodeRequest(nodeLike({ socket: { encrypted: true } })).url).toBe('https://api.example.com:8443/orders?x=1')
    const request = nodeRequest(nodeLike())
    expect([request.method, request.headers.authorization, request.headers.dpop]).toEqual(['PUT', 'Bearer a', undefined])
  })

  it("takes the framework's protocol, host and originalUrl over the Node request's", () => {
    const framework = { protocol: 'https', host: 'public.example', originalUrl: '/api/orders?x=1', url: '/orders?x=1' }
    expect(nodeRequest(framework, nodeLike()).url).toBe('https://public.example/api/orders?x=1')
    expect(nodeRequest(framework, nodeLike(), () => 'other.example:1').url).toBe('https://other.example:1/api/orders?x=1')
  })

  it('keeps an absolute-form request target, and names localhost when there is no Host', () => {
    expect(nodeRequest(nodeLike({ url: 'http://target.example/p?q' })).url).toBe('http://target.example/p?q')
    expect(nodeRequest(nodeLike({ headers: {}, url: undefined })).url).toBe('http://localhost/')
  })

  it('reads protocol, host and the certificate only when the URL or the certificate is read', () => {
    const protocol = vi.fn(() => 'https')
    const host = vi.fn(() => 'api.example.com')
    const getPeerCertificate = vi.fn(() => ({ raw: der }))
    const framework = Object.defineProperties({ originalUrl: '/a' }, { protocol: { get: protocol }, host: { get: host } })
    const request = nodeRequest(framework, nodeLike({ socket: { getPeerCertificate } }))
    expect(request.headers.authorization).toBe('Bearer a')
    expect([protocol, host, getPeerCertificate].map((f) => f.mock.calls.length)).toEqual([0, 0, 0])
    expect(request.url).toBe('https://api.example.com/a')
    expect(request.certificate).toBe(der)
    expect(getPeerCertificate).toHaveBeenCalledWith(true)
  })
})

describe('nodeHeaders', () => {
  it('gives every Authorization and DPoP line, in any casing, as an array when there are several', () => {
    const raw = ['DPoP', 'p1', 'Authorization', 'Bearer a', 'X-DPoP', 'no', 'dpop', 'p2', 'AUTHORIZATION', 'Bearer b', 'DPOP', 'p3']
    expect(nodeHeaders({ headers: { authorization: 'Bearer a', dpop: 'p1, p2, p3' }, rawHeaders: raw })).toEqual({
      authorization: ['Bearer a', 'Bearer b'],
      dpop: ['p1', 'p2', 'p3'],
    })
    expect(nodeHeaders({ headers: {}, rawHeaders: ['dpop', 'p1'] })).toEqual({ authorization: undefined, dpop: 'p1' })
  })

  it('reads headers a middleware set only on req.headers, and headersDistinct without rawHeaders', () => {
    expect(nodeHeaders({ headers: { authorization: 'Bearer set', dpop: 'set' }, rawHeaders: [] })).toEqual({ authorization: 'Bearer set', dpop: 'set' })
    expect(nodeHeaders({ headers: {}, headersDistinct: { authorization: ['a', 'b'], dpop: ['p'] } })).toEqual({ authorization: ['a', 'b'], dpop: ['p'] })
    expect(nodeAuthorization({ headers: { authorization: 'a' } })).toBe('a')
  })
})

describe('socketCertificate', () => {
  it("gives a TLS socket's client certificate as DER, and nothing for a plain socket or a client without one", () => {
    expect(socketCertificate({ getPeerCertificate: () => ({ raw: der }) })).toBe(der)
    expect(socketCertificate({ getPeerCertificate: () => ({}) })).toBeUndefined()
    expect(socketCertificate({ getPeerCertificate: () => null })).toBeUndefined()
    expect(socketCertificate({ encrypted: true })).toBeUndefined()
    expect(socketCertificate(undefined)).toBeUndefined()
  })
})

describe('webRequest', () => {
  const request = (extra: [string, string][] = []) =>
    new Request('http://internal:3000/orders?x=1', {
      method: 'POST',
      headers: [['authorization', 'Bearer a'], ['authorization', 'Bearer b'], ['dpop', 'p'], ...extra],
    })

  it('gives request.url, the method and the header values as the Web Headers join them', () => {
    const built = webRequest(request())
    expect([built.method, built.url, built.headers.authorization, built.headers.dpop, built.certificate]).toEqual([
      'POST',
      'http://internal:3000/orders?x=1',
      'Bearer a, Bearer b',
      'p',
      undefined,
    ])
  })

  it('reads DPoP and the forwarded headers only when they are read', () => {
    const headers = new Headers([['authorization', 'Bearer a']])
    const get = vi.spyOn(headers, 'get')
    const built = webRequest({ method: 'GET', url: 'http://internal/a', headers }, { trustProxy: true })
    expect(get.mock.calls).toEqual([['authorization']])
    void built.url
    void built.headers.dpop
    expect(get.mock.calls.map(([name]) => name).sort()).toEqual(['authorization', 'dpop', 'x-forwarded-host', 'x-forwarded-proto'])
  })

  it('with trustProxy, takes the last forwarded scheme and host, keeping the path and query', () => {
    const forwarded = request([['x-forwarded-proto', 'http, HTTPS'], ['x-forwarded-host', 'client.example, api.example.com:8443']])
    expect(webRequest(forwarded, { trustProxy: true }).url).toBe('https://api.example.com:8443/orders?x=1')
    expect(webRequest(forwarded).url).toBe('http://internal:3000/orders?x=1')
    expect(webRequest(request([['x-forwarded-host', 'api.example.com']]), { trustProxy: true }).url).toBe('http://api.example.com/orders?x=1')
  })

  it('with trustProxy, ignores a forwarded scheme other than http(s) and a host that is not one', () => {
    for (const [proto, host] of [['ftp', 'a b'], ['javascript', 'evil.example/x?'], ['', 'user@evil.example'], ['https,', 'evil.example#']]) {
      const built = webRequest(request([['x-forwarded-proto', proto], ['x-forwarded-host', host]]), { trustProxy: true })
      expect(built.url).toBe('http://internal:3000/orders?x=1')
    }
  })

  it("reads the certificate of the socket it is given (Hono on @hono/node-server)", () => {
    expect(webRequest(request(), {}, { getPeerCertificate: () => ({ raw: der }) }).certificate).toBe(der)
  })
})

describe('authenticateRequest with a request', () => {
  it("verifies the request's Authorization, as it does the bare header value", async () => {
    const token = await issuer.sign()
    const auth = await authenticateRequest(verifier, webRequest(new Request('https://api.example.com/', { headers: { authorization: `Bearer ${token}` } })), false)
    expect(auth?.subject).toBe('user-123')
    expect((await authenticateRequest(verifier, `Bearer ${token}`, false))?.subject).toBe('user-123')
  })

  it('yields undefined without credentials when optional, and refuses two Authorization lines (400)', async () => {
    await expect(authenticateRequest(verifier, nodeRequest(nodeLike({ headers: {}, rawHeaders: [] })), true)).resolves.toBeUndefined()
    const two = nodeRequest(nodeLike({ rawHeaders: ['Authorization', 'Bearer a', 'authorization', 'Bearer b'] }))
    await expect(authenticateRequest(verifier, two, true)).rejects.toBeInstanceOf(InvalidRequestError)
  })
})
