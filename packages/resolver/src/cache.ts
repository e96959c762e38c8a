import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchBudgetOptions } from './fetch-budget.js';

/** Cache settings (`ResolverInit.cache`), for the default {@link TieredCache} and the fetch budget. */
export interface CacheOptions {
  /** Lifetime of a file learned from a remote cluster (default 1800 s: the spec's 30 minutes). */
  ttlSeconds?: number;
  /** Lifetime of a "no cluster has it" answer (default 10 s). 0 disables negative caching. */
  negativeTtlSeconds?: number;
  /**
   * Bound of the file bytes held in memory (default 64 MiB, LRU). A file larger than an eighth
   * of it stays on disk only (it is read from the page cache by offset).
   */
  maxBytes?: number;
  /**
   * Folder of the disk tier (default `$STATE_DIRECTORY`, else `$XDG_CACHE_HOME/ptftp`, else
   * `<os tmpdir>/ptftp-cache-<uid>`; created mode 0700). An empty string keeps files in memory
   * only (then a file larger than an eighth of `maxBytes` is served but not kept).
   */
  dir?: string;
  /** Bound of the bytes on disk (default 4 GiB, LRU; a file still being read goes after its last reader). */
  diskMaxBytes?: number;
  /** Remote fetches running at once (default 32); more wait, then get "server busy". */
  maxFetches?: FetchBudgetOptions['maxFetches'];
  /** Bytes received by the fetches still running, all together (default 256 MiB). */
  maxInflightBytes?: FetchBudgetOptions['maxInflightBytes'];
  /** How long a fetch beyond the budget waits before "server busy" (default 2000 ms). */
  budgetWaitMs?: FetchBudgetOptions['waitMs'];
}

export const DEFAULT_CACHE_TTL_SECONDS = 1800;
export const DEFAULT_NEGATIVE_TTL_SECONDS = 10;
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CACHE_DISK_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** A file larger than `maxBytes / MEMORY_FILE_FRACTION` is kept on disk only. */
export const MEMORY_FILE_FRACTION = 8;

/**
 * The default folder of the disk tier: systemd's `StateDirectory=`, else the XDG cache folder,
 * else a per-user folder under the OS temp folder.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.STATE_DIRECTORY?.split(':')[0];
  if (state) return state;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'ptftp');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `ptftp-cache-${uid}`);
}
