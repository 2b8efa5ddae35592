import Koa, { type Middleware, type ParameterizedContext } from 'koa'
import compose from 'koa-compose'
import type { AuthError } from 'bearer-guard'
import { protectedResource, requireAuth, requireClaims, requireRole, requireScopes } from 'bearer-guard/koa'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Harness } from '../conformance-cases.js'
import { listen } from './listen.js'

export const koaHarness: Harness = {
  name: 'koa',
  transport: 'http.Server on 127.0.0.1:0',
  async start({ verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }) {
    const onError = (error: AuthError, ctx: ParameterizedContext) => {
      ctx.status = CUSTOM.status
      ctx.set(...CUSTOM.header)
      ctx.body = CUSTOM.body(error)
    }
    const onFailure = (error: AuthError) => failed(error.code)
    const handler =
      (route: string): Middleware =>
      (ctx) => {
        ran(route)
        ctx.body = { route, sub: ctx.state.auth?.subject ?? null }
      }
    const auth = requireAuth(verifier)
    const routes: Record<string, Middleware[]> = {
      '/user': [auth],
      '/admin': [auth, requireRole('admin')],
      '/scoped': [auth, requireScopes(['orders:read', 'orders:write'])],
      '/tenant': [auth, requireClaims({ tenant: 'acme' })],
      '/optional': [requireAuth(verifier, { optional: true })],
      '/realm': [requireAuth(verifier, { realm: 'orders' })],
      '/hooked': [requireAuth(verifier, { onError })],
      '/hooked-role': [auth, requireRole('admin', { onError })],
      '/down': [requireAuth(downVerifier)],
      '/inherit': [requireAuth(verifier, { realm: 'orders', onFailure }), requireScopes('orders:write')],
      '/inherit-hooked': [requireAuth(verifier, { onError, onFailure }), requireRole('admin')],
      '/inherit-own': [
        requireAuth(verifier, { realm: 'orders', onFailure }),
        requireRole('admin', { realm: 'admin' }),
      ],
      '/optional-role': [requireAuth(verifier, { optional: true, realm: 'orders' }), requireRole('admin')],
      '/foreign-optional': [requireAuth(foreignVerifier, { optional: true })],
      '/dpop-nonce': [requireAuth(nonceVerifier)],
      '/metadata': [requireAuth(verifier, { resourceMetadata: METADATA_URL })],
      '/metadata-scoped': [requireAuth(verifier, { resourceMetadata: METADATA_URL }), requireScopes('orders:write')],
      '/metadata-resource': [requireAuth(resourceVerifier, { resourceMetadata: true })],
      '/metadata-request': [requireAuth(verifier, { resourceMetadata: true })],
    }
    const app = new Koa()
    app.use(protectedResource(PROTECTED_RESOURCE))
    // a minimal router: the path's chain, then its handler (koa-compose, as @koa/router does)
    app.use((ctx, next) => {
      const chain = routes[ctx.path]
      return chain ? compose([...chain, handler(ctx.path.slice(1))])(ctx, next) : next()
    })
    return listen(app.callback())
  },
}
