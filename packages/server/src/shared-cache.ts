import type {
  CachedFile,
  CacheFill,
  CacheFlushScope,
  CacheLookup,
  CacheSetOptions,
  CacheStats,
  ResolverCache,
} from '@ptftp/resolver';
import type { ProxyConfig } from './config-schema.js';
import { ConfigError } from './errors.js';

const EMPTY: CacheStats = { entries: 0, bytes: 0, memoryBytes: 0, diskBytes: 0, hits: 0, misses: 0 };

/**
 * The cache of `cache.shared` (Redis/Valkey), from `@ptftp/redis-cache` loaded on first use:
 * installs without a shared cache carry no Redis client. One per server, kept across reloads
 * (a resolver rebuilt by a reload shares it) and closed with the server. Until the package is
 * loaded, calls wait for it; `loaded()` rejects with a ConfigError when it is not installed.
 */
export class SharedCache implements ResolverCache {
  #inner:
    | (ResolverCache & { sharedStats(): { up: boolean; errors: number }; ready(ms: number): Promise<void> })
    | undefined;
  readonly #loading: Promise<ResolverCache>;

  constructor(config: ProxyConfig) {
    const shared = config.cache.shared!;
    const { ttlSeconds, negativeTtlSeconds, maxBytes, dir, diskMaxBytes } = config.cache;
    this.#loading = import('@ptftp/redis-cache').then(
      ({ RedisCache }) => {
        this.#inner = new RedisCache({
          url: shared.url,
          prefix: shared.prefix,
          ...(shared.inlineMaxBytes !== undefined && { inlineMaxBytes: shared.inlineMaxBytes }),
          ttlSeconds,
          ...(negativeTtlSeconds !== undefined && { negativeTtlSeconds }),
          local: {
            ...(maxBytes !== undefined && { maxBytes }),
            ...(dir !== undefined && { dir }),
            ...(diskMaxBytes !== undefined && { diskMaxBytes }),
          },
        });
        return this.#inner;
      },
      (err: unknown) => {
        throw new ConfigError([
          {
            path: 'cache.shared',
            message: `needs the package @ptftp/redis-cache (npm install @ptftp/redis-cache): ${(err as Error).message}`,
          },
        ]);
      },
    );
    // Reported by loaded() (at start) and by the first call.
    this.#loading.catch(() => {});
  }

  /**
   * Resolves once the package is loaded and Redis answered, or after `waitMs` without Redis
   * (the server then starts anyway, serving from its own tier, and joins when Redis comes).
   */
  async loaded(waitMs = 2000): Promise<void> {
    await this.#loading;
    await this.#inner?.ready(waitMs).catch(() => {});
  }

  /** Redis reachable, and the Redis commands that failed (for status and metrics). */
  shared(): { up: boolean; errors: number } {
    const s = this.#inner?.sharedStats();
    return { up: s?.up ?? false, errors: s?.errors ?? 0 };
  }

  async get(name: string): Promise<CacheLookup> {
    return (await this.#loading).get(name);
  }
  fill(name: string): CacheFill {
    // The resolver fills only after a get, so the package is loaded by then.
    if (!this.#inner) throw new Error('shared cache not loaded yet');
    return this.#inner.fill(name);
  }
  async set(
    name: string,
    file: Omit<CachedFile, 'content'> & CachedFile,
    opts?: CacheSetOptions,
  ): Promise<void> {
    return (await this.#loading).set(name, file, opts);
  }
  async setNegative(name: string, ttlMs?: number): Promise<void> {
    return (await this.#loading).setNegative(name, ttlMs);
  }
  async flush(scope?: CacheFlushScope): Promise<number> {
    return (await this.#loading).flush(scope);
  }
  async affinity(device: string): Promise<string | undefined> {
    return (await this.#loading).affinity(device);
  }
  async learnAffinity(device: string, clusterId: string): Promise<void> {
    return (await this.#loading).learnAffinity(device, clusterId);
  }
  async forgetAffinity(device: string): Promise<void> {
    return (await this.#loading).forgetAffinity(device);
  }
  stats(): CacheStats {
    return this.#inner?.stats() ?? EMPTY;
  }
  async close(): Promise<void> {
    await this.#loading.then((c) => c.close()).catch(() => {});
  }
}
