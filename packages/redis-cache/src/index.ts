/**
 * @packageDocumentation
 * A ptftp resolver cache shared by replicas and worker processes through Redis or Valkey:
 * {@link RedisCache}. The index, "not found" answers and device affinity live in Redis; small
 * files too; large files in each replica's own disk tier. One replica fetches a file nobody
 * has (a fleet-wide lease), a flush anywhere reaches every replica, and a replica that loses
 * Redis goes on serving from its own tier and the clusters.
 *
 * @example
 * ```ts
 * import { RedisCache } from '@ptftp/redis-cache';
 * const cache = new RedisCache({ url: 'redis://10.0.0.5:6379', prefix: 'ptftp:' });
 * const resolver = new Resolver({ clusters }, { store, cache });
 * ```
 */
export {
  connectionOptions,
  DEFAULT_INLINE_MAX_BYTES,
  DEFAULT_PREFIX,
  type RedisCacheOptions,
} from './options.js';
export { RedisCache, type RedisCacheEvents, type SharedCacheStats } from './redis-cache.js';
