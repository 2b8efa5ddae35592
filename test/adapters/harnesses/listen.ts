/** Serving a Node request listener on 127.0.0.1:0, and a client for it. */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { App } from '../conformance-cases.js'

/** A client for an app listening at `base`. */
export function client(base: string, close: () => Promise<void>): App {
  return {
    fetch: (path, authorization) =>
      fetch(base + path, { headers: authorization === undefined ? {} : { authorization } }),
    close,
  }
}

/** Listens on 127.0.0.1, port 0. */
export async function listen(listener: RequestListener): Promise<App> {
  const server: Server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return client(`http://127.0.0.1:${port}`, () => new Promise((r) => server.close(() => r())))
}
