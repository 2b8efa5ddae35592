/**
 * A real `node:http` server for a Web `(Request) => Response` handler (private). `node:http` is
 * imported lazily, so the testing module still loads on edge runtimes.
 *
 * @module bearer-guard/testing
 */

/** A running loopback server. */
export interface LoopbackServer {
  /** Origin of the server, e.g. `http://127.0.0.1:49152` (no trailing slash). */
  readonly url: string
  /** Number of requests the server has received. */
  readonly requests: number
  /** Stops the server and drops open connections. Idempotent. */
  close(): Promise<void>
}

/** Largest request body read (the served endpoints are GET-only; anything beyond is dropped). */
const MAX_BODY_BYTES = 64 * 1024

/**
 * Serves `handler` on `127.0.0.1`, port 0 (a free port chosen by the OS).
 *
 * @param handler The Web handler.
 */
export async function serveOnLoopback(
  handler: (request: Request) => Promise<Response>,
): Promise<LoopbackServer> {
  const http = await import('node:http')
  let requests = 0
  const server = http.createServer((req, res) => {
    requests++
    const abort = new AbortController()
    res.on('close', () => abort.abort(new Error('client closed the connection')))
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      else if (value !== undefined) headers.set(name, value)
    }
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) req.destroy()
    })
    const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`
    let request: Request
    try {
      request = new Request(url, { method: req.method, headers, signal: abort.signal })
    } catch {
      res.writeHead(400).end()
      return
    }
    handler(request).then(
      async (response) => {
        const body = new Uint8Array(await response.arrayBuffer())
        if (res.destroyed) return
        res.writeHead(response.status, Object.fromEntries(response.headers))
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      () => {
        if (!res.destroyed && !res.headersSent) res.writeHead(500).end()
        else res.destroy()
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
