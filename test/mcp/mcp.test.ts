/**
 * bearer-guard/mcp: `AuthInfo` of a verified token, our errors as the SDK's, and `mcpTokenVerifier`
 * behind the SDK's own `requireBearerAuth` (Express, real sockets).
 */
import express from 'express'
import { describe, expect, it } from 'vitest'
import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js'
import {
  createVerifier,
  InsufficientScopeError as OurInsufficientScope,
  InvalidRequestError as OurInvalidRequest,
  isAuthError,
  KeySourceUnavailableError,
  MissingTokenError,
  type IssuerOptions,
} from 'bearer-guard'
import { mcpTokenVerifier, toAuthInfo, toMcpError, type AuthInfo, type OAuthTokenVerifier } from 'bearer-guard/mcp'
import { createTestIssuer } from 'bearer-guard/testing'
import { listen } from '../adapters/harnesses/listen.js'

// by a variable name: a static import would bring the SDK's augmentation of Express's Request
// (`req.auth: AuthInfo`) into the type check of the whole repository, whose Express tests read our
// AuthContext there. test/mcp/types.test.ts compiles such a project on its own.
const bearerAuthModule = '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
const { requireBearerAuth } = (await import(bearerAuthModule)) as {
  requireBearerAuth(options: {
    verifier: OAuthTokenVerifier
    requiredScopes?: string[]
    resourceMetadataUrl?: string
    expectedResource?: URL
  }): express.RequestHandler
}
const RESOURCE = 'https://mcp.example.test/mcp'
const METADATA = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp'
const issuer = await createTestIssuer({ algorithm: 'ES256' })
const { audience: _audience, ...keyed } = issuer.verifierOptions('keys') as IssuerOptions<undefined>
const verifier = createVerifier({ ...keyed, resource: RESOURCE })
const sign = (claims: Record<string, unknown> = {}, audience: string | string[] = RESOURCE) =>
  issuer.sign({ sub: 'user-1', scope: 'tools:read', ...claims }, { audience })

describe('mcpTokenVerifier: AuthInfo', () => {
  it('carries the token, client, scopes, expiry in seconds, resource and the identity', async () => {
    const token = await sign({ client_id: 'mcp-inspector', roles: ['user'], scope: 'tools:read tools:call' })
    const info = await mcpTokenVerifier(verifier).verifyAccessToken(token)
    const auth = await verifier.verifyAccessToken(token)
    expect(info).toEqual({
      token,
      clientId: 'mcp-inspector',
      scopes: ['tools:read', 'tools:call'],
      expiresAt: auth.expiresAt.getTime() / 1000,
      resource: new URL(RESOURCE),
      extra: { subject: 'user-1', issuer: issuer.issuer, roles: ['user'], claims: auth.claims },
    })
    expect(Number.isInteger(info.expiresAt)).toBe(true)
    expect(info.expiresAt).toBe(auth.claims.exp)
  })

  it.each([
    [{ client_id: 'a', azp: 'b', cid: 'c', appid: 'd' }, 'a'],
    [{ azp: 'b', cid: 'c' }, 'b'],
    [{ cid: 'c', appid: 'd' }, 'c'],
    [{ appid: 'd' }, 'd'],
    [{ client_id: '', azp: 'b' }, 'b'],
    [{ client_id: 42 }, ''],
    [{}, ''],
  ])('reads the client id from client_id, azp, cid, appid in that order (%j → %j)', async (claims, clientId) => {
    expect((await mcpTokenVerifier(verifier).verifyAccessToken(await sign(claims))).clientId).toBe(clientId)
  })

  it('names as resource the aud member that matches, spelled as in the token', async () => {
    const info = await mcpTokenVerifier(verifier).verifyAccessToken(await sign({}, ['https://other.test/', `${RESOURCE}/`]))
    expect(info.resource).toEqual(new URL(`${RESOURCE}/`))
  })

  it('without a resource anywhere, names a single URL aud, and nothing for several or a bare name', async () => {
    const plain = createVerifier({ ...keyed, audience: (aud) => aud.length > 0 })
    expect((await mcpTokenVerifier(plain).verifyAccessToken(await sign({}, RESOURCE))).resource).toEqual(new URL(RESOURCE))
    expect((await mcpTokenVerifier(plain).verifyAccessToken(await sign({}, [RESOURCE, 'https://b.test/']))).resource).toBeUndefined()
    expect((await mcpTokenVerifier(plain).verifyAccessToken(await sign({}, 'api'))).resource).toBeUndefined()
    // the option names it when the verifier does not
    const named = mcpTokenVerifier(plain, { resource: 'https://b.test' })
    expect((await named.verifyAccessToken(await sign({}, [RESOURCE, 'https://b.test/']))).resource).toEqual(new URL('https://b.test/'))
  })

  it('toAuthInfo gives the same from an AuthContext (what requireAuth sets)', async () => {
    const token = await sign({ azp: 'client-1' })
    const auth = await verifier.verifyAccessToken(token)
    expect(toAuthInfo(auth, { resource: RESOURCE })).toEqual(await mcpTokenVerifier(verifier).verifyAccessToken(token))
    expect(toAuthInfo(auth).resource).toEqual(new URL(RESOURCE))
  })
})

