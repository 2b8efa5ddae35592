import { describe, expect, it } from 'vitest'
import { fetchJson, FetchJsonError } from '../../src/core/fetch-json.js'

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

async function failure(promise: Promise<unknown>): Promise<FetchJsonError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(FetchJsonError)
    return error as FetchJsonError
  }
  throw new Error('fetchJson resolved')
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
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => Response.json({}, { status: 404 })) }))
    expect(error.status).toBe(404)
    expect(error.message).toBe('GET https://keys.test/jwks answered 404')
  })

  it('rejects a declared Content-Length over the cap before reading', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) })
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(big, { headers: { 'content-length': String(big.length) } })) }))
    expect(error.message).toMatch(/body of \d+ bytes exceeds 1024/)
  })

  it('stops reading a streamed body over the cap', async () => {
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => streamed(['{"pad":"', 'x'.repeat(800), 'x'.repeat(800), '"}'])) }))
    expect(error.message).toBe('GET https://keys.test/jwks: body exceeds 1024 bytes')
  })

  it.each([
    ['not JSON', '<html>', /body is not JSON/],
    ['a JSON array', '[]', /body is not a JSON object/],
    ['JSON null', 'null', /body is not a JSON object/],
    ['a JSON string', '"keys"', /body is not a JSON object/],
  ])('rejects a body that is %s', async (_what, text, message) => {
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(text)) }))
    expect(error.message).toMatch(message)
  })

  it('rejects a body that is not UTF-8', async () => {
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => streamed([new Uint8Array([0x7b, 0xff, 0x7d])])) }))
    expect(error.message).toMatch(/body is not UTF-8/)
  })

  it('treats an empty body as not JSON', async () => {
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => new Response(null)) }))
    expect(error.message).toMatch(/body is not JSON/)
  })

  it('reports a network failure without a status', async () => {
    const error = await failure(fetchJson(url, { ...options, fetch: fetchOf(() => Promise.reject(new TypeError('ECONNREFUSED'))) }))
    expect(error.status).toBeUndefined()
    expect(error.message).toBe('GET https://keys.test/jwks failed: ECONNREFUSED')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('aborts a request that does not answer within the timeout', async () => {
    const hang = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init!.signal!.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch
    const error = await failure(fetchJson(url, { timeoutMs: 50, maxBytes: 1024, fetch: hang }))
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
    const error = await failure(fetchJson(url, { timeoutMs: 50, maxBytes: 1024, fetch: stall }))
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
    const error = await failure(fetchJson(url, { ...options, fetch: broken }))
    expect(error.message).toBe('GET https://keys.test/jwks: reading the body failed')
  })
})
