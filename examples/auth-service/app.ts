/**
 * The auth center of the seed (§四.1), as an OAuth2 authorization server: it logs users in, issues
 * JWT access tokens and opaque refresh tokens, rotates and revokes them, and publishes what
 * resource services need to verify tokens on their own (discovery, JWKS, revoked jtis).
 *
 * Endpoints
 *   POST /token            grant_type=password (the seed's login) or grant_type=refresh_token;
 *                          `resource` (RFC 8707) picks the token's audience; a `DPoP` proof
 *                          (RFC 9449) binds the tokens to the client's key
 *   POST /refresh_token    the seed's refresh: `Authorization: Bearer <refresh token>`
 *   POST /revoke           RFC 7009 token revocation (refresh or access token)
 *   POST /introspect       RFC 7662 introspection, for authenticated resource-server clients only
 *   POST /logout           ends the session of the access token presented
 *   GET  /.well-known/openid-configuration, /.well-known/oauth-authorization-server, /jwks.json
 *   GET  /revocations?after=<cursor>   revoked access-token jtis, for resource services to poll
 *   GET  /app/             the browser app, in cookie mode (`REFRESH_TOKEN_TRANSPORT=cookie`,
 *                          see browser.ts): refresh tokens then travel only in an HttpOnly cookie
 *
 * Written with Hono (a Web-standard `fetch` handler) served by @hono/node-server.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { serve, type ServerType } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose'
import {
  clearRefreshCookie,
  mountWebApp,
  readRefreshCookie,
  setRefreshCookie,
  webAppOnly,
} from './browser.js'
import type { AuthServiceConfig } from './config.js'
import { createDpopChecker, DpopError, type CheckedProof } from './dpop.js'
import { OAuthError } from './errors.js'
import { authenticateClient, introspectionAnswer, INTROSPECTION_JWT, wantsJwt } from './introspection.js'
import { createKeyRing, createSecretKeyRing, type KeyRing } from './keys.js'
import { createRateLimiter } from './rate-limit.js'
import { matchResource, resourceProblem } from './resources.js'
import { openTokenStore, type RevokedJti, type TokenStore } from './store.js'
import { createDemoUsers, MAX_PASSWORD_BYTES, type User, type UserDirectory } from './users.js'

export { OAuthError }

/** Limits on what a request may carry. Everything larger is refused before any work is done. */
const MAX_BODY_BYTES = 4096
const MAX_PARAM_CHARS = 512 // usernames, client ids, scopes, refresh tokens (43 chars) and JWTs (<1 KiB)
const MAX_JWT_CHARS = 2048
/** A compact JWS (three base64url parts); anything else presented as an access token is opaque. */
const JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/

export interface AuthServiceDeps {
  config: AuthServiceConfig
  /** Returns the issuer URL (known once the server listens). */
  issuer: () => string
  users: UserDirectory
  keys: KeyRing
  store: TokenStore
  /** Called with every newly revoked access-token jti, e.g. to copy it to Redis. */
  publishRevocations?: (revoked: RevokedJti[]) => Promise<void>
}

