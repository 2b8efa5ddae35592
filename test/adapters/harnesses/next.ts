import { NextRequest } from 'next/server'
import type { AuthError } from 'bearer-guard'
import { protectedResource, withAuth, type WithAuthOptions } from 'bearer-guard/next'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Harness } from '../conformance-cases.js'

/** The origin of the requests the Next.js harness builds. */
const ORIGIN = 'http://localhost:3000'

export const nextHarness: Harness = {
  name: 'next',
  transport: 'route handlers called with real NextRequest objects (in process)',
  async start({ verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }) {
    const onError = (error: AuthError) =>
      Response.json(CUSTOM.body(error), { status: CUSTOM.status, headers: [[...CUSTOM.header]] })
    const onFailure = (error: AuthError) => failed(error.code)
    const route = (
      name: string,
      options: Omit<WithAuthOptions, 'verifier'> & { verifier?: WithAuthOptions['verifier'] } = {},
    ) =>
      withAuth(
        async (_req, { auth }) => {
          ran(name)
          return Response.json({ route: name, sub: auth?.subject ?? null })
        },
        { verifier, ...options },
      )
    const routes: Record<string, ReturnType<typeof route>> = {
      '/user': route('user'),
      '/admin': route('admin', { roles: 'admin' }),
      '/scoped': route('scoped', { scopes: ['orders:read', 'orders:write'] }),
      '/tenant': route('tenant', { claims: { tenant: 'acme' } }),
      '/optional': route('optional', { optional: true }),
      '/realm': route('realm', { realm: 'orders' }),
      '/hooked': route('hooked', { onError }),
      '/hooked-role': route('hooked-role', { roles: 'admin', onError }),
      '/down': route('down', { verifier: downVerifier }),
      '/inherit': route('inherit', { realm: 'orders', onFailure, scopes: 'orders:write' }),
      '/inherit-hooked': route('inherit-hooked', { onError, onFailure, roles: 'admin' }),
      '/inherit-own': route('inherit-own', { realm: 'admin', onFailure, roles: 'admin' }),
      '/optional-role': route('optional-role', { optional: true, realm: 'orders', roles: 'admin' }),
      '/foreign-optional': route('foreign-optional', { verifier: foreignVerifier, optional: true }),
      '/dpop-nonce': route('dpop-nonce', { verifier: nonceVerifier }),
      '/metadata': route('metadata', { resourceMetadata: METADATA_URL }),
      '/metadata-scoped': route('metadata-scoped', { resourceMetadata: METADATA_URL, scopes: 'orders:write' }),
      '/metadata-resource': route('metadata-resource', { verifier: resourceVerifier, resourceMetadata: true }),
      '/metadata-request': route('metadata-request', { resourceMetadata: true }),
    }
    // app/.well-known/oauth-protected-resource/[[...path]]/route.ts
    const wellKnown = protectedResource(PROTECTED_RESOURCE) as unknown as Record<string, (request: NextRequest) => Response>
    return {
      url: (path) => `${ORIGIN}${path}`,
      async fetch(path, authorization, dpop, init = {}) {
        // several lines joined by Headers (", "), as a Web runtime gives them; Next's own Node
        // server keeps only the first line (see next-server.test.ts). Values are ByteStrings.
        const { host = 'localhost:3000', ...others } = init.headers ?? {}
        const headers = new Headers(others)
        for (const value of authorization === undefined ? [] : [authorization].flat()) {
          headers.append('authorization', value)
        }
        for (const value of dpop === undefined ? [] : [dpop].flat()) headers.append('dpop', value)
        const method = init.method ?? 'GET'
        const request = new NextRequest(`http://${host}${path}`, { headers, method })
        const pathname = request.nextUrl.pathname
        if (pathname.startsWith('/.well-known/oauth-protected-resource')) return (wellKnown[method] as (r: NextRequest) => Response)(request)
        const handle = routes[pathname]
        // Next answers a path without a route 404, and HEAD for a GET route by itself
        if (!handle) return new Response(null, { status: 404 })
        return handle(request, { params: Promise.resolve({}) })
      },
      close: async () => {},
    }
  },
}
