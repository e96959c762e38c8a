import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Content } from '@ptftp/protocol';
import { DeviceAffinity, deviceOf } from './affinity.js';
import {
  type CacheOptions,
  DEFAULT_CACHE_DISK_MAX_BYTES,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  defaultCacheDir,
  MEMORY_FILE_FRACTION,
} from './cache.js';
import { globToRegExp } from './glob.js';
import type {
  CachedFile,
  CacheFill,
  CacheFlushScope,
  CacheLookup,
  CacheSetOptions,
  CacheStats,
  ResolverCache,
} from './resolver-cache.js';
import { StagedContent } from './staged-content.js';

/** Settings of a {@link TieredCache}: the cache part of {@link CacheOptions}. */
export type TieredCacheOptions = Pick<
  CacheOptions,
  'ttlSeconds' | 'negativeTtlSeconds' | 'maxBytes' | 'dir' | 'diskMaxBytes'
> & {
  /** The clock (epoch ms), for tests. */
  now?: () => number;
};

interface Entry {
  readonly content: Content;
  readonly size: number;
  readonly version: string;
  readonly clusterId: string;
  readonly address: string;
  readonly device: string | undefined;
  expiresAt: number;
  /** Bytes counted in the memory tier (0 when on disk only). */
  memory: number;
  /** Bytes counted in the disk tier (0 when in memory only). */
  disk: number;
}

const MAX_NEGATIVE = 10_000;
const RUN_PREFIX = 'run-';

/**
 * The default {@link ResolverCache}: hot files in memory under `maxBytes` (LRU), every file on
 * disk under `dir` within `diskMaxBytes` (LRU), "not found" answers and device affinity in
 * memory. A remote file is written to a partial file as it arrives and served from it to every
 * waiting phone at once; it is renamed on completion and removed on failure. Each cache works
 * in a folder of its own inside `dir` (`run-<pid>-<random>`); folders of processes that are
 * gone are removed at start-up, so nothing partial outlives a crash for long.
 *
 * @example
 * ```ts
 * const cache = new TieredCache({ dir: '/var/cache/ptftp', maxBytes: 64 << 20 });
 * const resolver = new Resolver({ clusters }, { store, cache });
 * ```
 */
export class TieredCache implements ResolverCache {
  #opts: Required<Omit<TieredCacheOptions, 'now'>>;
  readonly #now: () => number;
  /** Files, least recently used first. */
  readonly #entries = new Map<string, Entry>();
  readonly #negative = new Map<string, number>();
  #affinity: DeviceAffinity;
  #memoryBytes = 0;
  #diskBytes = 0;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #seq = 0;
  readonly #runDir: string | undefined;
  readonly #ready: Promise<void>;
  #closed = false;

  constructor(opts: TieredCacheOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#opts = resolveOptions(opts);
    this.#affinity = new DeviceAffinity({ ttlMs: this.#opts.ttlSeconds * 1000 });
    const dir = this.#opts.dir;
    if (dir) {
      this.#runDir = join(dir, `${RUN_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
      this.#ready = prepareDir(dir, this.#runDir);
      // A failure is reported by the first fill that needs the folder.
      this.#ready.catch(() => {});
    } else {
      this.#runDir = undefined;
      this.#ready = Promise.resolve();
    }
  }