/** The HTTP routes. `startAuthService` below builds the dependencies and listens. */
export function createAuthApp(deps: AuthServiceDeps): Hono {
  const { config, users, keys, store } = deps
  const app = new Hono()
  const limiter = createRateLimiter(config.rateLimitPerMinute)
  /** Cookie mode: refresh tokens only in an HttpOnly cookie, for the browser app (browser.ts). */
  const cookieMode = config.refreshTokenTransport === 'cookie'
  const dpop = createDpopChecker(config.dpop)
  /** The public URL of one of our endpoints: what a DPoP proof's `htu` must name. */
  const endpoint = (path: string) => `${deps.issuer()}${path}`

  // -- plumbing -------------------------------------------------------------------------------

  app.onError((err, c) => {
    if (err instanceof OAuthError) return oauthError(c, err)
    // log the kind of failure, never the request (it may hold a password or a token)
    config.log(`unexpected ${err.name} on ${c.req.method} ${c.req.path}`)
    return c.json({ error: 'server_error', error_description: 'internal error' }, 500)
  })
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'no such endpoint' }, 404))

  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new OAuthError(413, 'invalid_request', 'request body too large')
    },
  })

  /** Rate limit per client IP. The socket address, never X-Forwarded-For, which anyone can set. */
  const takeBudget = (c: Context) => {
    const ip = getConnInfo(c).remote.address ?? 'unknown'
    const verdict = limiter.take(ip)
    if (!verdict.ok) {
      throw new OAuthError(429, 'slow_down', 'too many requests, retry later', {
        'Retry-After': String(verdict.retryAfter),
      })
    }
  }
  const rateLimited = async (c: Context, next: () => Promise<void>) => {
    takeBudget(c)
    await next()
  }

  /**
   * In cookie mode, the endpoints that set, read or clear the refresh cookie answer only the web
   * app, served from the issuer's own origin (CSRF defence; browser.ts). A no-op in body mode.
   */
  const fromWebApp = cookieMode
    ? webAppOnly(
        () => new URL(deps.issuer()).origin,
        (reason) => {
          throw new OAuthError(403, 'invalid_request', reason)
        },
      )
    : async (_c: Context, next: () => Promise<void>) => next()

  const noStore = (c: Context) => {
    // token responses must not be cached anywhere (RFC 6749 §5.1)
    c.header('Cache-Control', 'no-store')
    c.header('Pragma', 'no-cache')
  }

  // -- discovery --------------------------------------------------------------------------------

  app.get('/', (c) => c.json({ service: 'auth-service', issuer: deps.issuer() }))

  const metadata = (c: Context) => {
    const issuer = deps.issuer()
    return c.json({
      issuer,
      token_endpoint: `${issuer}/token`,
      revocation_endpoint: `${issuer}/revoke`,
      // no jwks_uri in HS256 mode: there is no public key, resource services share the secret
      ...(keys.algorithm === 'HS256' ? {} : { jwks_uri: `${issuer}/jwks.json` }),
      introspection_endpoint: `${issuer}/introspect`,
      grant_types_supported: ['password', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      // RFC 9701: a signed answer when asked with Accept: application/token-introspection+jwt
      introspection_signing_alg_values_supported: [keys.algorithm],
      scopes_supported: ['profile', 'admin', 'tools:read', 'tools:call'],
      // only the password and refresh grants exist here, hence no authorization endpoint
      response_types_supported: [],
      access_token_signing_alg_values_supported: [keys.algorithm],
      dpop_signing_alg_values_supported: dpop.algorithms,
    })
  }
  app.get('/.well-known/openid-configuration', metadata)
  app.get('/.well-known/oauth-authorization-server', metadata) // RFC 8414

  app.get('/jwks.json', (c) => {
    // short cache: the `next` key is already in here, so a rotation never outruns the caches
    c.header('Cache-Control', 'public, max-age=300')
    return c.json(keys.jwks())
  })

  app.get('/revocations', (c) => {
    const after = Number(c.req.query('after') ?? 0)
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new OAuthError(400, 'invalid_request', 'after must be a whole number')
    }
    c.header('Cache-Control', 'no-store')
    return c.json(store.revokedSince(after))
  })

  // -- issuing tokens ---------------------------------------------------------------------------

  /**
   * Issues an access token (RFC 9068 claims) and records its jti under the session family: a JWT,
   * or with `ACCESS_TOKEN_FORMAT=opaque` a random reference stored (hashed) with the same claims.
   * `audience`: the resources it is for (RFC 8707); `jkt`: the DPoP key it is bound to (RFC 9449).
   */
  async function tokenResponse(
    user: User,
    clientId: string,
    scope: string,
    familyId: string,
    refreshToken: string,
    audience: string[],
    jkt: string | undefined,
  ) {
    const now = Math.floor(Date.now() / 1000)
    const ttl = config.clients[clientId]!.accessTokenTtl
    const jti = randomUUID()
    const claims = {
      iss: deps.issuer(),
      aud: audience.length === 1 ? audience[0]! : audience,
      sub: user.username,
      client_id: clientId,
      roles: user.roles,
      scope,
      sid: familyId, // the session (refresh family): /logout ends it
      jti,
      iat: now,
      exp: now + ttl,
      ...(jkt === undefined ? {} : { cnf: { jkt } }),
    }
    let accessToken: string
    if (config.accessTokenFormat === 'opaque') {
      accessToken = randomBytes(32).toString('base64url')
      store.recordOpaqueToken(accessToken, claims)
    } else {
      accessToken = await keys.sign(claims)
    }
    store.recordAccessToken(jti, familyId, now + ttl)
    return {
      access_token: accessToken,
      token_type: jkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: ttl,
      refresh_token: refreshToken,
      scope,
    }
  }

  /**
   * The DPoP proof of a token request (RFC 9449 §5), or undefined without a `DPoP` header. With
   * nonces on, the answer carries a fresh `DPoP-Nonce` whenever the client uses DPoP.
   */
  async function tokenRequestProof(c: Context, path: string): Promise<CheckedProof | undefined> {
    const header = c.req.header('dpop')
    if (header === undefined) return undefined
    const nonce = dpop.nonce()
    if (nonce) c.header('DPoP-Nonce', nonce)
    try {
      return await dpop.check({ header, method: 'POST', url: endpoint(path) })
    } catch (err) {
      throw proofRefused(err, nonce)
    }
  }

  /** A refused proof as an OAuth error: 400 at the token endpoints (RFC 9449 §5, §8). */
  function proofRefused(err: unknown, nonce: string | undefined): unknown {
    if (!(err instanceof DpopError)) return err
    if (err.error === 'temporarily_unavailable') {
      return new OAuthError(503, err.error, err.description, { 'Retry-After': '5' })
    }
    return new OAuthError(400, err.error, err.description, nonce ? { 'DPoP-Nonce': nonce } : {})
  }

  /**
   * The resources a request names (`resource`, RFC 8707; repeatable), matched against `allowed`:
   * the configured ones at login, the granted ones at a refresh (narrowing only). None named: [].
   */
  function requestedResources(params: URLSearchParams, allowed: readonly string[], refresh: boolean): string[] {
    const named = params.getAll('resource')
    const matched = named.map((resource) => {
      if (resource.length > MAX_PARAM_CHARS) {
        throw new OAuthError(400, 'invalid_request', 'parameter too long: resource')
      }
      const problem = resourceProblem(resource)
      if (problem) throw new OAuthError(400, 'invalid_target', problem)
      const match = matchResource(resource, allowed)
      if (!match) {
        throw new OAuthError(400, 'invalid_target', refresh ? 'resource not granted' : 'unknown resource')
      }
      return match
    })
    return [...new Set(matched)]
  }

  /**
   * Answers a token response. In cookie mode the refresh token leaves the JSON body and goes into
   * the HttpOnly cookie, out of reach of the page's JavaScript.
   */
  function sendTokens(c: Context, tokens: Awaited<ReturnType<typeof tokenResponse>>) {
    if (!cookieMode) return c.json(tokens)
    const { refresh_token, ...rest } = tokens
    setRefreshCookie(c, refresh_token, config.refreshTokenTtl)
    return c.json(rest)
  }

  function clientOf(params: URLSearchParams): string {
    const clientId = params.get('client_id') ?? config.defaultClientId
    if (!Object.hasOwn(config.clients, clientId)) {
      throw new OAuthError(401, 'invalid_client', 'unknown client')
    }
    return clientId
  }

  /** The seed's login (resource owner password credentials, RFC 6749 §4.3). */
  async function passwordGrant(params: URLSearchParams, proof: CheckedProof | undefined) {
    const clientId = clientOf(params)
    const username = required(params, 'username')
    const password = required(params, 'password')
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
      throw new OAuthError(400, 'invalid_request', 'password too long')
    }
    // checked before the password, so a bad request costs no scrypt
    const named = requestedResources(params, config.resources, false)
    const resources = named.length > 0 ? named : [config.audience]
    const user = await users.authenticate(username, password)
    // RFC 6749 §5.2 answers bad credentials with 400 invalid_grant (the seed used 401); the same
    // text for "no such user" and "wrong password", so the answer does not reveal which it was
    if (!user) throw new OAuthError(400, 'invalid_grant', 'incorrect username or password')
    const scope = grantedScope(user, params.get('scope'))
    const { familyId, refreshToken } = store.startFamily({
      username: user.username,
      clientId,
      scope,
      resources,
      // RFC 9449 §5: the refresh tokens of a public client are bound to the key of its proof
      ...(proof ? { jkt: proof.jkt } : {}),
    })
    config.log(`login ${user.username} (client ${clientId}${proof ? ', DPoP' : ''})`)
    return tokenResponse(user, clientId, scope, familyId, refreshToken, resources, proof?.jkt)
  }

  /**
   * Rotation: every use of a refresh token returns a new one and invalidates the old. `asBearer`
   * selects how failures are reported: 401 invalid_token with a Bearer challenge for the seed's
   * /refresh_token (the token was sent as a Bearer credential), 400 invalid_grant for /token and
   * for the cookie. `onDead` runs when the token can never be used again (everything but another
   * client's token), so cookie mode can clear the cookie.
   *
   * `proof`: the request's DPoP proof; a family bound to a key needs one with that key, and the new
   * access token is bound to the proof's key. `params` may narrow the audience to some of the
   * granted resources (RFC 8707 §2.2), checked before the token is used up.
   */
  async function refreshGrant(
    refreshToken: string,
    clientId: string,
    asBearer: boolean,
    proof: CheckedProof | undefined,
    params: URLSearchParams,
    onDead: () => void = () => {},
  ) {
    const fail = (description: string, dead = true) => {
      if (dead) onDead()
      return asBearer
        ? new OAuthError(401, 'invalid_token', description, {
            'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
          })
        : new OAuthError(400, 'invalid_grant', description)
    }

    let named: string[] = []
    const result = store.exchange(refreshToken, clientId, {
      jkt: proof?.jkt,
      // validated inside the exchange, before the token is used up: a refused resource costs
      // the client nothing
      narrow: (granted) => {
        named = requestedResources(params, granted.length > 0 ? granted : [config.audience], true)
      },
    })
    if (!result.ok) {
      if (result.reason === 'reused') {
        await deps.publishRevocations?.(result.revokedJtis)
        config.log(
          `refresh token reuse detected: session revoked (${result.revokedJtis.length} access tokens)`,
        )
        throw fail('refresh token reuse detected, session revoked')
      }
      throw fail(
        {
          unknown: 'invalid refresh token',
          expired: 'refresh token expired',
          revoked: 'refresh token revoked',
          wrong_client: 'refresh token was issued to another client',
          key_required: 'refresh token is bound to a DPoP key: send a DPoP proof',
          wrong_key: 'DPoP key does not match the refresh token',
        }[result.reason],
        result.reason !== 'wrong_client', // not burned: still good for its own client
      )
    }
    const { grant } = result
    // read the user again: roles may have changed, or the user may be gone (the seed does this too)
    const user = users.find(grant.username)
    if (!user) throw fail('user no longer exists')
    const granted = grant.resources.length > 0 ? grant.resources : [config.audience]
    const audience = named.length > 0 ? named : granted
    // a bound family's proof has its key (checked above); an unbound one may still ask for a
    // DPoP-bound access token
    return tokenResponse(user, clientId, grant.scope, grant.familyId, result.refreshToken, audience, proof?.jkt)
  }

  app.post('/token', rateLimited, fromWebApp, limitBody, async (c) => {
    noStore(c)
    const params = await readForm(c, { repeatable: ['resource'] })
    const proof = await tokenRequestProof(c, '/token')
    // the seed's form has no grant_type (FastAPI's OAuth2PasswordRequestForm sets it optional)
    const grantType = params.get('grant_type') ?? 'password'
    if (grantType === 'password') return sendTokens(c, await passwordGrant(params, proof))
    if (grantType === 'refresh_token' && cookieMode) {
      // the cookie is scoped to /refresh_token; a refresh token in a form field has leaked
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'refresh tokens are exchanged at /refresh_token with their cookie',
      )
    }
    if (grantType === 'refresh_token') {
      const token = required(params, 'refresh_token')
      return c.json(await refreshGrant(token, clientOf(params), false, proof, params))
    }
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      'grant_type must be password or refresh_token',
    )
  })

  app.post('/refresh_token', rateLimited, fromWebApp, limitBody, async (c) => {
    noStore(c)
    if (cookieMode) {
      // the token comes only from the cookie: an Authorization header is not read at all
      const params = await readForm(c, { optional: true, repeatable: ['resource'] })
      const proof = await tokenRequestProof(c, '/refresh_token')
      const token = readRefreshCookie(c)
      if (!token) throw new OAuthError(400, 'invalid_request', 'no refresh token cookie')
      if (token.length > MAX_PARAM_CHARS) {
        clearRefreshCookie(c)
        throw new OAuthError(400, 'invalid_grant', 'invalid refresh token')
      }
      const tokens = await refreshGrant(token, clientOf(params), false, proof, params, () =>
        clearRefreshCookie(c),
      )
      return sendTokens(c, tokens)
    }
    const token = bearerToken(c.req.header('authorization'), MAX_PARAM_CHARS)
    const params = await readForm(c, { optional: true, repeatable: ['resource'] })
    const proof = await tokenRequestProof(c, '/refresh_token')
    return c.json(await refreshGrant(token, clientOf(params), true, proof, params))
  })

  // -- revocation -------------------------------------------------------------------------------

  /**
   * The claims of an access token this service issued (a JWT it signed, or an opaque token it
   * stored), or undefined when it is not one. `expiredToo`: also accept one that has expired
   * (within the refresh-token lifetime, which no session outlives), to find its session.
   * Revocation is not checked here.
   */
  async function ownAccessToken(token: string, expiredToo = false): Promise<JWTPayload | undefined> {
    if (!JWS.test(token)) {
      const claims = store.findOpaqueToken(token)
      const now = Math.floor(Date.now() / 1000)
      const tolerance = expiredToo ? config.refreshTokenTtl : 0
      return claims && typeof claims.exp === 'number' && claims.exp + tolerance > now
        ? (claims as JWTPayload)
        : undefined
    }
    const material = keys.verificationKeys()
    const options = {
      issuer: deps.issuer(),
      audience: config.resources,
      typ: 'at+jwt',
      algorithms: [keys.algorithm],
      ...(expiredToo ? { clockTolerance: config.refreshTokenTtl } : {}),
    }
    try {
      const { payload } =
        material instanceof Uint8Array
          ? await jwtVerify(token, material, options)
          : await jwtVerify(token, createLocalJWKSet(material), options)
      return typeof payload.jti === 'string' && typeof payload.exp === 'number'
        ? payload
        : undefined
    } catch {
      return undefined
    }
  }

  async function revokeAccess(payload: JWTPayload) {
    const revoked = store.revokeAccessToken(payload.jti!, payload.exp!)
    await deps.publishRevocations?.(revoked)
  }

  async function revokeSession(familyId: string) {
    // (not inlined into `publishRevocations?.(…)`: an optional call skips evaluating its arguments)
    const revoked = store.revokeFamily(familyId)
    await deps.publishRevocations?.(revoked)
  }

  app.post('/revoke', rateLimited, fromWebApp, limitBody, async (c) => {
    const params = await readForm(c)
    const token = required(params, 'token', MAX_JWT_CHARS)
    const clientId = clientOf(params)
    const hint = params.get('token_type_hint')
    // the browser's logout: whatever the token, the refresh cookie goes
    if (cookieMode) clearRefreshCookie(c)
    // RFC 7009 §2.2: answer 200 whether or not the token was known, valid or ours to revoke, so
    // this endpoint tells a caller nothing about a token it holds
    const family = hint === 'access_token' ? undefined : store.familyOf(token)
    if (family) {
      // revoking a refresh token ends its whole session, access tokens included (RFC 7009 §2.1)
      if (family.clientId === clientId) await revokeSession(family.familyId)
      return c.body(null, 200)
    }
    // In cookie mode the client cannot present its refresh token (its JavaScript never sees it), so
    // its access token, even an expired one, stands for the session: revoking it ends the session
    // (RFC 7009 §2.1 lets the server revoke the refresh token of an access token too).
    const payload = await ownAccessToken(token, cookieMode)
    if (payload && payload.client_id === clientId) {
      if (cookieMode && typeof payload.sid === 'string') await revokeSession(payload.sid)
      else await revokeAccess(payload)
    }
    return c.body(null, 200)
  })

  // -- introspection (RFC 7662) -----------------------------------------------------------------

  /**
   * For resource services that cannot (opaque tokens) or will not (instant revocation) verify
   * tokens themselves. Only configured resource-server clients; everyone else gets 401 and
   * learns nothing. Failed authentications count against the caller's rate limit.
   */
  app.post('/introspect', limitBody, async (c) => {
    noStore(c)
    const params = await readForm(c)
    let clientId: string
    try {
      clientId = authenticateClient(c.req.header('authorization'), params, config.introspectionClients)
    } catch (err) {
      if (err instanceof OAuthError && err.status === 401) takeBudget(c)
      throw err
    }
    const token = required(params, 'token', MAX_JWT_CHARS)
    // a refresh token is never an access token: it is not "active" here (token_type_hint ignored)
    const claims = await ownAccessToken(token)
    const live = claims && !store.isRevoked(String(claims.jti))
    const answer = live ? introspectionAnswer(claims) : { active: false }
    if (wantsJwt(c.req.header('accept'))) {
      // RFC 9701: the answer signed by this service, for the client that asked
      const jwt = await keys.sign(
        { iss: deps.issuer(), aud: clientId, iat: Math.floor(Date.now() / 1000), token_introspection: answer },
        'token-introspection+jwt',
      )
      return c.body(jwt, 200, { 'Content-Type': INTROSPECTION_JWT })
    }
    return c.json(answer)
  })

  app.post('/logout', rateLimited, fromWebApp, limitBody, async (c) => {
    if (cookieMode) clearRefreshCookie(c)
    const { scheme, token } = accessCredential(c.req.header('authorization'))
    const payload = await ownAccessToken(token)
    if (!payload) {
      throw new OAuthError(401, 'invalid_token', 'invalid access token', {
        'WWW-Authenticate': `${scheme} error="invalid_token"`,
      })
    }
    await checkSenderConstraint(c, scheme, token, payload)
    await revokeAccess(payload)
    if (typeof payload.sid === 'string') await revokeSession(payload.sid)
    config.log(`logout ${String(payload.sub)}`)
    return c.body(null, 204)
  })

  /**
   * RFC 9449 §7 at an endpoint that takes an access token (here /logout): a DPoP-bound token only
   * with `Authorization: DPoP` and a proof of its key carrying `ath`; an unbound token only as Bearer.
   */
  async function checkSenderConstraint(
    c: Context,
    scheme: 'Bearer' | 'DPoP',
    token: string,
    payload: JWTPayload,
  ) {
    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt
    const algs = `algs="${dpop.algorithms.join(' ')}"`
    const refuse = (error: string, description: string, headers: Record<string, string> = {}) =>
      new OAuthError(401, error, description, {
        'WWW-Authenticate': `DPoP ${algs}, error="${error}", error_description="${description}"`,
        ...headers,
      })
    if (typeof jkt !== 'string') {
      if (scheme === 'DPoP') throw refuse('invalid_token', 'token is not DPoP-bound')
      return
    }
    if (scheme !== 'DPoP') throw refuse('invalid_token', 'DPoP-bound token needs the DPoP scheme')
    const nonce = dpop.nonce()
    let proof: CheckedProof | undefined
    try {
      proof = await dpop.check({ header: c.req.header('dpop'), method: 'POST', url: endpoint('/logout'), accessToken: token })
    } catch (err) {
      const refused = proofRefused(err, nonce)
      if (refused instanceof OAuthError && refused.status === 400) {
        throw refuse(refused.error, refused.description, nonce ? { 'DPoP-Nonce': nonce } : {})
      }
      throw refused
    }
    if (!proof) throw refuse('invalid_dpop_proof', 'DPoP proof required')
    if (proof.jkt !== jkt) throw refuse('invalid_dpop_proof', 'DPoP key does not match the token')
  }

  if (cookieMode) mountWebApp(app, config.webApp, config.log)

  return app
}

