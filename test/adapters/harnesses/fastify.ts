import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { AuthError } from 'bearer-guard'
import bearerGuard, {
  protectedResource,
  requireAuth,
  requireClaims,
  requireRole,
  requireScopes,
} from 'bearer-guard/fastify'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Harness } from '../conformance-cases.js'
import { client } from './listen.js'

export const fastifyHarness: Harness = {
  name: 'fastify',
  transport: 'app.listen on 127.0.0.1:0',
  async start({ verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }) {
    const onError = (error: AuthError, _req: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(CUSTOM.status)
        .header(...CUSTOM.header)
        .send(CUSTOM.body(error))
    const onFailure = (error: AuthError) => failed(error.code)
    const handler = (route: string) => async (req: FastifyRequest) => {
      ran(route)
      return { route, sub: req.auth?.subject ?? null }
    }
    const app = Fastify()
    await app.register(bearerGuard, { verifier })
    await app.register(protectedResource(PROTECTED_RESOURCE))
    const auth = app.requireAuth()
    app.get('/user', { preHandler: auth }, handler('user'))
    app.get('/admin', { preHandler: [auth, requireRole('admin')] }, handler('admin'))
    app.get(
      '/scoped',
      { preHandler: [auth, requireScopes(['orders:read', 'orders:write'])] },
      handler('scoped'),
    )
    app.get('/tenant', { preHandler: [auth, requireClaims({ tenant: 'acme' })] }, handler('tenant'))
    app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, handler('optional'))
    app.get('/realm', { preHandler: app.requireAuth({ realm: 'orders' }) }, handler('realm'))
    app.get('/hooked', { preHandler: app.requireAuth({ onError }) }, handler('hooked'))
    app.get(
      '/hooked-role',
      { preHandler: [auth, requireRole('admin', { onError })] },
      handler('hooked-role'),
    )
    app.get('/down', { onRequest: requireAuth(downVerifier) }, handler('down'))
    app.get(
      '/inherit',
      { preHandler: [app.requireAuth({ realm: 'orders', onFailure }), requireScopes('orders:write')] },
      handler('inherit'),
    )
    app.get(
      '/inherit-hooked',
      { preHandler: [app.requireAuth({ onError, onFailure }), requireRole('admin')] },
      handler('inherit-hooked'),
    )
    app.get(
      '/inherit-own',
      {
        preHandler: [
          app.requireAuth({ realm: 'orders', onFailure }),
          requireRole('admin', { realm: 'admin' }),
        ],
      },
      handler('inherit-own'),
    )
    app.get(
      '/optional-role',
      { preHandler: [app.requireAuth({ optional: true, realm: 'orders' }), requireRole('admin')] },
      handler('optional-role'),
    )
    app.get(
      '/foreign-optional',
      { preHandler: requireAuth(foreignVerifier, { optional: true }) },
      handler('foreign-optional'),
    )
    app.get('/dpop-nonce', { preHandler: requireAuth(nonceVerifier) }, handler('dpop-nonce'))
    app.get('/metadata', { preHandler: app.requireAuth({ resourceMetadata: METADATA_URL }) }, handler('metadata'))
    app.get(
      '/metadata-scoped',
      { preHandler: [app.requireAuth({ resourceMetadata: METADATA_URL }), requireScopes('orders:write')] },
      handler('metadata-scoped'),
    )
    app.get(
      '/metadata-resource',
      { preHandler: requireAuth(resourceVerifier, { resourceMetadata: true }) },
      handler('metadata-resource'),
    )
    app.get('/metadata-request', { preHandler: app.requireAuth({ resourceMetadata: true }) }, handler('metadata-request'))
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    return client(base, () => app.close())
  },
}
