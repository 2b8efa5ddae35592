/**
 * createRedisReplayStore: one `SET NX PX` per proof id on a real redis-server; a replay seen by any
 * instance is refused by all; Redis down, slow or odd → a 503 error, never `true`.
 */
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { isAuthError } from '../../src/core/errors.js'
import { createRedisReplayStore, type RedisReplayClientLike, type RedisReplayStore } from '../../src/redis/index.js'
import { hasRedis, startRedis, stopAllRedis, type RedisProcess } from '../helpers/redis-server.js'

const inOneMinute = () => Math.floor(Date.now() / 1000) + 60
let seq = 0

/** `mark` as a settled value: the boolean, or the error it rejected with. */
function settle(store: RedisReplayStore, id: string, expiresAt = inOneMinute()): Promise<unknown> {
  return store.mark(id, expiresAt).then(
    (v) => v,
    (e: unknown) => e,
  )
}

function expectUnavailable(outcome: unknown, reason: RegExp): void {
  expect(isAuthError(outcome)).toBe(true)
  expect(outcome).toMatchObject({ status: 503, code: 'temporarily_unavailable', description: 'replay check unavailable, retry later' })
  expect((outcome as Error).message).toMatch(reason)
}

describe('createRedisReplayStore without Redis', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('rejects with a 503 when SET does not answer within commandTimeout', async () => {
    vi.useFakeTimers()
    const client: RedisReplayClientLike = { set: () => new Promise(() => {}) }
    const store = createRedisReplayStore({ client, commandTimeout: '250ms' })
    const outcome = settle(store, 'jti-1')
    await vi.advanceTimersByTimeAsync(249)
    let settled = false
    void outcome.then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expectUnavailable(await outcome, /SET timed out after 250 ms/)
  })

  it('rejects with a 503 when SET throws, rejects or answers anything but OK or nil', async () => {
    const replies: (() => Promise<unknown>)[] = [
      () => {
        throw new Error('Connection is closed.')
      },
      () => Promise.reject(new Error('READONLY You cannot write against a read only replica.')),
      () => Promise.resolve('QUEUED'),
      () => Promise.resolve(undefined),
      () => Promise.resolve(1),
    ]
    const outcomes = await Promise.all(replies.map((set) => settle(createRedisReplayStore({ client: { set } }), 'jti')))
    expectUnavailable(outcomes[0], /Connection is closed/)
    expectUnavailable(outcomes[1], /READONLY/)
    expectUnavailable(outcomes[2], /unexpected SET reply "QUEUED"/)
    expectUnavailable(outcomes[3], /unexpected SET reply/)
    expectUnavailable(outcomes[4], /unexpected SET reply 1/)
  })

  it('sends one SET key 1 PX <ms until expiresAt> NX under the prefix', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-01-01T00:00:00.250Z'))
    const calls: unknown[][] = []
    const store = createRedisReplayStore({
      client: { set: async (...args: unknown[]) => (calls.push(args), 'OK') },
      prefix: 'app:proofs:',
    })
    const now = Date.now() / 1000
    await expect(store.mark('a', Math.floor(now) + 60)).resolves.toBe(true)
    await expect(store.mark('b', Math.floor(now) - 30)).resolves.toBe(true) // already past: kept one second
    expect(calls).toEqual([
      ['app:proofs:a', '1', 'PX', 59_750, 'NX'],
      ['app:proofs:b', '1', 'PX', 1000, 'NX'],
    ])
  })

  it('names an id over 1024 characters by its SHA-256', async () => {
    const keys: string[] = []
    const store = createRedisReplayStore({ client: { set: async (key: string) => (keys.push(key), 'OK') } })
    await store.mark('x'.repeat(1024), inOneMinute())
    await store.mark('x'.repeat(1025), inOneMinute())
    await store.mark('x'.repeat(100_000), inOneMinute())
    expect(keys[0]).toBe(`bearer-guard:dpop:${'x'.repeat(1024)}`)
    expect(keys[1]).toMatch(/^bearer-guard:dpop:#sha256:[\w-]{43}$/)
    expect(keys[2]).toMatch(/^bearer-guard:dpop:#sha256:[\w-]{43}$/)
    expect(keys[1]).not.toBe(keys[2])
  })

  it('refuses invalid options and arguments with a TypeError naming them', async () => {
    const client: RedisReplayClientLike = { set: async () => 'OK' }
    expect(() => createRedisReplayStore(undefined as never)).toThrow(/^bearer-guard: invalid option "client"/)
    expect(() => createRedisReplayStore({} as never)).toThrow(/^bearer-guard: invalid option "client": is required/)
    expect(() => createRedisReplayStore({ client: {} as never })).toThrow(/"client": expected an ioredis client \(no set\(\)\)/)
    expect(() => createRedisReplayStore({ client, prefix: '' })).toThrow(/"prefix"/)
    expect(() => createRedisReplayStore({ client, commandTimeout: 'soon' })).toThrow(/"commandTimeout"/)
    expect(() => createRedisReplayStore({ client, keyPrefix: 'x' } as never)).toThrow(/unknown option "keyPrefix"/)
    const store = createRedisReplayStore({ client })
    await expect(store.mark('', inOneMinute())).rejects.toThrow(TypeError)
    await expect(store.mark('id', Number.NaN)).rejects.toThrow(TypeError)
    await expect(store.mark('id', new Date() as never)).rejects.toThrow(TypeError)
  })
})

