/**
 * Stores shared by every instance of a service through Redis: a revocation (jti denylist) store
 * answered from a local mirror kept current by pub/sub and periodic resync, and a DPoP proof replay
 * store (one `SET NX` per proof).
 *
 * Subpath export `'bearer-guard/redis'`. ioredis is an optional peer dependency: you pass the client,
 * this module never imports it. It loads neither jose nor zod (test/packaging/redis-imports.test.ts).
 *
 * @module bearer-guard/redis
 */
export { createRedisReplayStore } from './redis-replay-store.js'
export { createRedisRevocationStore } from './redis-revocation-store.js'

export type {
  RedisClientLike,
  RedisReplayClientLike,
  RedisReplayStore,
  RedisReplayStoreOptions,
  RedisRevocationStatus,
  RedisRevocationStore,
  RedisRevocationStoreOptions,
  RedisSubscriberLike,
  RevocationLogger,
} from './types.js'
