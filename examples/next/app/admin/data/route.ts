/** GET /admin/data — role `admin`. The proxy checks it first; the route checks again (defence in depth). */
import { withAuth } from 'bearer-guard/next'
import { trustProxy, verifier } from '../../../lib/auth'

export const GET = withAuth(
  async (_request, { auth }) =>
    Response.json({ message: `Welcome, Admin ${auth.subject}! Here is sensitive data.`, data: [1, 2, 3] }),
  { verifier, roles: 'admin', trustProxy },
)
