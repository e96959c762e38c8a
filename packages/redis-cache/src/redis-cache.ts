import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { bufferContent, type Content } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import {
  type CachedFile,
  type CacheFill,
  type CacheFlushScope,
  type CacheLookup,
  type CacheSetOptions,
  type CacheStats,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  deviceOf,
  type ResolverCache,
  TieredCache,
} from '@ptftp/resolver';
import { globToRegExp } from '@ptftp/resolver/internal';
import { Redis } from 'ioredis';
import { FleetLeases } from './fleet-lease.js';
import { decodeMessage, type FleetMessage, Keys } from './keys.js';
import {
  connectionOptions,
  DEFAULT_INLINE_MAX_BYTES,
  DEFAULT_LEASE_MS,
  DEFAULT_LEASE_WAIT_MS,
  DEFAULT_PREFIX,
  type RedisCacheOptions,
} from './options.js';

/**
 * What Redis knows of a name, in one command (the hit path's only round trip): the index
 * fields with the small file's bytes and the entry's remaining lifetime, or, when the name is
 * not indexed, the remaining lifetime of its "not found" answer. One EVALSHA instead of a
 * MULTI of HMGET + PTTL + PTTL: a fifth of the commands for the client to encode and parse,
 * and for Redis to run, on every first hit of a file on a replica.
 */
const LOOKUP = `
local f = redis.call('HMGET', KEYS[1], 'v', 's', 'c', 'a', 'd', 'x')
if f[1] then
  local ttl = redis.call('PTTL', KEYS[1])
  if f[6] then return {f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or '', ttl, f[6]} end
  return {f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or '', ttl}
end
return {redis.call('PTTL', KEYS[2])}
`;

/** The LOOKUP script as ioredis defines it on the connection (`defineCommand`). */
type LookupCommand = {
  ptftpLookupBuffer(file: string, negative: string): Promise<(Buffer | number)[]>;
};

/** How often a replica waiting for another one's fetch looks again without being told. */
const POLL_MS = 250;
const SCAN_COUNT = 500;

/** Events of a {@link RedisCache}, for logs and metrics. */
export interface RedisCacheEvents {
  /** Redis became reachable (`up: true`) or not: the replica serves from its own tier meanwhile. */
  state: [{ up: boolean; error?: unknown }];
  /** A flush made on another replica was applied here. */
  remoteFlush: [{ scope: CacheFlushScope; removed: number }];
}

/** The shared side of a {@link RedisCache}, for `ptftp status` and metrics. */
export interface SharedCacheStats {
  /** Redis reachable now. */
  up: boolean;
  /** Redis commands that failed (the request was served without Redis). */
  errors: number;
  /** Files found in Redis that this replica did not have. */
  sharedHits: number;
  /** Times this replica waited for another one's fetch instead of fetching. */
  waits: number;
  /** Fleet-wide fetch leases this replica holds. */
  leases: number;
  /** Flushes made elsewhere that reached this replica. */
  remoteFlushes: number;
}

type Meta = {
  version: string;
  size: number;
  clusterId: string;
  address: string;
  device: string;
  ttl: number;
};

/**
 * A {@link ResolverCache} shared by every replica (and worker process) of a fleet through
 * Redis or Valkey. The index of files (name → version, size, source cluster, expiry), "not
 * found" answers and device affinity live in Redis with the configured lifetimes; small files
 * (up to `inlineMaxBytes`) live there too, large ones on each replica's own disk tier (a
 * {@link TieredCache}), fetched from the cluster the first time a replica needs them.
 *
 * - One replica fetches a name nobody has: a lease (`SET NX PX`, renewed while the fetch runs);
 *   the others wait for what it publishes (pub/sub, with polling as a bound).
 * - A flush anywhere reaches every replica at once (pub/sub), and a replica that was away
 *   compares the flush epoch when it comes back.
 * - Redis unreachable: the replica serves from its own tier and the clusters, emits `state`,
 *   counts the errors, and rejoins by itself. Only complete files are ever published.
 *
 * @example
 * ```ts
 * const cache = new RedisCache({ url: 'redis://10.0.0.5:6379', prefix: 'ptftp:', local: { dir: '/var/cache/ptftp' } });
 * const resolver = new Resolver({ clusters }, { store, cache });
 * cache.on('state', ({ up }) => log.warn({ up }, 'shared cache'));
 * ```
 */
