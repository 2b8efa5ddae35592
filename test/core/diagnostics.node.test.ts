/**
 * The diagnostics channels (src/core/diagnostics.ts), subscribed to as a user would, with
 * `node:diagnostics_channel`: one message per verification and per JWKS fetch, with its outcome, and
 * nothing built while nobody subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, DIAGNOSTICS_CHANNELS, type JwksMessage, type VerifyMessage } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { build, introspectEnd, introspectStart, loadDiagnosticsChannel, type IntrospectMessage } from '../../src/core/diagnostics.js'
import { rejection } from '../helpers/rejection.js'

type Event = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'

/** Subscribes to a channel for one test: the events in order, each with a snapshot of the message. */
function listen<M>(name: string) {
  const channel = diagnosticsChannel.tracingChannel(name)
  const events: { event: Event; message: M; snapshot: M }[] = []
  const on = (event: Event) => (message: unknown) => events.push({ event, message: message as M, snapshot: { ...(message as M) } })
  const handlers = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') }
  channel.subscribe(handlers as never)
  subscriptions.push(() => channel.unsubscribe(handlers as never))
  return {
    events,
    /** The message of each operation, as complete at `asyncEnd`. */
    done: () => events.filter((e) => e.event === 'asyncEnd').map((e) => e.snapshot),
    sequence: () => events.map((e) => e.event),
  }
}

const subscriptions: (() => void)[] = []
afterEach(() => {
  for (const stop of subscriptions.splice(0)) stop()
  vi.restoreAllMocks()
})

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', kid: 'k1' })
})

/** A verifier of the issuer's tokens through its own `fetch` (no network). */
function verifier(extra: Record<string, unknown> = {}) {
  return createVerifier(issuer.verifierOptions('jwks', { jwks: { fetch: issuer.fetch }, logger: false, ...extra }))
}

