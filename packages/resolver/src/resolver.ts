import { EventEmitter } from 'node:events';
import { AbortedError, ClosedError, InvalidArgumentError } from '@ptftp/protocol';
import type * as TypedEmitterModule from 'typed-emitter';
import { deviceOf } from './affinity.js';
import type { CacheOptions } from './cache.js';
import { type ClusterStatus, Clusters } from './clusters.js';
import { TopologyError } from './errors.js';
import type { EmitResolverEvent, FlushScope, ResolverEvents } from './events.js';
import { FetchBudget } from './fetch-budget.js';
import { canonicalFileName } from './file-name.js';
import { globToRegExp } from './glob.js';
import { Lookup, type RequestContext } from './lookup.js';
import { type Fetched, RemoteFetch } from './remote-fetch.js';
import type { Resolution } from './resolution.js';
import type { ResolverCache } from './resolver-cache.js';
import {
  budgetOf,
  makeSettings,
  type ResolverComponents,
  type ResolverInit,
  resolveCacheOptions,
  type Settings,
  sameUpstreamSettings,
} from './resolver-settings.js';
import { SearchLimiter } from './search-limit.js';
import { SharedFetches } from './shared-fetch.js';
import { TieredCache } from './tiered-cache.js';
import { type ClusterConfig, type TopologyViolation, validateTopology } from './topology.js';

/*
 * The resolver's coordinator. Its rooms: lookup.ts (the lookup order of one request),
 * remote-fetch.ts (one shared remote search and the fill of its file), search-strategies.ts
 * (sequential or parallel asking), clusters.ts (the topology and its upstreams' lifecycle),
 * resolver-settings.ts (configuration). What stays here: the public API, configuration
 * changes, flushes, listener tracking and close.
 */

// typed-emitter is a CommonJS type-only package; under NodeNext its default export is reached
// through the namespace.
type TypedEmitter<T extends TypedEmitterModule.EventMap> = TypedEmitterModule.default<T>;
const Emitter = EventEmitter as unknown as new () => TypedEmitter<ResolverEvents>;

/**
 * The proxy TFTP policy: answers a file name from the local store, the cache, or the remote
 * clusters, following the proxy TFTP rules (see the package README and docs/packages/resolver.md).
 *
 * @example
 * ```ts
 * import { FolderStore, Resolver } from '@ptftp/resolver';
 * const resolver = new Resolver(
 *   { clusters: [{ id: 'B', tftp: ['10.1.0.10', '10.1.0.11'] }], cache: { ttlSeconds: 1800 } },
 *   { store: new FolderStore('/var/lib/tftpboot') },
 * );
 * resolver.on('resolved', (e) => console.log(e.name, e.source, e.clusterId ?? ''));
 * const { content, source } = await resolver.resolve('SEP001122334455.cnf.xml', { remoteAddress: '10.9.0.7' });
 * const first = await content.read(0, 512); // the first block, even while the file still arrives
 * content.release(); // once the transfer is over
 * await resolver.flush({ device: 'SEP001122334455' }); // the phone moved
 * ```
 */
export class Resolver extends Emitter {
  readonly #components: ResolverComponents;
  #settings: Settings;
  readonly #clusters: Clusters;
  readonly #cache: ResolverCache;
  /** True when the cache was built here (then reconfigured and closed here). */
  readonly #ownCache: boolean;
  #cacheOptions: Required<CacheOptions>;
  readonly #budget: FetchBudget;
  readonly #shared = new SharedFetches<Fetched>({ linger: (f) => f.completion });
  readonly #searchLimit: SearchLimiter;
  readonly #lookup: Lookup;
  #discoveryRun = 0;
  /** Bumped by every flush: a lookup that started before it must not re-fill the cache. */
  #flushes = 0;
  readonly #listened = new Set<string>();
  readonly #closing = new AbortController();
  #closed = false;

