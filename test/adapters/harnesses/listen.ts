/** Serving a Node request listener on 127.0.0.1:0, and a client for it. */
import { createServer, request, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { App, RequestInit } from '../conformance-cases.js'

/**
 * A GET (or `init.method`) over a real socket with `node:http`: an array `authorization` (or `dpop`)
 * goes out as that many header lines (`fetch` would join them into one), each value as Latin-1 bytes.
 * The answer as a `Response`.
 */
export function get(url: string, authorization?: string | readonly string[], dpop?: string | readonly string[], init: RequestInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: false, headers: init.headers })
    if (authorization !== undefined) {
      for (const value of typeof authorization === 'string' ? [authorization] : authorization) {
        req.appendHeader('authorization', value)
      }
    }
    for (const value of dpop === undefined ? [] : typeof dpop === 'string' ? [dpop] : dpop) req.appendHeader('dpop', value)
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const headers = new Headers()
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string)
        }
        const status = res.statusCode as number
        // a Response has no body for these statuses
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks)
        resolve(new Response(body, { status, headers }))
      })
    })
    req.end()
  })
}

/** A client for an app listening at `base`. */
export function client(base: string, close: () => Promise<void>): App {
  return { url: (path) => base + path, fetch: (path, authorization, dpop, init) => get(base + path, authorization, dpop, init), close }
}

/** Listens on 127.0.0.1, port 0. */
export async function listen(listener: RequestListener): Promise<App> {
  const server: Server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return client(`http://127.0.0.1:${port}`, () => new Promise((r) => server.close(() => r())))
}
