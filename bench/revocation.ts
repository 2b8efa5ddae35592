/**
 * Cost of one revocation check per verification: `isRevoked` on the Redis store's local mirror
 * (the hot path; no network involved) and on the core's memory store.
 *
 * Run alone: `node --import tsx bench/revocation.ts`. The bench runner imports
 * `runRevocationBench()`.
 *
 * The Redis store runs against an in-process stub client that answers SCAN, PUBLISH and SUBSCRIBE
 * like an empty Redis, so the store is synced and the measurement is the mirror lookup plus the
 * staleness check, as in production.
 */
import { EventEmitter } from 'node:events'
import { pathToFileURL } from 'node:url'
import { createMemoryRevocationStore } from '../src/core/stores/memory-revocation.js'
import type { RevocationStore } from '../src/core/types.js'
import { createRedisRevocationStore, type RedisClientLike } from '../src/redis/index.js'
import { median } from './lib/stats.js'

export interface RevocationBenchResult {
  name: string
  /** Median nanoseconds per `isRevoked` call over the rounds. */
  medianNs: number
}

const REVOKED = 10_000
const LOOKUPS = 200_000
const BATCH = 10_000
const ROUNDS = 400
const CLAIMS = {}

/** An ioredis stand-in with nothing stored: enough for the store to subscribe and sync. */
function stubClient(): RedisClientLike {
  const subscriber = Object.assign(new EventEmitter(), {
    status: 'ready',
    subscribe: async () => 1,
    disconnect() {
      subscriber.status = 'end'
    },
  })
  return {
    set: async () => 'OK',
    publish: async (_channel: string, message: string) => {
      queueMicrotask(() => subscriber.emit('message', 'bearer-guard:revocations', message))
      return 1
    },
    scan: async () => ['0', []] as [string, string[]],
    pttl: async () => -2,
    exists: async () => 0,
    duplicate: () => subscriber,
  }
}

/**
 * Median ns per call over many short batches: a batch preempted by another process (the machine
 * is shared) lands in the tail and leaves the median alone.
 */
function measure(store: RevocationStore, jtis: readonly string[]): number {
  const samples: number[] = []
  let hits = 0
  for (let round = 0; round < ROUNDS; round++) {
    const from = (round * BATCH) % jtis.length
    const start = process.hrtime.bigint()
    for (let i = from; i < from + BATCH; i++) {
      if (store.isRevoked(jtis[i] as string, CLAIMS) === true) hits++
    }
    samples.push(Number(process.hrtime.bigint() - start) / BATCH)
  }
  if (hits === 0) throw new Error('no lookup hit: the bench is not measuring what it claims')
  return median(samples)
}

/** Measures the median cost of `isRevoked` (ns per call) for each store. */
export async function runRevocationBench(): Promise<RevocationBenchResult[]> {
  const expiresAt = new Date(Date.now() + 3600_000)
  const revoked = Array.from({ length: REVOKED }, () => crypto.randomUUID())
  // one lookup in ten is a revoked jti, the rest are unknown (the common case)
  const lookups = Array.from({ length: LOOKUPS }, (_, i) =>
    i % 10 === 0 ? (revoked[i % REVOKED] as string) : crypto.randomUUID(),
  )

  const redis = createRedisRevocationStore({ client: stubClient(), logger: false })
  await redis.ready('5s')
  for (const jti of revoked) await redis.revoke(jti, expiresAt)

  const memory = createMemoryRevocationStore()
  for (const jti of revoked) memory.revoke(jti, expiresAt)

  // warm both paths up before measuring
  measure(redis, lookups)
  measure(memory, lookups)

  // the floor: a plain Map lookup of the same jtis, to read the others against on a noisy machine
  const floorMap = new Map(revoked.map((jti) => [jti, expiresAt.getTime()]))
  const floor: RevocationStore = { isRevoked: (jti) => floorMap.has(jti), revoke() {} }
  measure(floor, lookups)

  const results = [
    { name: 'floor: Map.has on the same jtis', medianNs: measure(floor, lookups) },
    { name: `redis store, mirror path (${REVOKED} revoked, 10% hits)`, medianNs: measure(redis, lookups) },
    { name: `memory store (${REVOKED} revoked, 10% hits)`, medianNs: measure(memory, lookups) },
  ]
  await redis.close()
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await runRevocationBench()
  console.log('| store | median per isRevoked |')
  console.log('| --- | --- |')
  for (const r of results) console.log(`| ${r.name} | ${r.medianNs.toFixed(0)} ns |`)
}
