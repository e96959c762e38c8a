import type { TieredCacheOptions } from '@ptftp/resolver';
import type { RedisOptions } from 'ioredis';

/** Settings of a {@link RedisCache}. */
export interface RedisCacheOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
  url: string;
  /** Prefix of every key and of the event channel (default `ptftp:`): one per fleet. */
  prefix?: string;
  /** The password, when not in the URL (default: env `PTFTP_REDIS_PASSWORD`). */
  password?: string;
  /** Files up to this size live in Redis too (default 256 KiB); larger ones only on each replica's disk. */
  inlineMaxBytes?: number;
  /** Lifetime of a file (default 1800 s), in Redis and in the local tier. */
  ttlSeconds?: number;
  /** Lifetime of a "not found" answer (default 10 s). */
  negativeTtlSeconds?: number;
  /** The local tier (memory + disk) every replica keeps: `maxBytes`, `dir`, `diskMaxBytes`. */
  local?: Omit<TieredCacheOptions, 'ttlSeconds' | 'negativeTtlSeconds'>;
  /** Lifetime of a fleet-wide fetch lease (default 5000 ms), renewed every third of it while the fetch runs. */
  leaseMs?: number;
  /** How long a replica waits for another one's fetch before fetching itself (default 10000 ms). */
  leaseWaitMs?: number;
  /** A Redis command slower than this counts as Redis unreachable (default 2000 ms: a replica in a boot storm lags by hundreds of ms, and a false "unreachable" costs a duplicate fetch). */
  commandTimeoutMs?: number;
}

export const DEFAULT_PREFIX = 'ptftp:';
export const DEFAULT_INLINE_MAX_BYTES = 256 * 1024;
export const DEFAULT_LEASE_MS = 5000;
export const DEFAULT_LEASE_WAIT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/**
 * ioredis settings for a cache that must never wait on Redis: no offline queue (a command while
 * disconnected fails at once, and the replica serves from its own tier), a command timeout,
 * and reconnection forever with a capped backoff so the replica rejoins when Redis is back.
 */
export function connectionOptions(
  opts: RedisCacheOptions,
  env: NodeJS.ProcessEnv = process.env,
): RedisOptions {
  const url = new URL(opts.url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new TypeError(`cache.shared.url must be redis:// or rediss://, got ${url.protocol}`);
  const password =
    opts.password ?? (url.password ? decodeURIComponent(url.password) : env.PTFTP_REDIS_PASSWORD);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(password && { password }),
    ...(Number.isInteger(db) && db > 0 && { db }),
    ...(url.protocol === 'rediss:' && { tls: { servername: url.hostname } }),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
  };
}
