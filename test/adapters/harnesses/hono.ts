import { serve } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import type { AuthError } from 'bearer-guard'
import { protectedResource, requireAuth, requireClaims, requireRole, requireScopes } from 'bearer-guard/hono'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Harness } from '../conformance-cases.js'
import { client } from './listen.js'

export const honoHarness: Harness = {
  name: 'hono',
  transport: '@hono/node-server on 127.0.0.1:0',
  async start({ verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }) {
    const onError = (error: AuthError, c: Context) =>
      c.json(CUSTOM.body(error), 418, { [CUSTOM.header[0]]: CUSTOM.header[1] })
    const onFailure = (error: AuthError) => failed(error.code)
    const handler =
      (route: string) => (c: Context<{ Variables: { auth?: { subject?: string } } }>) => {
        ran(route)
        return c.json({ route, sub: c.get('auth')?.subject ?? null })
      }
    const auth = requireAuth(verifier)
    const app = new Hono()
    app.use(protectedResource(PROTECTED_RESOURCE))
    app.get('/user', auth, handler('user'))
    app.get('/admin', auth, requireRole('admin'), handler('admin'))
    app.get('/scoped', auth, requireScopes(['orders:read', 'orders:write']), handler('scoped'))
    app.get('/tenant', auth, requireClaims({ tenant: 'acme' }), handler('tenant'))
    app.get('/optional', requireAuth(verifier, { optional: true }), handler('optional'))
    app.get('/realm', requireAuth(verifier, { realm: 'orders' }), handler('realm'))
    app.get('/hooked', requireAuth(verifier, { onError }), handler('hooked'))
    app.get('/hooked-role', auth, requireRole('admin', { onError }), handler('hooked-role'))
    app.get('/down', requireAuth(downVerifier), handler('down'))
    app.get(
      '/inherit',
      requireAuth(verifier, { realm: 'orders', onFailure }),
      requireScopes('orders:write'),
      handler('inherit'),
    )
    app.get(
      '/inherit-hooked',
      requireAuth(verifier, { onError, onFailure }),
      requireRole('admin'),
      handler('inherit-hooked'),
    )
    app.get(
      '/inherit-own',
      requireAuth(verifier, { realm: 'orders', onFailure }),
      requireRole('admin', { realm: 'admin' }),
      handler('inherit-own'),
    )
    app.get(
      '/optional-role',
      requireAuth(verifier, { optional: true, realm: 'orders' }),
      requireRole('admin'),
      handler('optional-role'),
    )
    app.get('/foreign-optional', requireAuth(foreignVerifier, { optional: true }), handler('foreign-optional'))
    app.get('/dpop-nonce', requireAuth(nonceVerifier), handler('dpop-nonce'))
    app.get('/metadata', requireAuth(verifier, { resourceMetadata: METADATA_URL }), handler('metadata'))
    app.get(
      '/metadata-scoped',
      requireAuth(verifier, { resourceMetadata: METADATA_URL }),
      requireScopes('orders:write'),
      handler('metadata-scoped'),
    )
    app.get('/metadata-resource', requireAuth(resourceVerifier, { resourceMetadata: true }), handler('metadata-resource'))
    app.get('/metadata-request', requireAuth(verifier, { resourceMetadata: true }), handler('metadata-request'))
    const { base, close } = await new Promise<{ base: string; close: () => Promise<void> }>(
      (resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          resolve({
            base: `http://127.0.0.1:${info.port}`,
            close: () => new Promise((r) => server.close(() => r())),
          }),
        )
      },
    )
    return client(base, close)
  },
}
