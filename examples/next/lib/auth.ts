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

/** CORS for the browser app (`CORS_ORIGIN`), applied by proxy.ts; undefined: no CORS headers. */
export const cors = env.cors
