import express, { type Request, type Response } from 'express'
// Express 4, installed as the alias `express4`: the adapter supports both majors
import express4 from 'express4'
import type { AuthError } from 'bearer-guard'
import { protectedResource, requireAuth, requireClaims, requireRole, requireScopes } from 'bearer-guard/express'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Harness } from '../conformance-cases.js'
import { listen } from './listen.js'

/** The same routes on Express 5 (`express`) or Express 4 (`express4`). */
function expressHarnessOf(name: Harness['name'], create: () => express.Express): Harness {
  return {
  name,
  transport: 'http.Server on 127.0.0.1:0',
  async start({ verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }) {
    const onError = (error: AuthError, _req: Request, res: Response) =>
      res
        .status(CUSTOM.status)
        .set(...CUSTOM.header)
        .json(CUSTOM.body(error))
    const onFailure = (error: AuthError) => failed(error.code)
    const handler = (route: string) => (req: Request, res: Response) => {
      ran(route)
      res.json({ route, sub: req.auth?.subject ?? null })
    }
    const auth = requireAuth(verifier)
    const app = create()
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
    return listen(app)
  },
  }
}

export const expressHarness = expressHarnessOf('express', () => express())
export const express4Harness = expressHarnessOf('express 4', () => express4())
