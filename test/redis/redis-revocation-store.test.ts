import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REVOCATION_SLACK_MS } from '../../src/core/limits.js'
import { KeySourceUnavailableError, TokenRevokedError } from '../../src/core/errors.js'
import { createVerifier } from '../../src/core/verifier.js'
import { createTestIssuer } from '../../src/testing/index.js'
import {
  createRedisRevocationStore,
  type RedisRevocationStore,
  type RedisRevocationStoreOptions,
} from '../../src/redis/index.js'
import { freePort } from '../helpers/free-port.js'
import { hasRedis, startRedis, stopAllRedis, type RedisProcess } from '../helpers/redis-server.js'

const inFiveMinutes = () => new Date(Date.now() + 5 * 60_000)
let seq = 0

/** Polls `check` every 10 ms until it is truthy or `ms` pass; returns the last value. */
async function until<T>(check: () => T | Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  let value = await check()
  while (!value && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10))
    value = await check()
  }
  return value
}

/** isRevoked as a settled value: the boolean, or the error thrown. */
async function probe(store: RedisRevocationStore, jti: string): Promise<boolean | unknown> {
  try {
    return await store.isRevoked(jti)
  } catch (err) {
    return err
  }
}

describe.skipIf(!hasRedis)('createRedisRevocationStore against a real redis-server', () => {
  let redis: RedisProcess
  const clients: Redis[] = []
  const stores: RedisRevocationStore[] = []
  const logs: string[] = []
  const logger = {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
  }

  function connect(url = redis.url, options: RedisOptions = {}): Redis {
    const client = new Redis(url, { retryStrategy: () => 100, maxRetriesPerRequest: 1, ...options })
    client.on('error', () => {})
    clients.push(client)
    return client
  }

  /** A store with its own client; `ns` isolates prefix and channel per test. */
  function store(ns: string, options: Partial<RedisRevocationStoreOptions> = {}, url?: string, redisOptions?: RedisOptions) {
    const s = createRedisRevocationStore({
      client: connect(url, redisOptions),
      prefix: `test:${ns}:`,
      channel: `test:${ns}`,
      logger,
      ...options,
    })
    stores.push(s)
    return s
  }

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
    clients.splice(0).forEach((c) => c.disconnect())
    logs.length = 0
  })
  afterAll(stopAllRedis)

  it('refuses on instance B a jti revoked on instance A within 1 s', async () => {
    const ns = `ab${seq++}`
    const a = store(ns)
    const b = store(ns)
    await Promise.all([a.ready('5s'), b.ready('5s')])
    expect(b.isRevoked('jti-1')).toBe(false)
    await a.revoke('jti-1', inFiveMinutes())
    expect(a.isRevoked('jti-1')).toBe(true)
    expect(await until(() => b.isRevoked('jti-1'), 1000)).toBe(true)
    expect(b.isRevoked('jti-2')).toBe(false)
  })

  it('makes a verifier on instance B refuse a token revoked on instance A', async () => {
    const ns = `verifier${seq++}`
    const issuer = await createTestIssuer()
    const a = store(ns)
    const b = store(ns)
    await Promise.all([a.ready('5s'), b.ready('5s')])
    const verifierB = createVerifier(issuer.verifierOptions('keys', { revocation: b }))
    const token = await issuer.sign()
    const auth = await verifierB.verifyAccessToken(token) // also fills the verifier's token cache
    await a.revoke((auth.claims as { jti: string }).jti, auth.expiresAt)
    const refused = await until(
      () => verifierB.verifyAccessToken(token).then(() => undefined, (e: unknown) => e),
      1000,
    )
    expect(refused).toBeInstanceOf(TokenRevokedError)
    expect(refused).toMatchObject({ status: 401, code: 'invalid_token' })
    const other = await issuer.sign() // another jti: still accepted
    await expect(verifierB.verifyAccessToken(other)).resolves.toMatchObject({ token: other, subject: 'user-123' })
  })

  it('answers from the mirror synchronously', async () => {
    const s = store(`sync${seq++}`)
    await s.ready('5s')
    await s.revoke('x', inFiveMinutes())
    expect(s.isRevoked('x')).toBe(true)
    expect(s.isRevoked('y')).toBe(false)
  })

  it('stores the jti in Redis with an expiry of the slack past the token', async () => {
    const ns = `ttl${seq++}`
    const s = store(ns)
    await s.ready('5s')
    const exp = inFiveMinutes()
    await s.revoke('abc', exp)
    const pttl = await connect().pttl(`test:${ns}:abc`)
    expect(pttl).toBeGreaterThan(5 * 60_000 + REVOCATION_SLACK_MS - 5_000)
    expect(pttl).toBeLessThanOrEqual(5 * 60_000 + REVOCATION_SLACK_MS)
  })

  it('keeps revocations across a service restart', async () => {
    const ns = `restart${seq++}`
    const first = store(ns)
    await first.ready('5s')
    await first.revoke('kept', inFiveMinutes())
    await first.close()
    const second = store(ns)
    await second.ready('5s')
    expect(second.isRevoked('kept')).toBe(true)
    expect(second.status).toMatchObject({ synced: true, stale: false, size: 1 })
  })

  it('removes entries when their token expires, in Redis and in the mirror', async () => {
    const ns = `exp${seq++}`
    const s = store(ns)
    await s.ready('5s')
    // kept until exp + the slack: an exp (slack - 0.8 s) ago leaves 0.8 s
    await s.revoke('short', new Date(Date.now() - REVOCATION_SLACK_MS + 800))
    expect(s.isRevoked('short')).toBe(true)
    const probeClient = connect()
    expect(await probeClient.exists(`test:${ns}:short`)).toBe(1)
    expect(await until(() => !s.isRevoked('short'), 3000)).toBe(true)
    expect(await until(async () => (await probeClient.exists(`test:${ns}:short`)) === 0, 3000)).toBe(true)
  })

  it('does not store a jti whose token expired long ago', async () => {
    const ns = `old${seq++}`
    const s = store(ns)
    await s.ready('5s')
    await s.revoke('old', new Date(Date.now() - REVOCATION_SLACK_MS - 3600_000))
    expect(s.isRevoked('old')).toBe(false)
    expect(await connect().exists(`test:${ns}:old`)).toBe(0)
  })

  it('ignores malformed messages on the channel', async () => {
    const ns = `junk${seq++}`
    const a = store(ns)
    const b = store(ns)
    await Promise.all([a.ready('5s'), b.ready('5s')])
    const publisher = connect()
    for (const junk of ['', 'not json', 'null', '[]', '{"t":"r","j":5,"x":1}', '{"t":"r","j":"z"}']) {
      await publisher.publish(`test:${ns}`, junk)
    }
    await publisher.publish(`test:${ns}`, JSON.stringify({ t: 'r', j: 'x'.repeat(5000), x: Date.now() + 1e6 }))
    await a.revoke('after-junk', inFiveMinutes())
    expect(await until(() => b.isRevoked('after-junk'), 1000)).toBe(true)
    expect(b.isRevoked('z')).toBe(false)
    expect(b.status.size).toBe(1)
  })

  it('rejects invalid options and arguments with a TypeError naming them', async () => {
    const client = connect()
    expect(() => createRedisRevocationStore({ client: {} as never })).toThrow(/"client"/)
    expect(() =>
      createRedisRevocationStore({ client, maxStaleness: '1s', heartbeatInterval: '2s' }),
    ).toThrow(/"heartbeatInterval"/)
    expect(() => createRedisRevocationStore({ client, resyncInterval: 'soon' })).toThrow(/"resyncInterval"/)
    expect(() => createRedisRevocationStore({ client, max: 0 })).toThrow(/"max"/)
    const s = store(`args${seq++}`)
    await expect(s.revoke('', inFiveMinutes())).rejects.toThrow(TypeError)
    await expect(s.revoke('j', new Date('nope'))).rejects.toThrow(TypeError)
  })

  it('asks Redis for jtis that overflowed the mirror', async () => {
    const ns = `overflow${seq++}`
    const s = store(ns, { max: 2 })
    await s.ready('5s')
    for (const jti of ['o1', 'o2', 'o3']) await s.revoke(jti, inFiveMinutes())
    expect(logs.some((l) => l.includes('more than 2 revoked jtis'))).toBe(true)
    expect(await s.isRevoked('o1')).toBe(true) // evicted from the mirror, found in Redis
    expect(await s.isRevoked('o4')).toBe(false)
  })

  it('finds revocations after a restart when the client has an ioredis keyPrefix', async () => {
    const ns = `keyprefix${seq++}`
    const first = store(ns, {}, undefined, { keyPrefix: 'svc:' })
    await first.ready('5s')
    await first.revoke('kept', inFiveMinutes())
    await first.revoke('short', new Date(Date.now() - REVOCATION_SLACK_MS + 1500))
    await first.close()
    const raw = connect()
    expect(await raw.exists(`svc:test:${ns}:kept`)).toBe(1) // ioredis prefixed the SET
    // the same prefix under another client namespace is not ours
    await raw.set(`other:test:${ns}:foreign`, '1', 'PX', 60_000)

    const second = store(ns, {}, undefined, { keyPrefix: 'svc:' })
    await second.ready('5s')
    expect(second.isRevoked('kept')).toBe(true)
    expect(second.isRevoked('short')).toBe(true) // its PTTL was read from the right key
    expect(second.isRevoked('foreign')).toBe(false)
    expect(second.status).toMatchObject({ synced: true, stale: false, size: 2 })
    expect(await until(() => !second.isRevoked('short'), 4000)).toBe(true) // and it expires with it
    expect(second.isRevoked('kept')).toBe(true)
  })

  it('treats a key without TTL as revoked, on the resync path and on the EXISTS path alike', async () => {
    const ns = `nottl${seq++}`
    const raw = connect()
    await raw.set(`test:${ns}:forever-1`, '1')
    await raw.set(`test:${ns}:forever-2`, '1')
    expect(await raw.pttl(`test:${ns}:forever-1`)).toBe(-1)

    const mirrored = store(ns)
    await mirrored.ready('5s')
    expect(mirrored.isRevoked('forever-1')).toBe(true)
    expect(mirrored.isRevoked('forever-2')).toBe(true)
    expect(mirrored.isRevoked('other')).toBe(false)

    const small = store(ns, { max: 1 }) // one of the two leaves the mirror: that one is asked of Redis
    await small.ready('5s')
    expect(await small.isRevoked('forever-1')).toBe(true)
    expect(await small.isRevoked('forever-2')).toBe(true)
    expect(await small.isRevoked('other')).toBe(false)
  })

  it('accepts expiresAt as a NumericDate in seconds (claims.exp), stored like the Date', async () => {
    const ns = `numeric${seq++}`
    const s = store(ns)
    await s.ready('5s')
    const exp = Math.floor(Date.now() / 1000) + 300
    await s.revoke('by-seconds', exp)
    await s.revoke('by-date', new Date(exp * 1000))
    expect(s.isRevoked('by-seconds')).toBe(true)
    const raw = connect()
    const [bySeconds, byDate] = await Promise.all([
      raw.pttl(`test:${ns}:by-seconds`),
      raw.pttl(`test:${ns}:by-date`),
    ])
    expect(Math.abs(bySeconds - byDate)).toBeLessThan(1000)
    expect(bySeconds).toBeGreaterThan(300_000 + REVOCATION_SLACK_MS - 5_000)
  })

  it('refuses a millisecond number and malformed expiries with the TypeError of the memory store', async () => {
    const s = store(`msexp${seq++}`)
    await expect(s.revoke('ms', Date.now() + 60_000)).rejects.toThrow(
      /^bearer-guard: revoke\(\) expiresAt \d+ looks like milliseconds: pass seconds \(claims\.exp\) or a Date$/,
    )
    for (const bad of [new Date('nope'), Number.NaN, -5, '1700000000', undefined]) {
      await expect(s.revoke('j', bad as never)).rejects.toThrow(
        'bearer-guard: revoke() needs expiresAt as a Date or a NumericDate in seconds (auth.expiresAt or claims.exp)',
      )
    }
    expect(s.isRevoked('ms')).toBe(false)
  })

  it('revokes a jti over 1 KiB: hashed into the key, seen by the mirror, pub/sub, a restart and EXISTS', async () => {
    const ns = `longjti${seq++}`
    const long = `${'j'.repeat(3000)}-1`
    const longToo = `${'j'.repeat(3000)}-2`
    const a = store(ns)
    const b = store(ns)
    await Promise.all([a.ready('5s'), b.ready('5s')])
    await a.revoke(long, inFiveMinutes())
    expect(a.isRevoked(long)).toBe(true)
    expect(a.isRevoked(longToo)).toBe(false)
    expect(await until(() => b.isRevoked(long), 1000)).toBe(true)

    const raw = connect()
    const [, keys] = await raw.scan('0', 'MATCH', `test:${ns}:*`, 'COUNT', 1000)
    expect(keys).toHaveLength(1)
    expect((keys[0] as string).length).toBeLessThan(100)

    await a.revoke(longToo, inFiveMinutes())
    const restarted = store(ns)
    await restarted.ready('5s')
    expect([restarted.isRevoked(long), restarted.isRevoked(longToo)]).toEqual([true, true])
    const small = store(ns, { max: 1 })
    await small.ready('5s')
    expect([await small.isRevoked(long), await small.isRevoked(longToo)]).toEqual([true, true])
    expect(await small.isRevoked(`${'j'.repeat(3000)}-3`)).toBe(false)
  })

  it('makes a token whose jti is over 1 KiB revocable through the verifier', async () => {
    const ns = `longtoken${seq++}`
    const issuer = await createTestIssuer()
    const s = store(ns)
    await s.ready('5s')
    const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: s }))
    const token = await issuer.sign({ jti: 'x'.repeat(2000) })
    const auth = await verifier.verifyAccessToken(token)
    expect(auth.claims.jti).toBe('x'.repeat(2000))
    await s.revoke(auth.claims.jti as string, auth.claims.exp as number)
    await expect(verifier.verifyAccessToken(token)).rejects.toBeInstanceOf(TokenRevokedError)
  })

  it('rejects unknown options and out-of-range durations in the core style', () => {
    const client = connect()
    expect(() => createRedisRevocationStore({ client, maxStalenes: '5s' } as never)).toThrow(
      'bearer-guard: unknown option "maxStalenes"',
    )
    expect(() => createRedisRevocationStore({ client, resyncInterval: '30d' })).toThrow(
      /^bearer-guard: invalid option "resyncInterval": must be at most 86400 seconds/,
    )
    expect(() => createRedisRevocationStore({ client, prefix: '' })).toThrow(
      'bearer-guard: invalid option "prefix": expected a non-empty string',
    )
    expect(() => createRedisRevocationStore({ client, logger: 'console' as never })).toThrow(
      /^bearer-guard: invalid option "logger"/,
    )
    expect(() => createRedisRevocationStore(undefined as never)).toThrow(/^bearer-guard: invalid option "client"/)
  })

  describe('faults', () => {
    let faulty: RedisProcess
    let dir: string

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bg-redis-'))
      faulty = await startRedis({ dir })
    })
    afterAll(async () => {
      await faulty.kill()
      await rm(dir, { recursive: true, force: true })
    })

    it('keeps answering from the mirror while Redis is down, then recovers', async () => {
      const ns = `down${seq++}`
      const options = { maxStaleness: '30s' }
      const a = store(ns, options, faulty.url)
      const b = store(ns, options, faulty.url)
      await Promise.all([a.ready('5s'), b.ready('5s')])
      await a.revoke('before', inFiveMinutes())
      expect(await until(() => b.isRevoked('before'), 1000)).toBe(true)

      await faulty.kill()
      expect(await until(() => !b.status.synced, 2000)).toBe(true)
      expect(b.isRevoked('before')).toBe(true)
      expect(b.isRevoked('other')).toBe(false)
      expect(logs.some((l) => l.startsWith('warn') && l.includes('local mirror'))).toBe(true)
      // a revocation during the outage: denied locally, the caller is told it is not shared
      await expect(a.revoke('during', inFiveMinutes())).rejects.toThrow(/not shared/)
      expect(a.isRevoked('during')).toBe(true)

      await faulty.restart()
      expect(await until(() => a.status.synced && b.status.synced, 5000)).toBe(true)
      // the write made during the outage is replayed after reconnect
      expect(await until(() => b.isRevoked('during'), 5000)).toBe(true)
      await a.revoke('after', inFiveMinutes())
      expect(await until(() => b.isRevoked('after'), 1000)).toBe(true)
      expect(b.isRevoked('before')).toBe(true)
    })

    it('fails closed with a 503 once the mirror is older than maxStaleness, and reopens after', async () => {
      const ns = `stale${seq++}`
      const s = store(ns, { maxStaleness: '1s', heartbeatInterval: '200ms' }, faulty.url)
      await s.ready('5s')
      await s.revoke('r', inFiveMinutes())
      expect(s.isRevoked('fresh')).toBe(false)

      await faulty.kill()
      const err = await until(async () => {
        const result = await probe(s, 'fresh')
        return result instanceof Error ? result : undefined
      }, 5000)
      expect(err).toBeInstanceOf(KeySourceUnavailableError)
      expect(err).toMatchObject({ status: 503, code: 'temporarily_unavailable' })
      expect((err as KeySourceUnavailableError).reason).toMatch(/stale/)
      expect(() => s.isRevoked('r')).toThrow(KeySourceUnavailableError)
      expect(s.status.stale).toBe(true)
      const issuer = await createTestIssuer()
      const verifier = createVerifier(issuer.verifierOptions('keys', { revocation: s }))
      await expect(verifier.verifyAccessToken(await issuer.sign())).rejects.toMatchObject({
        status: 503,
        code: 'temporarily_unavailable',
      })
      expect(logs.some((l) => l.startsWith('error') && l.includes('failing closed'))).toBe(true)

      await faulty.restart()
      expect(await until(async () => (await probe(s, 'fresh')) === false, 5000)).toBe(true)
      expect(s.isRevoked('r')).toBe(true)
    })

    it('persists revocations across a Redis restart when Redis persists them', async () => {
      const ns = `aof${seq++}`
      const a = store(ns, {}, faulty.url)
      await a.ready('5s')
      await a.revoke('durable', inFiveMinutes())
      await faulty.kill()
      await faulty.restart()
      const fresh = store(ns, {}, faulty.url)
      await fresh.ready('5s')
      expect(fresh.isRevoked('durable')).toBe(true)
    })
  })

  it('starts with Redis unreachable without hanging, then syncs when Redis comes up', async () => {
    const port = await freePort()
    const url = `redis://127.0.0.1:${port}`
    const ns = `late${seq++}`
    const s = store(ns, { commandTimeout: '200ms' }, url)
    expect(s.isRevoked('anything')).toBe(false)
    await expect(s.ready('300ms')).rejects.toThrow(/not synced/)
    await expect(s.revoke('early', inFiveMinutes())).rejects.toThrow(/not shared/)
    const late = await startRedis({ port })
    try {
      await s.ready('5s')
      expect(s.status.synced).toBe(true)
      expect(s.isRevoked('early')).toBe(true)
      const other = store(ns, {}, url)
      await other.ready('5s')
      expect(await until(() => other.isRevoked('early'), 2000)).toBe(true)
    } finally {
      await late.kill()
    }
  })
})
