import { NextRequest } from 'next/server'
import type { AuthError } from 'bearer-guard'
import { withAuth, type WithAuthOptions } from 'bearer-guard/next'
import { CUSTOM, type Harness } from '../conformance-cases.js'

export const nextHarness: Harness = {
  name: 'next',
  transport: 'route handlers called with real NextRequest objects (in process)',
  async start({ verifier, downVerifier, ran }) {
    const onError = (error: AuthError) =>
      Response.json(CUSTOM.body(error), { status: CUSTOM.status, headers: [[...CUSTOM.header]] })
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
    }
    return {
      async fetch(path, authorization) {
        const headers: HeadersInit = authorization === undefined ? {} : { authorization }
        const request = new NextRequest(`http://localhost:3000${path}`, { headers })
        return (routes[path] as (typeof routes)[string])(request, { params: Promise.resolve({}) })
      },
      close: async () => {},
    }
  },
}
