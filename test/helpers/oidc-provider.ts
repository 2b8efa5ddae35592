/**
 * A real, independent authorization server for interop tests: oidc-provider (panva, OpenID
 * Certified), in this process, on 127.0.0.1 port 0, with a client side built on oauth4webapi (a
 * second independent implementation: its `DPoP()` handle computes the proofs).
 *
 * What it is configured with:
 * - two resources (RFC 8707 `features.resourceIndicators`): `resource` gets JWT access tokens
 *   (`typ: at+jwt`, `aud` = the resource), `opaqueResource` gets opaque (reference) tokens, and a
 *   request that names no resource gets an opaque token for `opaqueResource`;
 * - a confidential client (client credentials grant, `client_secret_basic`), a public client
 *   (authorization code + PKCE, refresh tokens; the login is headless, see `tokenFor({ user })`), and
 *   a resource-server client that may only introspect (`client_secret_post`);
 * - `features.dPoP` (DPoP-bound tokens: `cnf.jkt`, `token_type: "DPoP"`; optional nonces),
 *   `features.introspection` (+ RFC 9701 JWT responses), `features.revocation`, discovery and JWKS.
 *
 * The provider is kept quiet: its own "you SHOULD change this" notices are avoided by configuring
 * every default they name (an in-process adapter, our own keys, TTLs, policies), Koa's error log is
 * off, and the one notice oidc-provider 9 prints at import on Node 20 ("Unsupported runtime. Use
 * Node.js v22.x LTS") is filtered while it loads: it runs here, the test proves it.
 *
 * @example
 * ```ts
 * const as = await startOidcProvider()
 * afterAll(() => as.close())
 * const { accessToken } = await as.tokenFor({ scope: 'read' })        // a JWT for as.resource
 * const verifier = createVerifier({ issuer: as.issuer, audience: as.resource })
 * ```
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import type { Adapter, AdapterPayload, Configuration, default as ProviderType } from 'oidc-provider'

/** JWS algorithms the provider can sign access tokens with (one key is generated per start). */
export type SigningAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface OidcProviderOptions {
  /** The resource whose access tokens are JWTs (their `aud`). Default `https://api.example.test/`. */
  resource?: string
  /** The resource whose access tokens are opaque. Default `https://opaque.example.test/`. */
  opaqueResource?: string
  /** Scopes both resources accept. Default `['read', 'write']`. */
  scopes?: string[]
  /** Access-token lifetime, seconds. Default 300. */
  accessTokenTtl?: number
  /** Algorithm of the provider's signing key (access tokens, ID tokens, JWT introspection). Default ES256. */
  alg?: SigningAlgorithm
  /** Require DPoP nonces at the token endpoint (RFC 9449 §8, `use_dpop_nonce`). Default false. */
  dpopNonce?: boolean
  /**
   * DPoP proof algorithms the provider accepts. Default oidc-provider's own:
   * `['ES256', 'Ed25519', 'EdDSA']` (no RSA unless listed here).
   */
  dpopAlgorithms?: string[]
}

export interface ClientCredentials {
  clientId: string
  clientSecret: string
}

export interface IssuedToken {
  accessToken: string
  /** As the provider spells it in the JSON response: `Bearer` or `DPoP`. */
  tokenType: string
  expiresIn: number
  scope?: string
  refreshToken?: string
  /** The provider's raw token response. */
  response: Record<string, unknown>
}

export interface TokenRequest {
  /** RFC 8707 resource. Default: the JWT resource for `tokenFor`, none (→ opaque) for `opaqueToken`. */
  resource?: string
  /** Space-separated scopes. Default: every scope of the resource. */
  scope?: string
  /**
   * Bind the token to this key pair (DPoP; the public key must be extractable): oauth4webapi signs
   * the proof, the provider answers `token_type: "DPoP"` and puts the key's thumbprint in `cnf.jkt`.
   */
  dpopKey?: CryptoKeyPair
  /**
   * A user token instead of a client-credentials one: the public client runs the authorization code
   * flow with PKCE for this account (the login is headless), and gets a refresh token too.
   */
  user?: string
}

export interface IntrospectionClient extends ClientCredentials {
  /** The provider's `introspection_endpoint`. */
  endpoint: string
  /**
   * Introspects `token` as this client (`client_secret_post`, as registered). `jwt: true` asks for
   * an RFC 9701 answer (`Accept: application/token-introspection+jwt`) and returns the raw JWT.
   */
  introspect(token: string, options?: { jwt?: boolean }): Promise<Record<string, unknown> | string>
}