// -- request helpers ----------------------------------------------------------------------------

function oauthError(c: Context, err: OAuthError) {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value)
  return c.json({ error: err.error, error_description: err.description }, err.status)
}

/**
 * Reads an application/x-www-form-urlencoded body (the only kind RFC 6749 token requests use).
 * `repeatable`: parameters that may appear more than once (RFC 8707's `resource`).
 */
async function readForm(
  c: Context,
  { optional = false, repeatable = [] as string[] } = {},
): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? ''
  const body = await c.req.text()
  if (optional && body === '') return new URLSearchParams()
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError(415, 'invalid_request', 'expected application/x-www-form-urlencoded')
  }
  const params = new URLSearchParams(body)
  for (const key of new Set(params.keys())) {
    // RFC 6749 §3.2: parameters must not be repeated (which copy would we believe?)
    if (params.getAll(key).length > 1 && !repeatable.includes(key))
      throw new OAuthError(400, 'invalid_request', `repeated parameter: ${safe(key)}`)
  }
  return params
}

function required(params: URLSearchParams, name: string, maxChars = MAX_PARAM_CHARS): string {
  const value = params.get(name)
  if (!value) throw new OAuthError(400, 'invalid_request', `missing parameter: ${name}`)
  if (value.length > maxChars)
    throw new OAuthError(400, 'invalid_request', `parameter too long: ${name}`)
  return value
}