describe('bearer-guard:verify', () => {
  it('publishes authenticateRequest (the adapters\' entry) too, with the token\'s kid and alg when refused', async () => {
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    const v = verifier()
    const token = await issuer.sign()
    await v.authenticateRequest({ method: 'GET', url: 'https://api.test/x', headers: { authorization: `Bearer ${token}`, dpop: undefined } })
    const tampered = `${token.slice(0, -4)}AAAA`
    await rejection(v.authenticateRequest({ method: 'GET', url: 'https://api.test/x', headers: { authorization: `Bearer ${tampered}`, dpop: undefined } }))
    expect(verify.done()).toEqual([
      expect.objectContaining({ outcome: 'valid', kid: 'k1', alg: 'ES256' }),
      expect.objectContaining({ outcome: 'refused', code: 'invalid_token', kid: 'k1', alg: 'ES256' }),
    ])
  })

  it('publishes a valid verification: start, end, asyncStart, asyncEnd on one message, with issuer, kid, alg and fresh', async () => {
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    const v = verifier()
    const auth = await v.verifyAccessToken(await issuer.sign())
    expect(verify.sequence()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    expect(new Set(verify.events.map((e) => e.message)).size).toBe(1)
    const [done] = verify.done()
    expect(done).toMatchObject({ outcome: 'valid', code: undefined, reason: undefined, issuer: issuer.issuer, kid: 'k1', alg: 'ES256', cached: false })
    expect(done?.result).toBe(auth)
    expect(done?.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('marks a cache hit: the same token verified again is cached', async () => {
    const v = verifier()
    const token = await issuer.sign()
    await v.verifyAccessToken(token)
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await v.verifyAccessToken(token)
    await v.authenticate(`Bearer ${token}`)
    expect(verify.done().map((m) => [m.outcome, m.cached])).toEqual([
      ['valid', true],
      ['valid', true],
    ])
  })

  it('publishes a refusal with its code, detailed reason, kid and alg, on the error channel too', async () => {
    const v = verifier()
    await v.warmUp()
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    const error = await rejection(v.verifyAccessToken(await issuer.sign({ aud: 'https://other.test' })))
    expect(verify.sequence()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    const [done] = verify.done()
    expect(done).toMatchObject({ outcome: 'refused', code: 'invalid_token', status: 401, issuer: issuer.issuer, kid: 'k1', alg: 'ES256', cached: false })
    expect(done?.reason).toMatch(/^aud mismatch/)
    expect(done?.error).toBe(error)
    expect(done?.result).toBeUndefined()
  })

  it('names an issuer only when it is configured: a token claiming another iss is reported without one', async () => {
    const v = verifier()
    await v.warmUp()
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await rejection(v.verifyAccessToken(await issuer.sign({ iss: 'https://attacker.test/' + 'x'.repeat(50) })))
    const [done] = verify.done()
    expect(done).toMatchObject({ outcome: 'refused', code: 'invalid_token', issuer: undefined, kid: 'k1' })
    expect(done?.reason).toMatch(/iss/)
  })

  it('publishes a request without a token (authenticate) as refused with missing_token', async () => {
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await rejection(verifier().authenticate(undefined))
    expect(verify.done()).toEqual([expect.objectContaining({ outcome: 'refused', code: 'missing_token', status: 401, kid: undefined, cached: false })])
  })

  it('publishes a garbage token as refused without kid or alg, and never throws while describing it', async () => {
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await rejection(verifier().verifyAccessToken('not.a.jwt'))
    await rejection(verifier().verifyAccessToken('%%%.%%%.%%%'))
    expect(verify.done().map((m) => [m.outcome, m.code, m.kid, m.alg])).toEqual([
      ['refused', 'invalid_token', undefined, undefined],
      ['refused', 'invalid_token', undefined, undefined],
    ])
  })

  it('publishes a key source that is down as unavailable (503)', async () => {
    const down = await createTestIssuer({ algorithm: 'ES256' })
    down.simulate('jwks', 503)
    const v = createVerifier(down.verifierOptions('jwks', { jwks: { fetch: down.fetch }, logger: false }))
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await rejection(v.verifyAccessToken(await down.sign()))
    const [done] = verify.done()
    expect(done).toMatchObject({ outcome: 'unavailable', code: 'temporarily_unavailable', status: 503 })
    expect(done?.reason).toMatch(/JWKS unavailable: .*answered 503/)
    await down.close()
  })

  it('builds nothing while nobody subscribes', async () => {
    const v = verifier()
    const token = await issuer.sign()
    const expired = await issuer.expired()
    const builder = vi.spyOn(build, 'verify')
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    await rejection(v.verifyAccessToken(expired))
    await rejection(v.authenticate(undefined))
    expect(builder).not.toHaveBeenCalled()
    // and a subscriber turns it on, for verifiers made before it subscribed
    listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await v.verifyAccessToken(token)
    expect(builder).toHaveBeenCalledTimes(1)
  })
})

const servers: Server[] = []
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A loopback JWKS server: `behave` answers request number `n` (1-based), or drops it (`'drop'`). */
async function jwksServer(behave: (n: number) => 'drop' | { status: number; body: string }): Promise<string> {
  let n = 0
  const server = createServer((req, res) => {
    const answer = behave(++n)
    if (answer === 'drop') req.socket.destroy()
    else res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const ok = () => ({ status: 200, body: JSON.stringify(issuer.jwks()) })

describe('bearer-guard:jwks', () => {
  it('publishes a fetch: the JWKS URL, the keys usable and skipped, not retried', async () => {
    const withExtra = { keys: [...(issuer.jwks().keys as object[]), { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }] }
    const uri = await jwksServer(() => ({ status: 200, body: JSON.stringify(withExtra) }))
    const jwks = listen<JwksMessage>(DIAGNOSTICS_CHANNELS.jwks)
    await verifier({ jwksUri: uri, jwks: {} }).verifyAccessToken(await issuer.sign())
    expect(jwks.sequence()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    expect(jwks.done()).toEqual([
      expect.objectContaining({ uri, outcome: 'fetched', keys: 1, skipped: 1, retried: false, cause: undefined, stale: false }),
    ])
  })

  it('publishes a fetch retried after a dropped connection', async () => {
    const uri = await jwksServer((n) => (n === 1 ? 'drop' : ok()))
    const jwks = listen<JwksMessage>(DIAGNOSTICS_CHANNELS.jwks)
    await verifier({ jwksUri: uri, jwks: {} }).verifyAccessToken(await issuer.sign())
    expect(jwks.done()).toEqual([expect.objectContaining({ outcome: 'fetched', keys: 1, retried: true })])
  })

  it('publishes a key source that is down: failed, with the cause and the detailed reason, on the error channel', async () => {
    const uri = `http://127.0.0.1:${await closedPort()}/jwks.json`
    const jwks = listen<JwksMessage>(DIAGNOSTICS_CHANNELS.jwks)
    const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
    await rejection(verifier({ jwksUri: uri, jwks: {} }).verifyAccessToken(await issuer.sign()))
    expect(jwks.sequence()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    const [done] = jwks.done()
    expect(done).toMatchObject({ uri, outcome: 'failed', cause: 'network:ECONNREFUSED', stale: false, keys: undefined })
    expect(done?.reason).toMatch(/connection refused/)
    expect(done?.error).toBeDefined()
    expect(verify.done()).toEqual([expect.objectContaining({ outcome: 'unavailable', code: 'temporarily_unavailable' })])
  })

  it('publishes a failed refresh while stale keys still serve (stale: true), and the verification as valid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const uri = await jwksServer((n) => (n === 1 ? ok() : { status: 503, body: '{}' }))
      const v = verifier({ jwksUri: uri, jwks: { cacheMaxAge: 60, staleMaxAge: 3600 } })
      await v.warmUp()
      vi.setSystemTime(Date.now() + 120_000)
      const jwks = listen<JwksMessage>(DIAGNOSTICS_CHANNELS.jwks)
      const verify = listen<VerifyMessage>(DIAGNOSTICS_CHANNELS.verify)
      await v.verifyAccessToken(await issuer.sign())
      expect(jwks.done()).toEqual([expect.objectContaining({ outcome: 'failed', cause: 'status:503', stale: true })])
      expect(verify.done()).toEqual([expect.objectContaining({ outcome: 'valid', cached: false })])
    } finally {
      vi.useRealTimers()
    }
  })

  it('builds nothing while nobody subscribes', async () => {
    const uri = await jwksServer(ok)
    const builder = vi.spyOn(build, 'jwks')
    await verifier({ jwksUri: uri, jwks: {} }).verifyAccessToken(await issuer.sign())
    expect(builder).not.toHaveBeenCalled()
  })
})

describe('bearer-guard:introspect (the calls the introspection stage makes)', () => {
  it('publishes an answer and a failure, each on one message complete at asyncEnd', () => {
    const introspect = listen<IntrospectMessage>(DIAGNOSTICS_CHANNELS.introspect)
    const endpoint = 'https://as.test/introspect'
    introspectEnd(introspectStart(endpoint, 'https://as.test/'), { outcome: 'active', cached: false, httpStatus: 200 })
    introspectEnd(introspectStart(endpoint, 'https://as.test/'), { outcome: 'inactive', cached: true })
    const error = new Error('connection refused')
    introspectEnd(introspectStart(endpoint, undefined), { outcome: 'failed', cause: 'network:ECONNREFUSED', reason: 'POST … failed: connection refused', retried: true, error })
    expect(introspect.sequence()).toEqual([
      ...['start', 'end', 'asyncStart', 'asyncEnd'],
      ...['start', 'end', 'asyncStart', 'asyncEnd'],
      ...['start', 'end', 'error', 'asyncStart', 'asyncEnd'],
    ])
    expect(introspect.done()).toEqual([
      expect.objectContaining({ endpoint, issuer: 'https://as.test/', outcome: 'active', cached: false, httpStatus: 200, retried: false }),
      expect.objectContaining({ outcome: 'inactive', cached: true, httpStatus: undefined }),
      expect.objectContaining({ issuer: undefined, outcome: 'failed', cause: 'network:ECONNREFUSED', retried: true, error }),
    ])
  })

  it('the introspection stage publishes each call: active, a cached answer, inactive, and the endpoint down (503)', async () => {
    const introspect = listen<IntrospectMessage>(DIAGNOSTICS_CHANNELS.introspect)
    const v = createVerifier({ ...issuer.verifierOptions('keys'), logger: false, introspection: issuer.introspectionOptions() })
    const token = issuer.opaque({ scope: 'orders:read' })
    await v.verifyAccessToken(token)
    await v.verifyAccessToken(token)
    const revoked = issuer.opaque()
    issuer.revoke(revoked)
    expect(await rejection(v.verifyAccessToken(revoked))).toMatchObject({ status: 401 })
    issuer.simulate('introspection', 500)
    try {
      expect(await rejection(v.verifyAccessToken(issuer.opaque()))).toMatchObject({ status: 503 })
    } finally {
      issuer.simulate('introspection', null)
    }
    const endpoint = issuer.introspectionOptions().endpoint
    expect(introspect.done()).toEqual([
      expect.objectContaining({ endpoint: String(endpoint), issuer: issuer.issuer, outcome: 'active', cached: false, retried: false }),
      expect.objectContaining({ outcome: 'active', cached: true }),
      expect.objectContaining({ outcome: 'inactive', cached: false }),
      expect.objectContaining({ outcome: 'failed', cached: false, cause: expect.stringMatching(/^status/), reason: expect.stringMatching(/500/) }),
    ])
  })

  it('the introspection stage builds no message while nobody subscribes', async () => {
    const builder = vi.spyOn(build, 'introspect')
    const v = createVerifier({ ...issuer.verifierOptions('keys'), logger: false, introspection: issuer.introspectionOptions() })
    await v.verifyAccessToken(issuer.opaque())
    expect(builder).not.toHaveBeenCalled()
  })

  it('builds nothing while nobody subscribes (start answers undefined, end ignores it)', () => {
    const builder = vi.spyOn(build, 'introspect')
    const message = introspectStart('https://as.test/introspect', undefined)
    expect(message).toBeUndefined()
    introspectEnd(message, { outcome: 'active', cached: false })
    expect(builder).not.toHaveBeenCalled()
  })
})

describe('loading node:diagnostics_channel', () => {
  it('takes it from process.getBuiltinModule when the runtime has it', () => {
    const dc = { tracingChannel: () => undefined }
    const importer = vi.fn()
    expect(loadDiagnosticsChannel({ getBuiltinModule: (id) => (id === 'node:diagnostics_channel' ? dc : undefined) }, importer)).toBe(dc)
    expect(importer).not.toHaveBeenCalled()
  })

  it('imports it on a Node without getBuiltinModule (20.0–20.15)', async () => {
    const importer = vi.fn(async (id: string) => (id === 'node:diagnostics_channel' ? diagnosticsChannel : undefined))
    const loaded = loadDiagnosticsChannel({ versions: { node: '20.10.0' } }, importer)
    expect(loaded).toBeInstanceOf(Promise)
    expect(await loaded).toBe(diagnosticsChannel)
    expect(importer).toHaveBeenCalledWith('node:diagnostics_channel')
  })

  it('is a no-op where there is no Node-like process (edge runtimes), or the import fails', async () => {
    const importer = vi.fn(async () => {
      throw new Error('no such module')
    })
    expect(loadDiagnosticsChannel(undefined, importer)).toBeUndefined()
    expect(loadDiagnosticsChannel({}, importer)).toBeUndefined()
    expect(importer).not.toHaveBeenCalled()
    expect(await loadDiagnosticsChannel({ versions: { node: '20.1.0' } }, importer)).toBeUndefined()
  })
})