  constructor(init: ResolverInit, components: ResolverComponents) {
    super();
    this.#trackListeners();
    if (!components?.store) throw new InvalidArgumentError('components.store', 'a store is required');
    this.#components = components;
    this.#settings = makeSettings(init, components);
    this.#searchLimit = new SearchLimiter(init.searchLimits);
    const clusters = this.#validate(init.clusters ?? [], this.#settings);
    this.#clusters = new Clusters(clusters, this.#settings, components);
    this.#cacheOptions = resolveCacheOptions(init.cache);
    this.#ownCache = components.cache === undefined;
    this.#cache = components.cache ?? new TieredCache(this.#cacheOptions);
    this.#budget = new FetchBudget(budgetOf(this.#cacheOptions), this);
    // Late-bound: a listener-side wrapper of `emit` (a spy, a tracer) sees the rooms' events too.
    const emit: EmitResolverEvent = (event, ...args) => this.emit(event, ...args);
    const remote = new RemoteFetch({
      cache: this.#cache,
      budget: this.#budget,
      clusters: this.#clusters,
      closing: this.#closing.signal,
      closed: () => this.#closed,
      flushes: () => this.#flushes,
      emit,
    });
    this.#lookup = new Lookup({
      store: components.store,
      cache: this.#cache,
      shared: this.#shared,
      searchLimit: this.#searchLimit,
      remote,
      listened: this.#listened,
      emit,
      owner: this,
    });
  }

  /**
   * Finds `name`: the local store, then (unless the request came from another proxy) the
   * cache, then the remote clusters. Throws `FileNotFoundError` when nowhere (a
   * `LoopRefusedError` for a proxied request), `AccessViolationError` for an unsafe name,
   * `AbortedError` when `ctx.signal` fires.
   */
  async resolve(name: string, ctx: RequestContext = {}): Promise<Resolution> {
    const started = performance.now();
    if (this.#closed) throw new ClosedError('resolver closed');
    if (ctx.signal?.aborted) throw new AbortedError('request aborted', { cause: ctx.signal.reason });
    const canonical = canonicalFileName(name);
    return this.#lookup.resolve(canonical, ctx, this.#settings, this.#clusters.topology, started);
  }

  /**
   * Drops learned state at once (Cisco's product needs a service restart for this): with no
   * scope everything; otherwise one name, the names matching a glob pattern, or one device's
   * files and learned cluster. Returns how many cache entries (files and "not found"
   * answers) were removed. Fetches in flight are not aborted (their requests still get
   * their answer) but requests from now on do not join them, and their results are not cached.
   */
  async flush(scope: FlushScope = {}): Promise<number> {
    this.#flushes++;
    if (scope.name === undefined && scope.pattern === undefined && scope.device === undefined) {
      // A fetch that started before the flush may carry the state being dropped: requests
      // from now on start their own instead of joining it.
      this.#shared.detach();
    } else {
      const name = scope.name === undefined ? undefined : scope.name.replace(/^\/+/, '');
      const re = scope.pattern === undefined ? undefined : globToRegExp(scope.pattern);
      const device = scope.device?.toUpperCase();
      this.#shared.detach(
        (n) =>
          (name !== undefined && n === name) ||
          re?.test(n) === true ||
          (device !== undefined && deviceOf(n) === device),
      );
    }
    const removed = await this.#cache.flush(scope);
    this.emit('flushed', { scope, removed });
    return removed;
  }

  /**
   * Replaces the configuration. The clusters are validated first; on any violation this
   * throws {@link TopologyError} listing all of them and the old configuration stays. Requests
   * in flight finish with the topology they started with. `clusters` omitted keeps the current
   * clusters (manual or discovered). Cached files of removed or changed clusters are dropped.
   */
  reconfigure(init: ResolverInit): void {
    const settings = makeSettings(init, this.#components);
    // Omitted clusters are kept, but re-checked: the new listen addresses or primary may refuse them.
    const clusters = this.#validate(
      init.clusters ?? this.#clusters.topology.clusters,
      settings,
      'reconfigure',
    );
    const previous = this.#settings;
    this.#settings = settings;
    this.#searchLimit.configure(init.searchLimits);
    try {
      this.#applyClusters(clusters, 'reconfigure', previous);
    } catch (err) {
      // An upstream factory that throws leaves the old configuration in effect.
      this.#settings = previous;
      throw err;
    }
    // The disk folder stays the one the cache was made with (files in it are in use).
    const next = { ...resolveCacheOptions(init.cache), dir: this.#cacheOptions.dir };
    this.#cacheOptions = next;
    if (this.#ownCache && this.#cache instanceof TieredCache) this.#cache.configure(next);
    this.#budget.configure(budgetOf(next));
  }

  /**
   * Asks the discovery source for the remote clusters, validates them like manual
   * configuration and applies them atomically. An invalid or failed result keeps the last
   * good topology and reports why (also as a `topologyRejected` event).
   */
  async refreshDiscovery(): Promise<{ ok: boolean; violations?: TopologyViolation[] }> {
    const discovery = this.#components.discovery;
    if (!discovery) throw new InvalidArgumentError('components.discovery', 'no discovery source configured');
    const run = ++this.#discoveryRun;
    let raw: unknown[];
    try {
      raw = await discovery.discover(this.#closing.signal);
    } catch (err) {
      const violations: TopologyViolation[] = [
        {
          path: 'discovery',
          rule: 'discovery-failed',
          message: `discovery source failed: ${err instanceof Error ? err.message : String(err)}`,
        },
      ];
      this.emit('topologyRejected', { violations, source: 'discovery' });
      return { ok: false, violations };
    }
    const result = validateTopology(raw, {
      primaryId: this.#settings.primaryId,
      listen: this.#settings.listen,
    });
    if (!result.ok) {
      this.emit('topologyRejected', { violations: result.violations, source: 'discovery' });
      return { ok: false, violations: result.violations };
    }
    // A slower, older refresh must not overwrite a newer one.
    if (run !== this.#discoveryRun || this.#closed) return { ok: true };
    this.#applyClusters(result.clusters, 'discovery', this.#settings);
    return { ok: true };
  }

  /** Health of every address of every cluster, in configured order. */
  clusterStatus(): ClusterStatus[] {
    return this.#clusters.status();
  }

  /** The clusters in effect. */
  get clusters(): ClusterConfig[] {
    return this.#clusters.topology.clusters.map((c) => ({ ...c }));
  }

  /** The cache settings in effect, defaults filled in. */
  get cacheOptions(): Required<CacheOptions> {
    return { ...this.#cacheOptions };
  }

  /** The cache and the fetch budget now, for `ptftp status` and metrics. */
  get cacheStats(): ResolverCacheStats {
    const c = this.#cache.stats();
    const b = this.#budget;
    return {
      entries: c.entries,
      bytes: c.bytes,
      memoryBytes: c.memoryBytes,
      diskBytes: c.diskBytes,
      hits: c.hits,
      misses: c.misses,
      inflight: b.fetches,
      inflightBytes: b.inflightBytes,
      waiting: b.waiting,
      refusals: b.refusals,
    };
  }

  /** Also forgets which events have listeners (and keeps tracking them). */
  override removeAllListeners<E extends keyof ResolverEvents>(event?: E): this {
    super.removeAllListeners(event);
    if (event === undefined) {
      this.#listened.clear();
      this.#trackListeners();
    } else this.#listened.delete(event);
    return this;
  }

  /**
   * Keeps `#listened` up to date so that the hot path tests a Set instead of building event
   * payloads nobody reads (events cost nothing unless someone listens).
   */
  #trackListeners(): void {
    const untyped = this as unknown as EventEmitter;
    untyped.on('newListener', (event: string) => this.#listened.add(event));
    untyped.on('removeListener', (event: string) => {
      if (untyped.listenerCount(event) === 0) this.#listened.delete(event);
    });
  }

  /** Aborts fetches in flight and releases the upstreams. Later `resolve` calls throw. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new AbortedError('resolver closed'));
    this.#shared.abortAll(new AbortedError('resolver closed'));
    this.#clusters.close();
    if (this.#ownCache) void this.#cache.close();
  }

  #validate(clusters: unknown[], settings: Settings, source?: 'reconfigure'): ClusterConfig[] {
    const result = validateTopology(clusters, { primaryId: settings.primaryId, listen: settings.listen });
    if (!result.ok) {
      if (source) this.emit('topologyRejected', { violations: result.violations, source });
      throw new TopologyError(result.violations);
    }
    return result.clusters;
  }

  #applyClusters(clusters: ClusterConfig[], source: 'reconfigure' | 'discovery', previous: Settings): void {
    const reuse = sameUpstreamSettings(previous, this.#settings);
    const { next, gone, added } = this.#clusters.apply(clusters, this.#settings, reuse);
    if (added || gone.size > 0) {
      // A "not found" was the answer of the clusters as they were; a new or changed cluster
      // may have the file, so a phone of that cluster must not wait out the negative TTL.
      this.#cache.flush({ negativeOnly: true }).catch(() => {});
    }
    if (gone.size > 0) {
      // Files learned from a cluster that was removed or changed are no longer vouched for
      // (and the devices learned there with them).
      this.#cache.flush({ clusters: [...gone] }).catch(() => {});
    }
    this.emit('topologyChange', { clusters: next.clusters, source });
  }
}

/** What {@link Resolver.cacheStats} reports. */
export interface ResolverCacheStats {
  /** Files cached. */
  entries: number;
  /** Bytes of the files cached, each counted once. */
  bytes: number;
  memoryBytes: number;
  diskBytes: number;
  hits: number;
  misses: number;
  /** Remote fetches running. */
  inflight: number;
  /** Bytes received by the fetches running. */
  inflightBytes: number;
  /** Fetches waiting for room in the budget. */
  waiting: number;
  /** Fetches refused "server busy" for want of room, since start. */
  refusals: number;
}
