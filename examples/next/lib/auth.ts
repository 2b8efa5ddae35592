/**
 * The one verifier of this Next.js app, shared by its route handlers (a module is evaluated once
 * per server bundle, so the JWKS cache and the revocation copy are shared too).
 */
import { createVerifier } from 'bearer-guard'
import { resourceSettings } from '../../shared/settings'

const env = resourceSettings(3005)

export const verifier = createVerifier({
  issuer: env.authUrl, // trust tokens issued by the auth service…
  audience: env.audience, // …for this API…
  tokenType: 'at+jwt', // …and only access tokens (RFC 9068), never refresh or ID tokens
  ...env.keySource, // the seed's HS256 secret, when AUTH_SECRET_KEY is set
  revocation: env.revocation, // jtis revoked at the auth service
  dpop: env.dpop, // DPoP-bound tokens only with a proof of their key (RFC 9449)
})

/**
 * The proxy's own verifier: the same trust, but DPoP proofs remembered in its own memory. The proxy
 * and then the route check every request, so one proof is verified twice; with a replay store
 * shared by both (Redis, `REDIS_URL`), the route's check would see the proxy's mark as a replay.
 * The routes' verifier keeps the shared store: a proof replayed to another instance is refused there.
 */
export const proxyVerifier = createVerifier({
  issuer: env.authUrl,
  audience: env.audience,
  tokenType: 'at+jwt',
  ...env.keySource,
  revocation: env.revocation,
  dpop: { mode: env.dpop.mode },
})

/**
 * `request.url` under `next start` names Next's own host (`http://localhost:<port>/…`), not the one
 * the client called, and a DPoP proof names the URL the client called (`htu`): take the host from
 * `X-Forwarded-Host`, which Next sets from the `Host` header when no proxy in front set it. In
 * production, put a proxy in front that sets `X-Forwarded-Host`/`-Proto` (docs/adapters/proxies.md).
 */
export const trustProxy = true

/** CORS for the browser app (`CORS_ORIGIN`), applied by proxy.ts; undefined: no CORS headers. */
export const cors = env.cors
