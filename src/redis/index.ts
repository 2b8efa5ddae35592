/**
 * A revocation (jti denylist) store shared by every instance of a service through Redis, answered
 * from a local mirror kept current by pub/sub and periodic resync.
 *
 * Subpath export `'bearer-guard/redis'`. ioredis is an optional peer dependency: you pass the client,
 * this module never imports it. It loads neither jose nor zod (test/packaging/redis-imports.test.ts).
 *
 * @module bearer-guard/redis
 */
export { createRedisRevocationStore } from './redis-revocation-store.js'

export type {
  RedisClientLike,
  RedisRevocationStatus,
  RedisRevocationStore,
  RedisRevocationStoreOptions,
  RedisSubscriberLike,
  RevocationLogger,
} from './types.js'