/** `Authorization: Bearer <token>` (RFC 6750 §2.1), or a 401 with a Bearer challenge. */
function bearerToken(header: string | undefined, maxChars: number): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '')
  if (!match || match[1]!.length > maxChars) {
    throw new OAuthError(401, 'invalid_token', 'a bearer token is required', {
      'WWW-Authenticate': header ? 'Bearer error="invalid_token"' : 'Bearer',
    })
  }
  return match[1]!
}

/**
 * `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (RFC 9449 §7.1), or a 401.
 * Access tokens are JWTs or opaque base64url strings.
 */
function accessCredential(header: string | undefined): { scheme: 'Bearer' | 'DPoP'; token: string } {
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '')
  if (!match || match[2]!.length > MAX_JWT_CHARS) {
    throw new OAuthError(401, 'invalid_token', 'an access token is required', {
      'WWW-Authenticate': header ? 'Bearer error="invalid_token"' : 'Bearer',
    })
  }
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! }
}

/**
 * Requested scopes must be among the user's (`scopes` and `requestableScopes`); none requested
 * means the user's default `scopes`.
 */
function grantedScope(user: User, requested: string | null): string {
  if (requested === null || requested.trim() === '') return user.scopes.join(' ')
  const scopes = [...new Set(requested.trim().split(/ +/))]
  if (scopes.some((s) => !user.scopes.includes(s) && !user.requestableScopes.includes(s))) {
    throw new OAuthError(400, 'invalid_scope', 'requested scope not allowed')
  }
  return scopes.join(' ')
}