export class RedisCache extends EventEmitter<RedisCacheEvents> implements ResolverCache {
  readonly #local: TieredCache;
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #keys: Keys;
  readonly #leases: FleetLeases;
  readonly #id = randomBytes(6).toString('hex');
  readonly #inlineMax: number;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #leaseWaitMs: number;
  readonly #waiters = new Map<string, Set<() => void>>();
  /** The fleet's flush epoch as last seen (undefined until Redis first answered). */
  #epoch: number | undefined;
  #up = false;
  #closed = false;
  #hits = 0;
  #misses = 0;
  readonly #shared: Omit<SharedCacheStats, 'up' | 'leases'> = {
    errors: 0,
    sharedHits: 0,
    waits: 0,
    remoteFlushes: 0,
  };

  constructor(opts: RedisCacheOptions) {
    super();
    const ttlSeconds = opts.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
    const negativeTtlSeconds = opts.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS;
    this.#ttlMs = ttlSeconds * 1000;
    this.#negativeTtlMs = negativeTtlSeconds * 1000;
    this.#inlineMax = opts.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
    this.#leaseWaitMs = opts.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS;
    this.#keys = new Keys(opts.prefix ?? DEFAULT_PREFIX);
    this.#local = new TieredCache({ ...opts.local, ttlSeconds, negativeTtlSeconds });
    const conn = connectionOptions(opts);
    this.#redis = new Redis(conn);
    this.#redis.defineCommand('ptftpLookup', { numberOfKeys: 2, lua: LOOKUP });
    this.#sub = new Redis({ ...conn, commandTimeout: undefined });
    this.#leases = new FleetLeases(this.#redis, this.#keys, opts.leaseMs ?? DEFAULT_LEASE_MS, (name) =>
      this.#tell({ t: 'released', name }),
    );
    // Errors are states here, not crashes: the replica goes on without Redis.
    this.#redis.on('error', () => {});
    this.#sub.on('error', () => {});
    this.#redis.on('ready', () => void this.#rejoin());
    this.#redis.on('close', () => this.#setUp(false));
    this.#sub.on('ready', () => void this.#sub.subscribe(this.#keys.channel).catch(() => {}));
    this.#sub.on('message', (_channel: string, raw: string) => this.#onMessage(raw));
  }

  /** The local tier (memory + disk) of this replica. */
  get local(): TieredCache {
    return this.#local;
  }

  /** Redis answers now. */
  get up(): boolean {
    return this.#up;
  }

  /** Resolves once Redis answered and the fleet's channel is listened to (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.#up && this.#sub.status === 'ready')) {
      if (this.#closed || Date.now() > deadline) throw new Error('shared cache: Redis not reachable');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  sharedStats(): SharedCacheStats {
    return { up: this.#up, leases: this.#leases.size, ...this.#shared };
  }

  async get(name: string): Promise<CacheLookup> {
    const local = await this.#local.get(name);
    if (local) {
      this.#hits++;
      return local;
    }
    const found = await this.#redisOr(() => this.#lookup(name), undefined);
    if (found) {
      this.#hits++;
      return found;
    }
    this.#misses++;
    return undefined;
  }

  fill(name: string): CacheFill {
    const inner = this.#local.fill(name);
    const epoch = this.#epoch;
    this.#leases.fillStarted(name);
    let ended = false;
    const end = (settled: boolean) => {
      if (ended) return;
      ended = true;
      this.#leases.fillEnded(name, settled);
    };
    return {
      content: inner.content,
      get written() {
        return inner.written;
      },
      size: (bytes) => inner.size?.(bytes),
      write: (chunk) => inner.write(chunk),
      finish: async (meta, opts) => {
        // Our own reference, so the bytes can be published even if the local tier lets go.
        const content = inner.content.retain();
        try {
          // A flush in the fleet during the fetch: the answer may be what it meant to drop, so it
          // is served to its readers but kept neither here nor in Redis (as the resolver does
          // for a flush made on this replica).
          const overtaken = epoch !== undefined && epoch !== this.#epoch;
          const store = opts.store && !overtaken;
          await inner.finish(meta, { ...opts, store });
          // Published only complete.
          if (store)
            await this.#publish(name, content, { ...meta, size: content.size ?? inner.written }, opts);
          end(store);
        } catch (err) {
          end(false);
          throw err;
        } finally {
          content.release();
        }
      },
      fail: (err) => {
        inner.fail(err);
        end(false);
      },
    };
  }

  async set(
    name: string,
    file: Omit<CachedFile, 'content'> & { content: Content },
    opts: CacheSetOptions = {},
  ): Promise<void> {
    await this.#local.set(name, file, opts);
    await this.#publish(name, file.content, file, opts);
    this.#leases.release(name);
  }

  async setNegative(name: string, ttlMs?: number): Promise<void> {
    const ttl = ttlMs ?? this.#negativeTtlMs;
    await this.#local.setNegative(name, ttl);
    if (ttl > 0 && !this.#closed)
      await this.#redisOr(async () => {
        await this.#redis.set(this.#keys.negative(name), '1', 'PX', ttl);
        await this.#tell({ t: 'negative', name });
      }, undefined);
    this.#leases.release(name);
  }

  async flush(scope: CacheFlushScope = {}): Promise<number> {
    const local = await this.#local.flush(scope);
    const shared = await this.#redisOr(async () => {
      const removed = await this.#flushRedis(scope);
      const epoch = await this.#redis.incr(this.#keys.epoch);
      this.#epoch = epoch;
      await this.#tell({ t: 'flush', from: this.#id, epoch, scope });
      return removed;
    }, 0);
    // Redis counts the fleet's entries; the local tier may hold some Redis never had.
    return Math.max(local, shared);
  }

  async affinity(device: string): Promise<string | undefined> {
    const shared = await this.#redisOr(
      async () => (await this.#redis.get(this.#keys.affinity(device))) ?? null,
      undefined,
    );
    // null: Redis answered "none"; undefined: Redis is away, the local memory answers.
    return shared === undefined ? this.#local.affinity(device) : (shared ?? undefined);
  }

  async learnAffinity(device: string, clusterId: string): Promise<void> {
    await this.#local.learnAffinity(device, clusterId);
    if (this.#ttlMs > 0)
      await this.#redisOr(async () => {
        await this.#redis.set(this.#keys.affinity(device), clusterId, 'PX', this.#ttlMs);
      }, undefined);
  }

  async forgetAffinity(device: string): Promise<void> {
    await this.#local.forgetAffinity(device);
    await this.#redisOr(() => this.#redis.del(this.#keys.affinity(device)), 0);
  }

  stats(): CacheStats {
    return { ...this.#local.stats(), hits: this.#hits, misses: this.#misses };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#leases.clear();
    for (const wake of [...this.#waiters.values()].flatMap((s) => [...s])) wake();
    await this.#local.close();
    this.#sub.disconnect();
    // Graceful when connected (pending publishes go out), at once otherwise.
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => {});
    this.#redis.disconnect();
  }

  /** A name this replica does not hold: Redis's copy, its "not found", or a fetch to wait for. */
  async #lookup(name: string): Promise<CacheLookup> {
    const deadline = Date.now() + this.#leaseWaitMs;
    let waited = false;
    for (;;) {
      // Ours to fetch already: the resolver joins its own fetch in flight.
      if (this.#leases.holds(name)) return undefined;
      const known = await this.#known(name);
      // Known (a file or "not found"), large (each replica fetches its own copy), or ours to fetch.
      if (known !== 'unknown') return known === 'large' ? undefined : known;
      if (this.#closed || (await this.#leases.acquire(name))) return undefined;
      if (Date.now() >= deadline) return undefined;
      if (!waited) this.#shared.waits++;
      waited = true;
      await this.#wait(name, Math.min(POLL_MS, deadline - Date.now()));
    }
  }

  /** What Redis knows of `name` now. */
  async #known(name: string): Promise<CacheLookup | 'large' | 'unknown'> {
    const reply = await (this.#redis as unknown as LookupCommand).ptftpLookupBuffer(
      this.#keys.file(name),
      this.#keys.negative(name),
    );
    // 7 items: indexed with its bytes; 6: indexed without (large); 1: the "not found" lifetime.
    if (reply.length >= 6) {
      const [version, size, clusterId, address, device, ttl, data] = reply as [
        Buffer,
        Buffer,
        Buffer,
        Buffer,
        Buffer,
        number,
        Buffer | undefined,
      ];
      const text = (b: Buffer) => b.toString('utf8');
      const meta: Meta = {
        version: text(version),
        size: Number(text(size)),
        clusterId: text(clusterId),
        address: text(address),
        device: text(device),
        ttl,
      };
      // Indexed without its bytes: a large file, each replica fetches its own copy.
      if (!data || data.byteLength !== meta.size) return 'large';
      return { kind: 'file', file: await this.#adopt(name, meta, data) };
    }
    const negativeTtl = reply[0] as number;
    if (negativeTtl > 0) {
      await this.#local.setNegative(name, negativeTtl);
      return { kind: 'negative' };
    }
    return 'unknown';
  }

  /** Keeps Redis's copy in the local tier for what is left of its lifetime, and hands it out. */
  async #adopt(name: string, meta: Meta, data: Uint8Array): Promise<CachedFile> {
    // Filled here meanwhile: never replace a local copy that requests may be about to read.
    const mine = await this.#local.get(name);
    if (mine?.kind === 'file') return mine.file;
    this.#shared.sharedHits++;
    const content = bufferContent(data, { version: meta.version });
    const file = { size: meta.size, version: meta.version, clusterId: meta.clusterId, address: meta.address };
    await this.#local.set(
      name,
      { ...file, content },
      { ...(meta.ttl > 0 && { ttlMs: meta.ttl }), ...(meta.device && { device: meta.device }) },
    );
    return { ...file, content: content.retain() };
  }

  /** Publishes a complete file: its index entry, and its bytes when small. */
  async #publish(
    name: string,
    content: Content,
    file: { size: number; clusterId: string; address: string },
    opts: CacheSetOptions,
  ): Promise<void> {
    const ttl = opts.ttlMs ?? this.#ttlMs;
    const version = content.version;
    if (this.#closed || !(ttl > 0) || version === undefined) return;
    const data = file.size <= this.#inlineMax ? await readAll(content) : undefined;
    await this.#redisOr(async () => {
      const key = this.#keys.file(name);
      const fields: Record<string, string | Buffer> = {
        v: version,
        s: String(file.size),
        c: file.clusterId,
        a: file.address,
        d: opts.device ?? deviceOf(name) ?? '',
      };
      if (data) fields.x = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      await this.#redis
        .multi()
        .del(key)
        .hset(key, fields)
        .pexpire(key, ttl)
        .del(this.#keys.negative(name))
        .exec();
      await this.#tell({ t: 'filled', name });
    }, undefined);
  }

  /** Removes the matching entries from Redis; resolves with how many files and "not found" answers. */
  async #flushRedis(scope: CacheFlushScope): Promise<number> {
    const all =
      scope.name === undefined &&
      scope.pattern === undefined &&
      scope.device === undefined &&
      scope.clusters === undefined;
    const name = scope.name?.replace(/^\/+/, '');
    const re = scope.pattern === undefined ? undefined : globToRegExp(scope.pattern);
    const device = scope.device?.toUpperCase();
    const clusters = scope.clusters ? new Set(scope.clusters) : undefined;
    const byName = (n: string) =>
      all || n === name || re?.test(n) === true || (device !== undefined && deviceOf(n) === device);
    const devices = new Set<string>();
    const doomed: string[] = [];
    let removed = 0;
    if (!scope.negativeOnly) {
      for (const key of await this.#scan('f:')) {
        const n = this.#keys.strip('f:', key);
        const hit = byName(n);
        if (!hit && !clusters?.has((clusters && (await this.#redis.hget(key, 'c'))) ?? '')) continue;
        const d = deviceOf(n);
        if (hit && d) devices.add(d);
        doomed.push(key);
        removed++;
      }
    }
    for (const key of await this.#scan('n:')) {
      const n = this.#keys.strip('n:', key);
      if (!byName(n)) continue;
      doomed.push(key);
      removed++;
      const d = deviceOf(n);
      if (d) devices.add(d);
    }
    if (!scope.negativeOnly) {
      if (device) devices.add(device);
      const named = name === undefined ? undefined : deviceOf(name);
      if (named) devices.add(named);
      for (const key of await this.#scan('a:')) {
        const d = this.#keys.strip('a:', key);
        if (all || devices.has(d) || clusters?.has((clusters && (await this.#redis.get(key))) ?? ''))
          doomed.push(key);
      }
    }
    // DEL counts only keys that still existed: an entry expired meanwhile is not "removed".
    const gone = doomed.length > 0 ? await this.#redis.unlink(...doomed) : 0;
    return Math.min(removed, gone);
  }

  async #scan(kind: 'f:' | 'n:' | 'a:'): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#redis.scan(
        cursor,
        'MATCH',
        this.#keys.pattern(kind),
        'COUNT',
        SCAN_COUNT,
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return [...new Set(keys)];
  }

  /** Waits until told something about `name`, or `ms` passed. */
  #wait(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#waiters.get(name) ?? new Set<() => void>();
      this.#waiters.set(name, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(name) === set) this.#waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      set.add(done);
    });
  }

  async #tell(message: FleetMessage): Promise<void> {
    await this.#redis.publish(this.#keys.channel, JSON.stringify(message));
  }

  #onMessage(raw: string): void {
    const m = decodeMessage(raw);
    if (!m) return;
    if (m.t === 'flush') {
      if (m.from === this.#id) return;
      this.#epoch = Math.max(this.#epoch ?? 0, m.epoch);
      this.#shared.remoteFlushes++;
      void this.#local
        .flush(m.scope)
        .then((removed) => this.emit('remoteFlush', { scope: m.scope, removed }));
      return;
    }
    for (const wake of [...(this.#waiters.get(m.name) ?? [])]) wake();
  }

  /** Back in touch with Redis: a flush made while this replica was away empties its tier. */
  async #rejoin(): Promise<void> {
    try {
      const epoch = Number((await this.#redis.get(this.#keys.epoch)) ?? 0);
      if (this.#epoch !== undefined && epoch !== this.#epoch) await this.#local.flush();
      this.#epoch = epoch;
      this.#setUp(true);
    } catch (err) {
      this.#setUp(false, err);
    }
  }

  #setUp(up: boolean, error?: unknown): void {
    if (this.#up === up) return;
    this.#up = up;
    this.emit('state', up ? { up } : { up, error });
  }

  /** Runs a Redis step; when Redis fails, counts it and answers `fallback` (never throws). */
  async #redisOr<T>(step: () => Promise<T>, fallback: T): Promise<T> {
    if (!this.#up || this.#closed) return fallback;
    try {
      return await step();
    } catch (err) {
      this.#shared.errors++;
      if (this.#redis.status !== 'ready') this.#setUp(false, err);
      return fallback;
    }
  }
}