describe.skipIf(!hasRedis)('createRedisReplayStore against a real redis-server', () => {
  let redis: RedisProcess
  const clients: Redis[] = []

  function connect(url = redis.url, options: RedisOptions = {}): Redis {
    const client = new Redis(url, { retryStrategy: () => 100, maxRetriesPerRequest: 1, ...options })
    client.on('error', () => {})
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(() => {
    clients.splice(0).forEach((c) => c.disconnect())
  })
  afterAll(stopAllRedis)

  it('answers true the first time an id is seen and false after, on every instance', async () => {
    const prefix = `t${seq++}:`
    const a = createRedisReplayStore({ client: connect(), prefix })
    const b = createRedisReplayStore({ client: connect(), prefix })
    expect(await a.mark('proof-1', inOneMinute())).toBe(true)
    expect(await b.mark('proof-1', inOneMinute())).toBe(false)
    expect(await a.mark('proof-1', inOneMinute())).toBe(false)
    expect(await b.mark('proof-2', inOneMinute())).toBe(true)
  })

  it('lets exactly one of many instances accept the same id sent to all at once', async () => {
    const prefix = `race${seq++}:`
    const stores = Array.from({ length: 8 }, () => createRedisReplayStore({ client: connect(), prefix }))
    const answers = await Promise.all(stores.flatMap((s) => [s.mark('same', inOneMinute()), s.mark('same', inOneMinute())]))
    expect(answers.filter(Boolean)).toHaveLength(1)
    expect(answers).toHaveLength(16)
  })

  it('keeps the id until expiresAt, honouring the client keyPrefix', async () => {
    const prefix = `ttl${seq++}:`
    const store = createRedisReplayStore({ client: connect(redis.url, { keyPrefix: 'svc:' }), prefix })
    await store.mark('kept', inOneMinute())
    const pttl = await connect().pttl(`svc:${prefix}kept`)
    expect(pttl).toBeGreaterThan(55_000)
    expect(pttl).toBeLessThanOrEqual(60_000)
  })

  it('lets an id be used again once its key expired', async () => {
    const prefix = `exp${seq++}:`
    const store = createRedisReplayStore({ client: connect(), prefix })
    expect(await store.mark('short', Math.floor(Date.now() / 1000) - 10)).toBe(true) // kept the 1 s minimum
    expect(await store.mark('short', inOneMinute())).toBe(false)
    const probe = connect()
    const deadline = Date.now() + 3000
    while ((await probe.exists(`${prefix}short`)) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(await store.mark('short', inOneMinute())).toBe(true)
  })

  it('refuses a replayed id over 1 KiB, stored as its hash', async () => {
    const prefix = `long${seq++}:`
    const store = createRedisReplayStore({ client: connect(), prefix })
    const long = 'j'.repeat(4000)
    expect(await store.mark(long, inOneMinute())).toBe(true)
    expect(await store.mark(long, inOneMinute())).toBe(false)
    expect(await store.mark(`${long}x`, inOneMinute())).toBe(true)
    const keys = await connect().keys(`${prefix}*`)
    expect(keys).toHaveLength(2)
    expect(keys.every((k) => k.length < 100)).toBe(true)
  })

  it('rejects with a 503 while Redis is down, and answers again after it restarts', async () => {
    const faulty = await startRedis()
    const prefix = `down${seq++}:`
    const store = createRedisReplayStore({ client: connect(faulty.url), prefix, commandTimeout: '500ms' })
    expect(await store.mark('before', inOneMinute())).toBe(true)
    await faulty.kill()
    const during = await Promise.all([settle(store, 'before'), settle(store, 'new')])
    for (const outcome of during) expectUnavailable(outcome, /^Redis SET NX failed: /)
    await faulty.restart()
    const deadline = Date.now() + 5000
    let after: unknown = await settle(store, 'after')
    while (after !== true && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      after = await settle(store, 'after')
    }
    expect(after).toBe(true)
    await faulty.kill()
  })
})
