/**
 * The verifiers under test, each built the way its documentation recommends for a resource server,
 * with issuer, audience and the algorithm checked. Every `verify(token)` resolves on success and
 * rejects (or throws) on failure.
 */
import { JwtVerifier } from 'aws-jwt-verify'
import { auth as auth0 } from 'express-oauth2-jwt-bearer'
import { createVerifier as fastJwtVerifier } from 'fast-jwt'
import { createRemoteJWKSet, importJWK, jwtVerify } from 'jose'
import type { Verifier } from '../../src/index.js'
import { AUDIENCE, ISSUER, type AlgFixture, type BenchAlg } from './fixtures.js'
import { loadBearerGuard } from './target.js'

export type VerifyFn = (token: string) => unknown

export interface Contender {
  id: string
  label: string
  /** Algorithms it supports. */
  supports(alg: BenchAlg): boolean
  /** Builds a fresh verifier (fresh caches), warm: keys fetched and imported. */
  create(f: AlgFixture, jwksUri: string): Promise<VerifyFn>
}

const ALL = (): boolean => true
const ASYM = (alg: BenchAlg): boolean => alg !== 'HS256'

async function bearerGuard(f: AlgFixture, jwksUri: string, cache: boolean): Promise<VerifyFn> {
  return bearerGuardVerifier(await loadBearerGuard(), f, jwksUri, cache ? undefined : false)
}

/**
 * A warm bearer-guard verifier of `core` (this tree's, or another checkout's `src/index.ts` for an
 * A/B) for the fixture, as the benches build it: issuer, audience, the algorithm, and the JWKS (HS256:
 * the secret); `cache` as the option (`undefined`: the default).
 */
export async function bearerGuardVerifier(
  core: Pick<typeof import('../../src/index.js'), 'createVerifier'>,
  f: AlgFixture,
  jwksUri: string,
  cache?: false | { max: number },
): Promise<VerifyFn> {
  const common = { issuer: ISSUER, audience: AUDIENCE, algorithms: [f.alg], ...(cache === undefined ? {} : { cache }) }
  const verifier: Verifier<unknown> =
    f.alg === 'HS256'
      ? core.createVerifier({ ...common, secret: new Uint8Array(f.secret as Buffer) })
      : core.createVerifier({ ...common, jwksUri })
  await verifier.warmUp()
  return (token) => verifier.verifyAccessToken(token)
}

export const CONTENDERS: readonly Contender[] = [
  {
    id: 'bg',
    label: 'bearer-guard `verifyAccessToken` (JWKS, default options: cache on)',
    supports: ALL,
    create: (f, uri) => bearerGuard(f, uri, true),
  },
  {
    id: 'bg-nocache',
    label: 'bearer-guard, `cache: false`',
    supports: ALL,
    create: (f, uri) => bearerGuard(f, uri, false),
  },
  {
    id: 'fastjwt',
    label: 'fast-jwt, no cache (static key)',
    supports: ALL,
    create: async (f) => fastJwt(f, false),
  },
  {
    id: 'fastjwt-cache',
    label: 'fast-jwt, `cache: true` (static key)',
    supports: ALL,
    create: async (f) => fastJwt(f, true),
  },
  {
    id: 'aws',
    label: 'aws-jwt-verify `JwtVerifier` (JWKS cached)',
    // aws-jwt-verify 5: RS*, ES*, EdDSA; no PS*, no HS*
    supports: (alg) => alg !== 'PS256' && alg !== 'HS256',
    create: async (f, jwksUri) => {
      const verifier = JwtVerifier.create({ issuer: ISSUER, audience: AUDIENCE, jwksUri })
      verifier.cacheJwks({ keys: [f.publicJwk as never] })
      return (token) => verifier.verify(token)
    },
  },
  {
    id: 'jose',
    label: 'jose 6 `jwtVerify`, static key',
    supports: ALL,
    create: async (f) => {
      const key = f.alg === 'HS256' ? new Uint8Array(f.secret as Buffer) : await importJWK(f.publicJwk as never, f.alg)
      const opts = { issuer: ISSUER, audience: AUDIENCE, algorithms: [f.alg] }
      return (token) => jwtVerify(token, key, opts)
    },
  },
  {
    id: 'jose-remote',
    label: 'jose 6 `jwtVerify` + `createRemoteJWKSet` (warm)',
    supports: ASYM,
    create: async (f, jwksUri) => {
      const jwks = createRemoteJWKSet(new URL(jwksUri))
      await jwks.reload()
      const opts = { issuer: ISSUER, audience: AUDIENCE, algorithms: [f.alg] }
      return (token) => jwtVerify(token, jwks, opts)
    },
  },
  {
    id: 'auth0',
    label: 'express-oauth2-jwt-bearer `auth()` (called with a minimal req)',
    supports: ALL,
    create: async (f, jwksUri) => {
      const middleware = auth0(
        f.alg === 'HS256'
          ? { issuer: ISSUER, audience: AUDIENCE, secret: (f.secret as Buffer).toString(), tokenSigningAlg: 'HS256' }
          : { issuer: ISSUER, audience: AUDIENCE, jwksUri, tokenSigningAlg: f.alg },
      )
      return (token) => callExpressMiddleware(middleware as never, token)
    },
  },
]

function fastJwt(f: AlgFixture, cache: boolean): VerifyFn {
  const key = f.alg === 'HS256' ? (f.secret as Buffer) : (f.publicPem as string)
  return fastJwtVerifier({ key, algorithms: [f.alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache })
}

type Middleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => unknown

/** What Express hands a middleware, reduced to what express-oauth2-jwt-bearer reads. */
export function callExpressMiddleware(middleware: Middleware, token: string): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, host: 'api.example.com' }
  const req = {
    headers,
    query: {},
    body: undefined,
    method: 'GET',
    protocol: 'http',
    url: '/orders',
    originalUrl: '/orders',
    is: () => false,
    get: (name: string) => headers[name.toLowerCase()],
    auth: undefined as unknown,
  }
  return new Promise((resolve, reject) => {
    middleware(req, {}, (err) => (err ? reject(err) : resolve(req.auth)))
  })
}