export interface RunningOidcProvider {
  issuer: string
  jwksUri: string
  /** The discovery document (`/.well-known/openid-configuration`). */
  metadata: oauth.AuthorizationServer
  /** The resource whose tokens are JWTs, and the one whose tokens are opaque. */
  resource: string
  opaqueResource: string
  clients: {
    /** Confidential: client credentials, `client_secret_basic`. */
    service: ClientCredentials
    /** Public (`token_endpoint_auth_method: none`): authorization code + PKCE, refresh tokens. */
    app: { clientId: string; redirectUri: string }
    /** A resource server: no grants, may call the introspection endpoint. */
    resourceServer: ClientCredentials
  }
  introspectionClient: IntrospectionClient
  /** A token for `resource` (a JWT) unless `resource` names the opaque one. */
  tokenFor(request?: TokenRequest): Promise<IssuedToken>
  /** An opaque token (for `opaqueResource` unless another resource is named). */
  opaqueToken(request?: TokenRequest): Promise<IssuedToken>
  /** Refreshes a user token (DPoP-bound refresh tokens of the public client need the same key). */
  refresh(refreshToken: string, options?: { dpopKey?: CryptoKeyPair }): Promise<IssuedToken>
  /** RFC 7009 revocation by the client that holds the token (`service` or `app`). */
  revoke(token: string, options?: { client?: 'service' | 'app' }): Promise<void>
  /**
   * A DPoP proof built by oauth4webapi for a resource request, as its `protectedResourceRequest`
   * sends it (`ath` bound to `accessToken`). `nonce` makes the handle learn a server nonce first,
   * the way it does from a `DPoP-Nonce` response header.
   */
  dpopProof(input: {
    key: CryptoKeyPair
    method: string
    url: string
    accessToken?: string
    nonce?: string
  }): Promise<string>
  /** The oidc-provider instance, for events or anything this API does not cover. */
  provider: ProviderType
  close(): Promise<void>
}

/** Loads oidc-provider without the "Unsupported runtime" notice it prints on Node 20 at import. */
async function loadProvider(): Promise<typeof import('oidc-provider')> {
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('Unsupported runtime')) warn(...args)
  }
  try {
    return await import('oidc-provider')
  } finally {
    console.warn = warn
  }
}

/**
 * The provider's storage, per instance (its own development adapter shares one module-wide store
 * and warns). Entries expire by `Date.now()`, so fake timers move them too.
 */
function memoryAdapter(): (model: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>()
  const indexes = new Map<string, string>() // `uid:…`, `userCode:…` → key
  const live = (key: string | undefined) => {
    const entry = key === undefined ? undefined : store.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      store.delete(key!)
      return undefined
    }
    return entry.payload
  }
  return (model) => {
    const key = (id: string) => `${model}:${id}`
    return {
      async upsert(id, payload, expiresIn) {
        store.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity })
        if (payload.uid) indexes.set(`uid:${payload.uid}`, key(id))
        if (payload.userCode) indexes.set(`userCode:${payload.userCode}`, key(id))
      },
      find: async (id) => live(key(id)),
      findByUid: async (uid) => live(indexes.get(`uid:${uid}`)),
      findByUserCode: async (userCode) => live(indexes.get(`userCode:${userCode}`)),
      async consume(id) {
        const payload = live(key(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id) {
        store.delete(key(id))
      },
      async revokeByGrantId(grantId) {
        for (const [k, entry] of store) if (entry.payload.grantId === grantId) store.delete(k)
      },
    }
  }
}

const secret = () => randomBytes(24).toString('base64url')

