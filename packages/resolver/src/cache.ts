import { LRUCache } from 'lru-cache';
import type { Resolution } from './resolution.js';

/** A file learned from a remote cluster. */
export interface CachedFile {
  data: Uint8Array;
  clusterId: string;
  address: string;
  /** A content tag (sha-256 prefix). */
  version: string;
  fetchedAt: number;
  /** The answer served on a hit (source `cache`), built once. */
  resolution: Resolution;
}

/** Cache settings (`ResolverInit.cache`). */
export interface CacheOptions {
  /** Lifetime of a file learned from a remote cluster (default 1800 s: the spec's 30 minutes). */
  ttlSeconds?: number;
  /** Lifetime of a "no cluster has it" answer (default 10 s). 0 disables negative caching. */
  negativeTtlSeconds?: number;
  /** Bound of the cached bytes (default 256 MiB). A larger file is served but not cached. */
  maxBytes?: number;
}

export const DEFAULT_CACHE_TTL_SECONDS = 1800;
export const DEFAULT_NEGATIVE_TTL_SECONDS = 10;
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024;
// Accounting overhead per entry, so a flood of empty files still counts against the bound.
const ENTRY_OVERHEAD = 64;

/**
 * The remote-file cache: positive answers bounded in bytes with a TTL, negative answers with a
 * short TTL, both in lru-cache. Only complete files are ever stored here.
 *
 * @example
 * ```ts
 * const cache = new RemoteCache({ ttlSeconds: 60 });
 * cache.setFile('SEP001122334455.cnf.xml', file);
 * cache.getFile('SEP001122334455.cnf.xml'); // the file, counted as a hit
 * ```
 */
export class RemoteCache {
  readonly #files: LRUCache<string, CachedFile>;
  readonly #negative: LRUCache<string, true> | undefined;
  readonly options: Required<CacheOptions>;
  hits = 0;
  misses = 0;

  constructor(opts: CacheOptions = {}) {
    this.options = {
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
      negativeTtlSeconds: opts.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS,
      maxBytes: opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
    };
    this.#files = new LRUCache<string, CachedFile>({
      maxSize: Math.max(1, this.options.maxBytes),
      sizeCalculation: (f) => f.data.byteLength + ENTRY_OVERHEAD,
      ttl: Math.max(1, this.options.ttlSeconds * 1000),
      // Reading the clock on every hit is a measurable share of a cache hit; a resolution of
      // a tenth of the TTL (at most 1 s) is far below anything an operator would notice.
      ttlResolution: Math.min(1000, Math.max(1, (this.options.ttlSeconds * 1000) / 10)),
      // An expired per-device file must not be served: the phone may have moved.
      allowStale: false,
      updateAgeOnGet: false,
    });
    this.#negative =
      this.options.negativeTtlSeconds > 0
        ? new LRUCache<string, true>({ max: 10_000, ttl: this.options.negativeTtlSeconds * 1000 })
        : undefined;
  }

  /** A live cached file (counted as a hit), or undefined (not counted: see {@link lookupNegative}). */
  getFile(name: string): CachedFile | undefined {
    const file = this.#files.get(name);
    if (file) this.hits++;
    return file;
  }

  /** After a `getFile` miss: true (a hit) when "not found" is cached; otherwise counts a miss. */
  lookupNegative(name: string): boolean {
    if (this.#negative?.get(name)) {
      this.hits++;
      return true;
    }
    this.misses++;
    return false;
  }

  /** Stores a complete file; `ttlMs` overrides the configured lifetime (used when moving entries). */
  setFile(name: string, file: CachedFile, ttlMs?: number): void {
    this.#negative?.delete(name);
    if (this.options.maxBytes > 0)
      this.#files.set(name, file, ttlMs === undefined ? undefined : { ttl: ttlMs });
  }

  setNegative(name: string): void {
    this.#negative?.set(name, true);
  }

  /** Removes the entries whose name passes `test` (or all); returns how many. */
  remove(test?: (name: string, file: CachedFile | undefined) => boolean): number {
    let removed = 0;
    for (const [name, file] of [...this.#files.entries()]) {
      if (!test || test(name, file)) removed += this.#files.delete(name) ? 1 : 0;
    }
    for (const name of [...(this.#negative?.keys() ?? [])]) {
      if (!test || test(name, undefined)) removed += this.#negative?.delete(name) ? 1 : 0;
    }
    return removed;
  }

  /** Moves the live entries into `next` (a cache with new settings). */
  moveTo(next: RemoteCache): void {
    // Oldest first, so the new cache keeps the recency order; entries keep their remaining life
    // (capped by the new TTL), so a reconfiguration never extends how long a file is trusted.
    for (const [name, file] of [...this.#files.entries()].reverse()) {
      const remaining = this.#files.getRemainingTTL(name);
      if (remaining > 0) next.setFile(name, file, Math.min(remaining, next.options.ttlSeconds * 1000));
    }
    next.hits = this.hits;
    next.misses = this.misses;
  }

  get entries(): number {
    return this.#files.size;
  }

  get bytes(): number {
    return [...this.#files.values()].reduce((n, f) => n + f.data.byteLength, 0);
  }
}