describe('mcpTokenVerifier: failures as the SDK errors', () => {
  /** What verifyAccessToken rejects with. */
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('accepted'), (e: unknown) => e as Error)

  it('an expired token is an InvalidTokenError with the client-safe description, the AuthError its cause', async () => {
    const error = await failure(mcpTokenVerifier(verifier).verifyAccessToken(await issuer.expired({ aud: RESOURCE })))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.message).toBe('token expired')
    expect(isAuthError(error.cause)).toBe(true)
    expect((error.cause as { reason: string }).reason).toMatch(/^exp /)
  })

  it('a token for another resource is an InvalidTokenError', async () => {
    const error = await failure(mcpTokenVerifier(verifier).verifyAccessToken(await sign({}, 'https://other.test/mcp')))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.message).toBe('invalid token')
  })

  it('a key outage is a ServerError, never an InvalidTokenError', async () => {
    const down = createVerifier({
      issuer: issuer.issuer,
      resource: RESOURCE,
      jwksUri: 'https://keys.example.test/jwks.json',
      jwks: { fetch: async () => new Response('oops', { status: 500 }) },
      logger: false,
    })
    const error = await failure(mcpTokenVerifier(down).verifyAccessToken(await sign()))
    expect(error).toBeInstanceOf(ServerError)
    expect(error).not.toBeInstanceOf(InvalidTokenError)
    expect(error.message).toBe('authorization keys unavailable, retry later')
  })

  it('maps every code, and leaves anything else as it is', () => {
    expect(toMcpError(new MissingTokenError())).toBeInstanceOf(InvalidTokenError)
    expect(toMcpError(new OurInvalidRequest({ reason: 'x' }))).toBeInstanceOf(InvalidRequestError)
    expect(toMcpError(new OurInsufficientScope({ reason: 'x', required: ['a'] }))).toBeInstanceOf(InsufficientScopeError)
    expect(toMcpError(new KeySourceUnavailableError({ reason: 'x' }))).toBeInstanceOf(ServerError)
    const other = new Error('bug')
    expect(toMcpError(other)).toBe(other)
  })
})

describe("mcpTokenVerifier behind the SDK's requireBearerAuth (Express, real sockets)", () => {
  async function serve(v = verifier, requiredScopes: string[] = ['tools:read']) {
    const app = express()
    app.post(
      '/mcp',
      requireBearerAuth({ verifier: mcpTokenVerifier(v), requiredScopes, resourceMetadataUrl: METADATA, expectedResource: new URL(RESOURCE) }),
      (req, res) => {
        // what the SDK's middleware set (its AuthInfo; typed so only where its module is imported)
        const auth = (req as unknown as { auth: AuthInfo }).auth
        res.json({ clientId: auth.clientId, scopes: auth.scopes, subject: auth.extra?.subject })
      },
    )
    return listen(app)
  }

  it('answers a valid token, and the handler sees the AuthInfo', async () => {
    const server = await serve()
    try {
      const res = await server.fetch('/mcp', `Bearer ${await sign({ client_id: 'c1' })}`, undefined, { method: 'POST' })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ clientId: 'c1', scopes: ['tools:read'], subject: 'user-1' })
    } finally {
      await server.close()
    }
  })

  it('refuses a bad token with 401 and the SDK challenge naming the metadata', async () => {
    const server = await serve()
    try {
      const expired = await server.fetch('/mcp', `Bearer ${await issuer.expired({ aud: RESOURCE })}`, undefined, { method: 'POST' })
      expect(expired.status).toBe(401)
      expect(await expired.json()).toEqual({ error: 'invalid_token', error_description: 'token expired' })
      expect(expired.headers.get('www-authenticate')).toBe(
        `Bearer error="invalid_token", error_description="token expired", scope="tools:read", resource_metadata="${METADATA}"`,
      )
      const other = await server.fetch('/mcp', `Bearer ${await sign({}, 'https://other.test/mcp')}`, undefined, { method: 'POST' })
      expect(other.status).toBe(401)
    } finally {
      await server.close()
    }
  })

  it('refuses a token without the scope with 403', async () => {
    const server = await serve(verifier, ['tools:call'])
    try {
      const res = await server.fetch('/mcp', `Bearer ${await sign()}`, undefined, { method: 'POST' })
      expect(res.status).toBe(403)
      expect((await res.json()).error).toBe('insufficient_scope')
    } finally {
      await server.close()
    }
  })

  it('answers a key outage 500 without a challenge: the token is not blamed', async () => {
    const down = createVerifier({
      issuer: issuer.issuer,
      resource: RESOURCE,
      jwksUri: 'https://keys.example.test/jwks.json',
      jwks: { fetch: async () => new Response('oops', { status: 503 }) },
      logger: false,
    })
    const server = await serve(down)
    try {
      const res = await server.fetch('/mcp', `Bearer ${await sign()}`, undefined, { method: 'POST' })
      expect(res.status).toBe(500)
      expect(res.headers.get('www-authenticate')).toBeNull()
      expect(await res.json()).toEqual({ error: 'server_error', error_description: 'authorization keys unavailable, retry later' })
    } finally {
      await server.close()
    }
  })
})