/** Echo at most a short, printable piece of client input in an error. */
const safe = (s: string) => s.replace(/[^\w.-]/g, '?').slice(0, 40)

// -- the service --------------------------------------------------------------------------------

export interface RunningAuthService {
  /** `http://127.0.0.1:<port>` */
  url: string
  issuer: string
  keys: KeyRing
  store: TokenStore
  close(): Promise<void>
}

/**
 * Builds everything and listens on `host:port` (port 0: any free port).
 * Options beyond the config exist for tests and the demo.
 */
export async function startAuthService(
  config: AuthServiceConfig,
  {
    port = 8001,
    host = '127.0.0.1',
    publishRevocations,
  }: {
    port?: number
    host?: string
    publishRevocations?: AuthServiceDeps['publishRevocations']
  } = {},
): Promise<RunningAuthService> {
  const keys = config.secret ? createSecretKeyRing(config.secret) : await createKeyRing()
  const store = openTokenStore(config.databaseFile, config.refreshTokenTtl)
  const users = await createDemoUsers()
  let issuer = config.issuer ?? ''
  const app = createAuthApp({
    config,
    issuer: () => issuer,
    users,
    keys,
    store,
    publishRevocations,
  })

  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s))
  })
  const address = server.address()
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`
  issuer ||= url

  // a retiring key stays published while tokens it signed can still be presented: the longest
  // access-token lifetime plus a minute for the verifiers' clock tolerance
  const longestTtl = Math.max(...Object.values(config.clients).map((c) => c.accessTokenTtl)) + 60
  const timers = [setInterval(() => store.prune(), 60_000)]
  if (config.keyRotationInterval > 0 && keys.algorithm !== 'HS256') {
    timers.push(setInterval(() => void keys.rotate(longestTtl), config.keyRotationInterval * 1000))
  }
  for (const t of timers) t.unref()

  return {
    url,
    issuer,
    keys,
    store,
    async close() {
      for (const t of timers) clearInterval(t)
      await new Promise<void>((resolve) => server.close(() => resolve()))
      store.close()
    },
  }
}
