/**
 * Next.js 16 proxy (formerly middleware): rejects requests to protected paths before any route
 * runs, and strips identity headers a client might try to forge. Route handlers still check with
 * `withAuth`: a proxy is a first line of defence, not the only one.
 *
 * It also does CORS for the browser app (examples/web; `CORS_ORIGIN`): Next has no CORS option, so
 * preflights are answered here, before authentication (a preflight carries no token), and every
 * answer, 401 and 403 included, gets the headers the page needs to read it.
 */
import { authProxy } from 'bearer-guard/next'
import type { NextRequest } from 'next/server'
import { cors, proxyVerifier, trustProxy } from './lib/auth'

const auth = authProxy({
  verifier: proxyVerifier, // its own DPoP replay memory (lib/auth.ts)
  trustProxy,
  rules: [{ path: '/admin/*', roles: 'admin' }, { path: '/users/*' }],
})

export async function proxy(request: NextRequest): Promise<Response> {
  const allowed = cors && request.headers.get('origin') === cors.origin
  if (
    cors &&
    request.method === 'OPTIONS' &&
    request.headers.has('access-control-request-method')
  ) {
    const headers = new Headers({ Vary: 'Origin' })
    if (allowed) {
      headers.set('Access-Control-Allow-Origin', cors.origin)
      headers.set('Access-Control-Allow-Methods', cors.methods.join(','))
      headers.set('Access-Control-Allow-Headers', cors.allowedHeaders.join(','))
      headers.set('Access-Control-Max-Age', String(cors.maxAge))
    }
    return new Response(null, { status: 204, headers })
  }
  const response = await auth(request)
  if (cors) {
    response.headers.append('Vary', 'Origin')
    if (allowed) {
      response.headers.set('Access-Control-Allow-Origin', cors.origin)
      response.headers.set('Access-Control-Expose-Headers', cors.exposedHeaders.join(','))
    }
  }
  return response
}

export const config = { matcher: ['/users/:path*', '/admin/:path*'] }
