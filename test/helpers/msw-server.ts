/**
 * msw with the network blocked, except loopback: the role of jose's `disableNetConnect()`.
 *
 * msw's `onUnhandledRequest: 'error'` also blocks `fetch` to a test's own 127.0.0.1 server, so
 * unhandled requests to loopback hosts pass through and every other host is an error.
 *
 * @example
 * ```ts
 * const server = setupMswServer()           // registers beforeAll/afterEach/afterAll hooks
 * server.use(...(await issuer.mswHandlers()))
 * ```
 */
import { setupServer, type SetupServer } from 'msw/node'
import type { RequestHandler } from 'msw'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(url: string | URL): boolean {
  const { hostname } = new URL(url)
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  )
}

/**
 * A started msw server, reset after each test and closed after all. Call at the top of a file or
 * `describe`.
 *
 * @param handlers Handlers installed for the whole file.
 */
export function setupMswServer(...handlers: RequestHandler[]): SetupServer {
  const server = setupServer(...handlers)
  beforeAll(() => {
    server.listen({
      onUnhandledRequest(request, print) {
        if (!isLoopback(request.url)) print.error()
      },
    })
  })
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())
  return server
}
