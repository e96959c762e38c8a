import type { Content } from '@ptftp/protocol';
import type { UpstreamSink } from './upstream.js';

/** A file learned from a remote cluster, as a cache hands it out. */
export interface CachedFile {
  /** The file, with one reference for the caller (who releases it). */
  readonly content: Content;
  readonly size: number;
  /** A content hash (sha-256 prefix). */
  readonly version: string;
  readonly clusterId: string;
  readonly address: string;
}

/** What {@link ResolverCache.get} knows about a name. */
export type CacheLookup =
  | { readonly kind: 'file'; readonly file: CachedFile }
  /** A cluster search answered "no cluster has it" recently. */
  | { readonly kind: 'negative' }
  | undefined;

/** Options of {@link ResolverCache.set} and {@link CacheFill.finish}. */
export interface CacheSetOptions {
  /** Lifetime in ms (default: the cache's TTL). */
  ttlMs?: number;
  /** The phone the file is about (`SEP001122334455`), for flushing by device. */
  device?: string;
}

/**
 * Which entries {@link ResolverCache.flush} drops: those matching any selector given (a name,
 * a glob pattern, a device, a cluster); with no selector, everything.
 */
export interface CacheFlushScope {
  name?: string;
  /** A glob (`*`, `?`) over names. */
  pattern?: string;
  /** Every file of this device, and what was learned about it (its cluster). */
  device?: string;
  /** Every file learned from these clusters, and the device affinities pointing to them. */
  clusters?: readonly string[];
  /** Only "not found" answers (a new cluster may have the file). */
  negativeOnly?: boolean;
}

/** Counters and sizes of a cache, for `ptftp status` and metrics. */
export interface CacheStats {
  /** Files held. */
  entries: number;
  /** Bytes of the files held, each counted once (a file may be in both tiers). */
  bytes: number;
  /** Bytes of files held in memory. */
  memoryBytes: number;
  /** Bytes of files held on disk. */
  diskBytes: number;
  hits: number;
  misses: number;
}

/**
 * A file being fetched into the cache: the upstream writes it (it is an {@link UpstreamSink}),
 * phones read `content` while it arrives. Exactly one of `finish` or `fail` ends it.
 */
export interface CacheFill extends UpstreamSink {
  /** The file as it arrives; the fill holds one reference (`retain()` one per consumer). */
  readonly content: Content;
  /** Bytes written so far. */
  readonly written: number;
  /**
   * Every byte is in. With `store`, the file is kept under its name (the cache takes over the
   * fill's reference); otherwise it is served to its readers and then dropped.
   */
  finish(
    meta: { clusterId: string; address: string },
    opts: CacheSetOptions & { store: boolean },
  ): Promise<void>;
  /** The fetch failed: every reader rejects; nothing is kept. */
  fail(err: unknown): void;
}

/**
 * Where the resolver keeps what it learned from remote clusters: files (with a TTL), "not
 * found" answers (a shorter TTL), and which cluster each phone belongs to. Asynchronous, so
 * that a cache shared by several proxies (Redis, a database) can implement it.
 *
 * The default, {@link TieredCache}, keeps hot files in memory and the rest on disk, and streams
 * a remote file to phones while it arrives. Prove your own with `runCacheCompliance` from
 * `@ptftp/resolver/testing`.
 *
 * @example
 * ```ts
 * const cache: ResolverCache = new TieredCache({ dir: '/var/cache/ptftp' });
 * const resolver = new Resolver({ clusters }, { store, cache });
 * const hit = await cache.get('SEP001122334455.cnf.xml');
 * if (hit?.kind === 'file') hit.file.content.release();
 * ```
 */
export interface ResolverCache {
  /** A live file (with one reference for the caller), a live "not found", or nothing. */
  get(name: string): Promise<CacheLookup>;
  /** Starts fetching `name` into the cache (nothing is visible under the name until `finish`). */
  fill(name: string): CacheFill;
  /** Keeps a complete file (the cache takes its own reference; the caller keeps theirs). */
  set(
    name: string,
    file: Omit<CachedFile, 'content'> & { content: Content },
    opts?: CacheSetOptions,
  ): Promise<void>;
  /** Remembers that no cluster has `name`, for `ttlMs` (default: the negative TTL). */
  setNegative(name: string, ttlMs?: number): Promise<void>;
  /** Drops the matching entries; resolves with how many (files and "not found" answers). */
  flush(scope?: CacheFlushScope): Promise<number>;
  /** The cluster `device` was last found on, while that is live. */
  affinity(device: string): Promise<string | undefined>;
  /** Remembers that `device`'s files are on `clusterId`. */
  learnAffinity(device: string, clusterId: string): Promise<void>;
  /** Forgets `device`'s cluster (the phone may have moved). */
  forgetAffinity(device: string): Promise<void>;
  stats(): CacheStats;
  /** Releases what the cache holds (files, descriptors). */
  close(): Promise<void>;
}
