import { describe, expect, it } from 'vitest'
import { fetchJson, FetchJsonError } from '../../src/core/sources/fetch-json.js'
import { rejection } from '../helpers/rejection.js'

const url = new URL('https://keys.test/jwks')

function fetchOf(respond: (request: Request) => Response | Promise<Response>): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => respond(new Request(input, init))) as typeof fetch
}

/** A body streamed in chunks without Content-Length. */
function streamed(chunks: (string | Uint8Array)[], status = 200): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c)
      controller.close()
    },
  })
  return new Response(body, { status })
}

const options = { timeoutMs: 500, maxBytes: 1024 }

describe('fetchJson', () => {
  it('parses a JSON object', async () => {
    const body = await fetchJson(url, { ...options, fetch: fetchOf(() => Response.json({ keys: [] })) })
    expect(body).toEqual({ keys: [] })
  })

  it('sends a GET with accept, extra headers, no redirects and an abort signal', async () => {
    let seen: Request | undefined
    await fetchJson(url, {
      ...options,
      headers: { 'x-api-key': 'k' },
      fetch: fetchOf((r) => {
        seen = r
        return Response.json({})
      }),
    })
    expect(seen!.method).toBe('GET')
    expect(seen!.headers.get('accept')).toBe('application/json')
    expect(seen!.headers.get('x-api-key')).toBe('k')
    expect(seen!.redirect).toBe('manual')
    expect(seen!.signal).toBeDefined()
  })

  it('reads a body streamed in chunks', async () => {
    const body = await fetchJson(url, { ...options, fetch: fetchOf(() => streamed(['{"ke', 'ys":', '[1]}'])) })
    expect(body).toEqual({ keys: [1] })
  })

  it('keeps the HTTP status of a non-200 answer', async () => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => Response.json({}, { status: 404 })) }), FetchJsonError)
    expect(error.status).toBe(404)
    expect(error.message).toBe('GET https://keys.test/jwks answered 404')
  })

  it('rejects a declared Content-Length over the cap before reading', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) })
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(big, { headers: { 'content-length': String(big.length) } })) }), FetchJsonError)
    expect(error.message).toMatch(/body of \d+ bytes exceeds 1024/)
  })

  it('stops reading a streamed body over the cap', async () => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => streamed(['{"pad":"', 'x'.repeat(800), 'x'.repeat(800), '"}'])) }), FetchJsonError)
    expect(error.message).toBe('GET https://keys.test/jwks: body exceeds 1024 bytes')
  })

  it.each([
    ['not JSON', '<html>', /body is not JSON/],
    ['a JSON array', '[]', /body is not a JSON object/],
    ['JSON null', 'null', /body is not a JSON object/],
    ['a JSON string', '"keys"', /body is not a JSON object/],
  ])('rejects a body that is %s', async (_what, text, message) => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(text)) }), FetchJsonError)
    expect(error.message).toMatch(message)
  })

  it('rejects a body that is not UTF-8', async () => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => streamed([new Uint8Array([0x7b, 0xff, 0x7d])])) }), FetchJsonError)
    expect(error.message).toMatch(/body is not UTF-8/)
  })

  it('treats an empty body as not JSON', async () => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(null)) }), FetchJsonError)
    expect(error.message).toMatch(/body is not JSON/)
  })

  it('reports a network failure without a status', async () => {
    const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => Promise.reject(new TypeError('ECONNREFUSED'))) }), FetchJsonError)
    expect(error.status).toBeUndefined()
    expect(error.message).toBe('GET https://keys.test/jwks failed: ECONNREFUSED')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('aborts a request that does not answer within the timeout', async () => {
    const hang = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init!.signal!.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch
    const error = await rejection(fetchJson(url, { timeoutMs: 50, maxBytes: 1024, fetch: hang }), FetchJsonError)
    expect(error.message).toBe('GET https://keys.test/jwks timed out after 50 ms')
  })

  it('aborts a body that stalls within the timeout', async () => {
    const stall = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"keys":'))
          init!.signal!.addEventListener('abort', () => controller.error(new Error('aborted')))
        },
      })
      return new Response(body)
    }) as typeof fetch
    const error = await rejection(fetchJson(url, { timeoutMs: 50, maxBytes: 1024, fetch: stall }), FetchJsonError)
    expect(error.message).toBe('GET https://keys.test/jwks timed out while reading the body')
  })

  it('reports a body that fails to read', async () => {
    const broken = fetchOf(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.error(new Error('reset'))
            },
          }),
        ),
    )
    const error = await rejection(fetchJson(url, { ...options, fetch: broken }), FetchJsonError)
    expect(error.message).toBe('GET https://keys.test/jwks: reading the body failed: reset')
  })

  describe('the root cause of a network failure', () => {
    it.each([
      ['DNS', 'ENOTFOUND', 'getaddrinfo ENOTFOUND auth.invalid', 'GET https://keys.test/jwks failed: DNS lookup failed: getaddrinfo ENOTFOUND auth.invalid'],
      ['a refused connection', 'ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443', 'GET https://keys.test/jwks failed: connection refused: connect ECONNREFUSED 10.0.0.1:443'],
      ['TLS', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'GET https://keys.test/jwks failed: TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)'],
      ['TLS (host name)', 'ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", "GET https://keys.test/jwks failed: TLS: Hostname/IP does not match certificate's altnames (ERR_TLS_CERT_ALTNAME_INVALID)"],
    ])('keeps %s under "fetch failed"', async (_what, code, message, expected) => {
      const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => Promise.reject(undiciError(code, message))) }), FetchJsonError)
      expect(error.message).toBe(expected)
      expect(error.code).toBe(code)
      expect(error.retried).toBe(false)
    })

    it('reads the first error of an AggregateError (several addresses refused)', async () => {
      const aggregate = Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:443'), { code: 'ECONNREFUSED' })], ''), { code: 'ECONNREFUSED' })
      const error = await rejection(fetchJson(url, { ...options, fetch: fetchOf(() => Promise.reject(new TypeError('fetch failed', { cause: aggregate }))) }), FetchJsonError)
      expect(error.message).toBe('GET https://keys.test/jwks failed: connection refused: connect ECONNREFUSED ::1:443')
    })
  })

  describe('one retry on a dropped connection', () => {
    /** A fetch that answers with `outcomes` in turn, counting calls. */
    function sequence(...outcomes: (() => Response | Promise<Response>)[]) {
      let calls = 0
      const fetch = (async () => {
        const next = outcomes[Math.min(calls, outcomes.length - 1)]!
        calls++
        return next()
      }) as unknown as typeof globalThis.fetch
      return { fetch, calls: () => calls }
    }
    const drop = (code: string, message: string) => () => Promise.reject(undiciError(code, message))

    it.each([
      ['the socket was closed', 'UND_ERR_SOCKET', 'other side closed'],
      ['the connection was reset', 'ECONNRESET', 'read ECONNRESET'],
      ['the pipe broke', 'EPIPE', 'write EPIPE'],
    ])('retries once, at once, when %s before any response byte', async (_what, code, message) => {
      const { fetch, calls } = sequence(drop(code, message), () => Response.json({ keys: [] }))
      await expect(fetchJson(url, { ...options, fetch })).resolves.toEqual({ keys: [] })
      expect(calls()).toBe(2)
    })

    it('tells onRetry, with the first attempt\'s root cause', async () => {
      const { fetch } = sequence(drop('UND_ERR_SOCKET', 'other side closed'), () => Response.json({}))
      const causes: string[] = []
      await fetchJson(url, { ...options, fetch, onRetry: (cause) => causes.push(cause) })
      expect(causes).toEqual(['connection closed: other side closed (UND_ERR_SOCKET)'])
    })

    it('never retries twice, and keeps the last attempt\'s root cause and says a retry happened', async () => {
      const { fetch, calls } = sequence(drop('UND_ERR_SOCKET', 'other side closed'), drop('ECONNRESET', 'read ECONNRESET'))
      const error = await rejection(fetchJson(url, { ...options, fetch }), FetchJsonError)
      expect(calls()).toBe(2)
      expect(error.message).toBe('GET https://keys.test/jwks failed after one retry: connection closed: read ECONNRESET')
      expect(error.code).toBe('ECONNRESET')
      expect(error.retried).toBe(true)
    })

    it.each([
      ['an HTTP status', () => Response.json({}, { status: 503 })],
      ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://keys.test/elsewhere' } })],
      ['a bad body', () => new Response('<html>')],
      ['a refused connection', drop('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443')],
      ['a DNS failure', drop('ENOTFOUND', 'getaddrinfo ENOTFOUND keys.test')],
      ['a body cut off after the headers', () => new Response(new ReadableStream({ pull: (c) => c.error(undiciError('ECONNRESET', 'read ECONNRESET')) }))],
    ])('does not retry after %s', async (_what, outcome) => {
      const { fetch, calls } = sequence(outcome, () => Response.json({ keys: [] }))
      await rejection(fetchJson(url, { ...options, fetch }), FetchJsonError)
      expect(calls()).toBe(1)
    })

    it('does not retry after a timeout', async () => {
      let calls = 0
      const hang = ((_input: RequestInfo | URL, init?: RequestInit) => {
        calls++
        return new Promise<Response>((_, reject) =>
          init!.signal!.addEventListener('abort', () => reject(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))),
        )
      }) as typeof fetch
      const error = await rejection(fetchJson(url, { timeoutMs: 50, maxBytes: 1024, fetch: hang }), FetchJsonError)
      expect(error.message).toBe('GET https://keys.test/jwks timed out after 50 ms')
      expect(calls).toBe(1)
    })

    it('shares the timeout budget with the retry (the same abort signal)', async () => {
      const signals: (AbortSignal | null | undefined)[] = []
      let calls = 0
      const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
        signals.push(init?.signal)
        if (calls++ === 0) throw undiciError('UND_ERR_SOCKET', 'other side closed')
        return Response.json({})
      }) as typeof globalThis.fetch
      await fetchJson(url, { ...options, fetch })
      expect(signals).toHaveLength(2)
      expect(signals[1]).toBe(signals[0])
    })
  })
})

/** What undici's fetch rejects with: a TypeError "fetch failed" whose cause carries the code. */
function undiciError(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) })
}
