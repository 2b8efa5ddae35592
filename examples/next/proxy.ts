/**
 * Next.js 16 proxy (formerly middleware): rejects requests to protected paths before any route
 * runs, and strips identity headers a client might try to forge. Route handlers still check with
 * `withAuth`: a proxy is a first line of defence, not the only one.
 */
import { authProxy } from 'bearer-guard/next'
import { verifier } from './lib/auth'

export const proxy = authProxy({
  verifier,
  rules: [{ path: '/admin/*', roles: 'admin' }, { path: '/users/*' }],
})

export const config = { matcher: ['/users/:path*', '/admin/:path*'] }