  /** The settings in effect, defaults filled in. */
  get options(): Required<Omit<TieredCacheOptions, 'now'>> {
    return { ...this.#opts };
  }

  /** This cache's own folder inside `dir` (undefined for a memory-only cache). */
  get folder(): string | undefined {
    return this.#runDir;
  }

  /** Resolves once the disk folder exists (rejects when it cannot be made). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * New lifetimes and bounds. Entries keep what they had left, cut to the new TTL (a
   * reconfiguration never extends how long a file is trusted); the tiers shrink at once.
   * The folder cannot change: a new `dir` needs a new cache.
   */
  configure(opts: Omit<TieredCacheOptions, 'dir' | 'now'>): void {
    const next = resolveOptions({ ...opts, dir: this.#opts.dir });
    const now = this.#now();
    for (const e of this.#entries.values()) e.expiresAt = Math.min(e.expiresAt, now + next.ttlSeconds * 1000);
    for (const [n, at] of this.#negative)
      this.#negative.set(n, Math.min(at, now + next.negativeTtlSeconds * 1000));
    if (next.ttlSeconds !== this.#opts.ttlSeconds)
      this.#affinity = this.#affinity.withTtl(next.ttlSeconds * 1000);
    this.#opts = next;
    this.#evict();
  }

  async get(name: string): Promise<CacheLookup> {
    const entry = this.#entries.get(name);
    const now = this.#now();
    if (entry) {
      if (entry.expiresAt > now) {
        this.#hits++;
        // Most recently used last.
        this.#entries.delete(name);
        this.#entries.set(name, entry);
        const { content, size, version, clusterId, address } = entry;
        return { kind: 'file', file: { content: content.retain(), size, version, clusterId, address } };
      }
      this.#drop(name, entry);
    }
    const negative = this.#negative.get(name);
    if (negative !== undefined) {
      if (negative > now) {
        this.#hits++;
        return { kind: 'negative' };
      }
      this.#negative.delete(name);
    }
    this.#misses++;
    return undefined;
  }

  fill(name: string): CacheFill {
    const runDir = this.#runDir;
    const id = `${++this.#seq}-${randomBytes(4).toString('hex')}`;
    const keepInMemoryUpTo = this.#memoryFileLimit();
    const content = new StagedContent(
      runDir
        ? {
            kind: 'file',
            partialPath: join(runDir, `.partial-${id}`),
            finalPath: join(runDir, `f-${id}`),
            keepInMemoryUpTo,
          }
        : { kind: 'memory' },
    );
    const ready = this.#ready;
    let ended = false;
    const end = () => {
      ended = true;
      // After the readers that joined in this turn took their references.
      setImmediate(() => content.release());
    };
    return {
      content,
      get written() {
        return content.written;
      },
      size: (bytes) => content.announceSize(bytes),
      write: async (chunk) => {
        await ready;
        await content.write(chunk);
      },
      finish: async (meta, opts) => {
        if (ended) throw new Error(`fill of ${name} already ended`);
        try {
          await ready;
          await content.finish();
        } catch (err) {
          this.#failFill(content, err);
          end();
          throw err;
        }
        const size = content.size ?? content.written;
        const keep =
          opts.store &&
          !this.#closed &&
          (runDir !== undefined ? size <= this.#opts.diskMaxBytes : size <= keepInMemoryUpTo);
        if (keep) {
          ended = true;
          this.#store(name, {
            content,
            size,
            version: content.version!,
            clusterId: meta.clusterId,
            address: meta.address,
            memory: content.memory ? size : 0,
            disk: runDir !== undefined ? size : 0,
            ...opts,
          });
        } else {
          content.discard();
          end();
        }
      },
      fail: (err) => {
        if (ended) return;
        this.#failFill(content, err);
        end();
      },
    };
  }

  async set(
    name: string,
    file: Omit<CachedFile, 'content'> & { content: Content },
    opts: CacheSetOptions = {},
  ): Promise<void> {
    if (this.#closed) return;
    const whole = file.content.peek(0, file.size);
    const inMemory = whole !== undefined && whole.byteLength === file.size;
    if (inMemory && file.size > this.#memoryFileLimit() && !this.#runDir) return;
    this.#store(name, {
      ...file,
      content: file.content.retain(),
      memory: inMemory ? file.size : 0,
      disk: inMemory ? 0 : file.size,
      ...opts,
    });
  }

  async setNegative(name: string, ttlMs?: number): Promise<void> {
    const ttl = ttlMs ?? this.#opts.negativeTtlSeconds * 1000;
    if (!(ttl > 0) || this.#closed) return;
    this.#negative.delete(name);
    this.#negative.set(name, this.#now() + ttl);
    if (this.#negative.size > MAX_NEGATIVE) this.#negative.delete(this.#negative.keys().next().value!);
  }

  async flush(scope: CacheFlushScope = {}): Promise<number> {
    const all =
      scope.name === undefined &&
      scope.pattern === undefined &&
      scope.device === undefined &&
      scope.clusters === undefined;
    let removed = 0;
    if (all) {
      if (!scope.negativeOnly) {
        for (const [name, entry] of [...this.#entries]) removed += this.#drop(name, entry);
        this.#affinity.clear();
      }
      removed += this.#negative.size;
      this.#negative.clear();
      return removed;
    }
    const name = scope.name?.replace(/^\/+/, '');
    const re = scope.pattern === undefined ? undefined : globToRegExp(scope.pattern);
    const device = scope.device?.toUpperCase();
    const clusters = scope.clusters ? new Set(scope.clusters) : undefined;
    const devices = new Set<string>();
    const byName = (n: string) =>
      (name !== undefined && n === name) ||
      re?.test(n) === true ||
      (device !== undefined && deviceOf(n) === device);
    if (!scope.negativeOnly) {
      for (const [n, entry] of [...this.#entries]) {
        const hit = byName(n);
        if (!hit && !clusters?.has(entry.clusterId)) continue;
        if (hit) {
          const d = deviceOf(n);
          if (d) devices.add(d);
        }
        removed += this.#drop(n, entry);
      }
    }
    for (const n of [...this.#negative.keys()]) {
      if (!byName(n)) continue;
      this.#negative.delete(n);
      removed++;
      const d = deviceOf(n);
      if (d) devices.add(d);
    }
    if (!scope.negativeOnly) {
      if (device !== undefined) devices.add(device);
      const named = name === undefined ? undefined : deviceOf(name);
      if (named) devices.add(named);
      for (const d of devices) this.#affinity.forget(d);
      if (clusters) this.#affinity.forgetClusters(clusters);
    }
    return removed;
  }

  async affinity(device: string): Promise<string | undefined> {
    return this.#affinity.clusterFor(device);
  }

  async learnAffinity(device: string, clusterId: string): Promise<void> {
    this.#affinity.learn(device, clusterId);
  }

  async forgetAffinity(device: string): Promise<void> {
    this.#affinity.forget(device);
  }

  stats(): CacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      memoryBytes: this.#memoryBytes,
      diskBytes: this.#diskBytes,
      hits: this.#hits,
      misses: this.#misses,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [name, entry] of [...this.#entries]) this.#drop(name, entry);
    this.#negative.clear();
    this.#affinity.clear();
    if (this.#runDir) {
      await this.#ready.catch(() => {});
      // Files still read by a transfer are unlinked already; only the folder may remain.
      await rm(this.#runDir, { recursive: true, force: true }).catch(() => {});
    }
  }

  #memoryFileLimit(): number {
    return Math.floor(this.#opts.maxBytes / MEMORY_FILE_FRACTION);
  }

  #failFill(content: StagedContent, err: unknown): void {
    content.fail(err);
    content.discard();
  }

  #store(name: string, e: Omit<Entry, 'expiresAt' | 'device'> & CacheSetOptions): void {
    const old = this.#entries.get(name);
    if (old) this.#drop(name, old);
    this.#negative.delete(name);
    const ttl = e.ttlMs ?? this.#opts.ttlSeconds * 1000;
    if (!(ttl > 0)) {
      this.#discard(e.content);
      return;
    }
    const entry: Entry = {
      content: e.content,
      size: e.size,
      version: e.version,
      clusterId: e.clusterId,
      address: e.address,
      device: e.device,
      expiresAt: this.#now() + ttl,
      memory: e.memory,
      disk: e.disk,
    };
    this.#entries.set(name, entry);
    this.#memoryBytes += entry.memory;
    this.#diskBytes += entry.disk;
    this.#bytes += entry.size;
    this.#evict();
  }

  /** Shrinks the tiers to their bounds, least recently used first; expired entries go too. */
  #evict(): void {
    const now = this.#now();
    for (const [name, entry] of [...this.#entries]) if (entry.expiresAt <= now) this.#drop(name, entry);
    for (const [name, entry] of this.#entries) {
      if (this.#memoryBytes <= this.#opts.maxBytes) break;
      if (entry.memory === 0) continue;
      if (entry.disk > 0 && entry.content instanceof StagedContent) {
        // Still on disk: only the memory copy goes.
        entry.content.dropMemory();
        this.#memoryBytes -= entry.memory;
        entry.memory = 0;
      } else this.#drop(name, entry);
    }
    for (const [name, entry] of [...this.#entries]) {
      if (this.#diskBytes <= this.#opts.diskMaxBytes) break;
      if (entry.disk > 0) this.#drop(name, entry);
    }
  }

  #drop(name: string, entry: Entry): number {
    if (this.#entries.get(name) !== entry) return 0;
    this.#entries.delete(name);
    this.#memoryBytes -= entry.memory;
    this.#diskBytes -= entry.disk;
    this.#bytes -= entry.size;
    this.#discard(entry.content);
    return 1;
  }

  #discard(content: Content): void {
    // A file still read by a transfer is removed after its last release.
    if (content instanceof StagedContent) content.discard();
    content.release();
  }
}

function resolveOptions(opts: TieredCacheOptions): Required<Omit<TieredCacheOptions, 'now'>> {
  return {
    ttlSeconds: opts.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
    negativeTtlSeconds: opts.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS,
    maxBytes: opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
    dir: opts.dir ?? defaultCacheDir(),
    diskMaxBytes: opts.diskMaxBytes ?? DEFAULT_CACHE_DISK_MAX_BYTES,
  };
}

/**
 * Makes `dir` (0700) and this cache's own folder, and removes the folders of caches whose
 * process is gone (partial and complete files of a crashed run: nothing indexes them now).
 */
async function prepareDir(dir: string, runDir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(RUN_PREFIX))
      .filter((n) => !isAlive(Number(n.slice(RUN_PREFIX.length).split('-')[0])))
      .map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => {})),
  );
  await mkdir(runDir, { mode: 0o700 });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as { code?: string }).code === 'EPERM';
  }
}
