import express, { type Request, type Response } from 'express'
import type { AuthError } from 'bearer-guard'
import { requireAuth, requireClaims, requireRole, requireScopes } from 'bearer-guard/express'
import { CUSTOM, type Harness } from '../conformance-cases.js'
import { listen } from './listen.js'

export const expressHarness: Harness = {
  name: 'express',
  transport: 'http.Server on 127.0.0.1:0',
  async start({ verifier, downVerifier, ran }) {
    const onError = (error: AuthError, _req: Request, res: Response) =>
      res
        .status(CUSTOM.status)
        .set(...CUSTOM.header)
        .json(CUSTOM.body(error))
    const handler = (route: string) => (req: Request, res: Response) => {
      ran(route)
      res.json({ route, sub: req.auth?.subject ?? null })
    }
    const auth = requireAuth(verifier)
    const app = express()
    app.get('/user', auth, handler('user'))
    app.get('/admin', auth, requireRole('admin'), handler('admin'))
    app.get('/scoped', auth, requireScopes(['orders:read', 'orders:write']), handler('scoped'))
    app.get('/tenant', auth, requireClaims({ tenant: 'acme' }), handler('tenant'))
    app.get('/optional', requireAuth(verifier, { optional: true }), handler('optional'))
    app.get('/realm', requireAuth(verifier, { realm: 'orders' }), handler('realm'))
    app.get('/hooked', requireAuth(verifier, { onError }), handler('hooked'))
    app.get('/hooked-role', auth, requireRole('admin', { onError }), handler('hooked-role'))
    app.get('/down', requireAuth(downVerifier), handler('down'))
    return listen(app)
  },
}