/**
 * Starts oidc-provider on 127.0.0.1 (port 0): ~10–20 ms, plus ~0.6 s for the first start in a process
 * (loading oidc-provider, generating the key).
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  const { default: Provider, errors } = await loadProvider()
  const {
    resource = 'https://api.example.test/',
    opaqueResource = 'https://opaque.example.test/',
    scopes = ['read', 'write'],
    accessTokenTtl = 300,
    alg = 'ES256',
    dpopNonce = false,
    dpopAlgorithms,
  } = options

  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  const signingKey: JWK = { ...(await exportJWK(privateKey)), kid: `oidc-provider-${alg}`, alg, use: 'sig' }

  const service = { clientId: 'service-client', clientSecret: secret() }
  const resourceServer = { clientId: 'resource-server', clientSecret: secret() }
  const app = { clientId: 'public-app', redirectUri: 'http://127.0.0.1/callback' }

  const configuration: Configuration = {
    adapter: memoryAdapter() as unknown as Configuration['adapter'],
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [secret()] },
    clients: [
      {
        client_id: service.clientId,
        client_secret: service.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: app.clientId,
        token_endpoint_auth_method: 'none',
        application_type: 'native', // http loopback redirect URIs are for native apps
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [app.redirectUri],
      },
      {
        client_id: resourceServer.clientId,
        client_secret: resourceServer.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    // every signed artefact with the one key we generated (the default would need an RS256 key)
    clientDefaults: {
      id_token_signed_response_alg: alg,
      introspection_signed_response_alg: alg,
    } as Configuration['clientDefaults'],
    clientBasedCORS: () => false,
    ...(dpopAlgorithms
      ? { enabledJWA: { dPoPSigningAlgValues: dpopAlgorithms } as Configuration['enabledJWA'] }
      : {}),
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 24 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: only the resource server (and a client about its own tokens) may ask
        allowedPolicy: async (ctx, client, token) =>
          client.clientId === resourceServer.clientId || token.clientId === ctx.oidc.client?.clientId,
      },
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      dPoP: {
        enabled: true,
        ...(dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
      },
      resourceIndicators: {
        enabled: true,
        // no `resource` asked: the opaque resource (so the answer is a reference token)
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? opaqueResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator === resource) {
            return { scope: scopes.join(' '), accessTokenFormat: 'jwt', accessTokenTTL: accessTokenTtl, jwt: { sign: { alg } } }
          }
          if (indicator === opaqueResource) {
            return { scope: scopes.join(' '), accessTokenFormat: 'opaque', accessTokenTTL: accessTokenTtl }
          }
          throw new errors.InvalidTarget()
        },
      },
    },
  }
  const provider = new Provider(issuer, configuration)
  provider.silent = true // Koa logs every error it answers unless silenced; errors are in the responses
  const callback = provider.callback()

  // the headless login: the account named by login_hint consents to what the request asks
  async function interaction(req: IncomingMessage, res: ServerResponse) {
    try {
      const { params } = await provider.interactionDetails(req, res)
      const accountId = String(params.login_hint)
      const grant = new provider.Grant({ accountId, clientId: String(params.client_id) })
      const requested = String(params.scope ?? '').split(' ').filter(Boolean)
      if (requested.includes('openid')) grant.addOIDCScope('openid')
      const target = typeof params.resource === 'string' ? params.resource : resource
      grant.addResourceScope(target, requested.filter((s) => s !== 'openid').join(' '))
      const grantId = await grant.save()
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false })
    } catch (err) {
      res.statusCode = 500
      res.end(String(err))
    }
  }
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) void interaction(req, res)
    else void callback(req, res)
  })

  const insecure = { [oauth.allowInsecureRequests]: true } as const
  const metadata = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), insecure))
  const serviceClient: oauth.Client = { client_id: service.clientId }
  const appClient: oauth.Client = { client_id: app.clientId }
  const handles = new WeakMap<CryptoKeyPair, oauth.DPoPHandle>()
  const dpopHandle = (key: CryptoKeyPair | undefined) => {
    if (!key) return undefined
    let handle = handles.get(key)
    if (!handle) handles.set(key, (handle = oauth.DPoP(serviceClient, key)))
    return handle
  }

  /** One retry when the provider asks for a (fresh) DPoP nonce: the handle has learnt it by then. */
  async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt()
    } catch (err) {
      if (oauth.isDPoPNonceError(err)) return attempt()
      throw err
    }
  }

  const issued = (r: oauth.TokenEndpointResponse, raw: Record<string, unknown>): IssuedToken => ({
    accessToken: r.access_token,
    tokenType: String(raw.token_type),
    expiresIn: Number(r.expires_in),
    ...(r.scope === undefined ? {} : { scope: r.scope }),
    ...(r.refresh_token === undefined ? {} : { refreshToken: r.refresh_token }),
    response: raw,
  })

  /** Runs a token request and keeps the raw body (oauth4webapi lowercases `token_type`). */
  async function tokenRequest(
    send: () => Promise<Response>,
    processResponse: (res: Response) => Promise<oauth.TokenEndpointResponse>,
  ): Promise<IssuedToken> {
    return withNonceRetry(async () => {
      const res = await send()
      const raw = (await res.clone().json().catch(() => ({}))) as Record<string, unknown>
      return issued(await processResponse(res), raw)
    })
  }

  async function clientCredentials(request: TokenRequest, target: string | undefined): Promise<IssuedToken> {
    const parameters: Record<string, string> = {}
    if (target !== undefined) parameters.resource = target
    parameters.scope = request.scope ?? scopes.join(' ')
    const DPoP = dpopHandle(request.dpopKey)
    return tokenRequest(
      () =>
        oauth.clientCredentialsGrantRequest(metadata, serviceClient, oauth.ClientSecretBasic(service.clientSecret), parameters, {
          ...insecure,
          ...(DPoP ? { DPoP } : {}),
        }),
      (res) => oauth.processClientCredentialsResponse(metadata, serviceClient, res),
    )
  }

  async function userToken(request: TokenRequest & { user: string }, target: string): Promise<IssuedToken> {
    const verifier = oauth.generateRandomCodeVerifier()
    const authorize = new URL(metadata.authorization_endpoint!)
    authorize.search = new URLSearchParams({
      client_id: app.clientId,
      response_type: 'code',
      redirect_uri: app.redirectUri,
      scope: request.scope ?? scopes.join(' '),
      resource: target,
      login_hint: request.user,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString()
    // a user agent that follows redirects and keeps cookies, until the redirect to the client
    const jar = new Map<string, string>()
    let url = authorize.href
    for (let hop = 0; hop < 10 && url.startsWith(issuer); hop++) {
      const res = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      })
      for (const cookie of res.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';')
        const eq = pair.indexOf('=')
        jar.set(pair.slice(0, eq), pair.slice(eq + 1))
      }
      const location = res.headers.get('location')
      if (!location) throw new Error(`the authorization flow stopped: ${res.status} ${await res.text()}`)
      url = new URL(location, url).href
    }
    const callbackParameters = oauth.validateAuthResponse(metadata, appClient, new URL(url), oauth.expectNoState)
    const DPoP = dpopHandle(request.dpopKey)
    return tokenRequest(
      () =>
        oauth.authorizationCodeGrantRequest(metadata, appClient, oauth.None(), callbackParameters, app.redirectUri, verifier, {
          ...insecure,
          ...(DPoP ? { DPoP } : {}),
        }),
      (res) => oauth.processAuthorizationCodeResponse(metadata, appClient, res),
    )
  }

  async function introspect(token: string, { jwt = false } = {}) {
    const client: oauth.Client = { client_id: resourceServer.clientId }
    const res = await oauth.introspectionRequest(metadata, client, oauth.ClientSecretPost(resourceServer.clientSecret), token, {
      ...insecure,
      ...(jwt ? { requestJwtResponse: true } : {}),
    })
    if (jwt) {
      if (!res.ok) throw new Error(`introspection failed: ${res.status} ${await res.text()}`)
      return res.text()
    }
    return (await oauth.processIntrospectionResponse(metadata, client, res)) as Record<string, unknown>
  }

  return {
    issuer,
    jwksUri: metadata.jwks_uri!,
    metadata,
    resource,
    opaqueResource,
    clients: { service, app, resourceServer },
    introspectionClient: { ...resourceServer, endpoint: metadata.introspection_endpoint!, introspect },
    tokenFor: (request = {}) => {
      const target = request.resource ?? resource
      return request.user ? userToken({ ...request, user: request.user }, target) : clientCredentials(request, target)
    },
    opaqueToken: (request = {}) => {
      const target = request.resource ?? opaqueResource
      return request.user ? userToken({ ...request, user: request.user }, target) : clientCredentials(request, request.resource)
    },
    refresh: (refreshToken, { dpopKey } = {}) => {
      const DPoP = dpopHandle(dpopKey)
      return tokenRequest(
        () =>
          oauth.refreshTokenGrantRequest(metadata, appClient, oauth.None(), refreshToken, { ...insecure, ...(DPoP ? { DPoP } : {}) }),
        (res) => oauth.processRefreshTokenResponse(metadata, appClient, res),
      )
    },
    async revoke(token, { client = 'service' } = {}) {
      const [c, auth] =
        client === 'app'
          ? [appClient, oauth.None()]
          : [serviceClient, oauth.ClientSecretBasic(service.clientSecret)]
      await oauth.processRevocationResponse(await oauth.revocationRequest(metadata, c, auth, token, insecure))
    },
    async dpopProof({ key, method, url, accessToken = 'unused', nonce }) {
      // a fresh handle, so a nonce learnt for one proof does not leak into the next
      const DPoP = oauth.DPoP(serviceClient, key)
      let proof: string | undefined
      const capture = async (_url: string, init: { headers: Record<string, string> }) => {
        proof = new Headers(init.headers).get('dpop') ?? undefined
        return new Response(null, { status: 204, headers: nonce ? { 'dpop-nonce': nonce } : {} })
      }
      const send = () =>
        oauth.protectedResourceRequest(accessToken, method, new URL(url), new Headers(), null, {
          ...insecure,
          DPoP,
          [oauth.customFetch]: capture,
        })
      if (nonce) await send() // the handle learns the nonce from the response, as from a server's
      await send()
      if (!proof) throw new Error('oauth4webapi sent no DPoP header')
      return proof
    },
    provider,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
