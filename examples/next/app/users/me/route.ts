/** GET /users/me — any valid access token. `withAuth` runs the handler only when the token verifies. */
import { withAuth } from 'bearer-guard/next'
import { trustProxy, verifier } from '../../../lib/auth'

export const GET = withAuth(
  async (_request, { auth }) => Response.json({ username: auth.subject, roles: auth.roles }),
  {
    verifier,
    trustProxy, // the URL the client called, which DPoP proofs name (lib/auth.ts)
  },
)
