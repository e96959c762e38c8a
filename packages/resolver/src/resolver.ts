import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  AbortedError,
  bufferContent,
  ClosedError,
  type Content,
  FileNotFoundError,
  InvalidArgumentError,
  readAll,
} from '@ptftp/protocol';
import type * as TypedEmitterModule from 'typed-emitter';
import { deviceOf } from './affinity.js';
import {
  type CacheOptions,
  DEFAULT_CACHE_DISK_MAX_BYTES,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  defaultCacheDir,
} from './cache.js';
import { CommonFiles } from './common-files.js';
import type { DiscoverySource } from './discovery.js';
import { LoopRefusedError, TopologyError, UpstreamUnreachableError } from './errors.js';
import type { FlushScope, ResolverEvents } from './events.js';
import {
  DEFAULT_BUDGET_WAIT_MS,
  DEFAULT_MAX_FETCHES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  FetchBudget,
  type FetchBudgetOptions,
  type FetchTicket,
} from './fetch-budget.js';
import { canonicalFileName } from './file-name.js';
import { globToRegExp } from './glob.js';
import { HttpUpstream } from './http-upstream.js';
import { isResignable, type ResignOptions, type Signer, securitySigner, sgnBody } from './resign.js';
import type { Resolution } from './resolution.js';
import type { CacheFill, ResolverCache } from './resolver-cache.js';
import { SearchLimiter, type SearchLimitOptions } from './search-limit.js';
import { SharedFetches } from './shared-fetch.js';
import type { Store } from './store.js';
import { TftpClusterUpstream } from './tftp-upstream.js';
import { TieredCache } from './tiered-cache.js';
import {
  type ClusterConfig,
  DEFAULT_PRIMARY_ID,
  normalizeIp,
  type TopologyViolation,
  validateTopology,
} from './topology.js';
import type { AddressStatus, Upstream, UpstreamReporter, UpstreamResult } from './upstream.js';
import { upstreamHostPort } from './upstream-address.js';
import { fetchIntoFill } from './upstream-fill.js';

/** Largest `.sgn` file re-signed (it is read whole): larger ones fail rather than fill memory. */
const MAX_RESIGN_BYTES = 16 * 1024 * 1024;

/** Configuration of a {@link Resolver}: plain data, replaceable at run time with `reconfigure`. */
export interface ResolverInit {
  /** This proxy's cluster ID, that remote clusters peer back with (default `"primary"`). */
  primaryId?: string;
  /** Remote clusters, validated with `validateTopology`. */
  clusters?: ClusterConfig[];
  /** Glob patterns of common files, added to the defaults (RingList.xml[.sgn], locale files). */
  commonFiles?: string[];
  cache?: CacheOptions;
  /** Ask the clusters all at once (bounded by `fanout`, first found wins) or one after another. */
  lookup?: 'parallel' | 'sequential';
  /** Clusters asked at once in parallel lookup (default 4). */
  fanout?: number;
  /** Cluster IDs asked first and preferred when several answer at once; others follow in order. */
  preference?: string[];
  /** Addresses of other proxies: their requests are served from the local store only. */
  peerAddresses?: string[];
  /** This proxy's own listen addresses: a cluster address equal to one is refused. */
  listen?: string[];
  /** Re-sign `.sgn` files from remote clusters with the proxy's key (default false: byte-identical). */
  resign?: ResignOptions | false;
  /** Per-packet timeout of the default cluster upstreams (default 1000 ms). */
  upstreamTimeoutMs?: number;
  /** Retransmissions per packet of the default cluster upstreams (default 1). */
  upstreamRetries?: number;
  /** Silence after which the default cluster upstreams ask a cluster's next address too (default 300 ms). */
  upstreamHedgeMs?: number;
  /** Bounds on remote searches at once, in total and per requesting address (see search-limit.ts). */
  searchLimits?: SearchLimitOptions;
}

/** Collaborators of a {@link Resolver}: objects, not configuration. */
export interface ResolverComponents {
  /** The proxy's own files. */
  store: Store;
  /** Builds the upstream of a cluster (default: TFTP, or HTTP when it only has `http` addresses). */
  upstreamFactory?: (cluster: ClusterConfig) => Upstream;
  /** Source of `refreshDiscovery()`. */
  discovery?: DiscoverySource;
  /** Re-signs `.sgn` files when `resign` is set (default: @ptftp/security's `signSgn`). */
  signer?: Signer;
  /**
   * Where files learned from remote clusters are kept (default: a {@link TieredCache} built from
   * `init.cache`, memory + disk, closed with the resolver). A cache given here is the caller's
   * to close, and `init.cache` then sets only the lifetimes it is asked for and the budget.
   */
  cache?: ResolverCache;
}

/** What the server knows about one request. */
export interface RequestContext {
  remoteAddress?: string;
  /**
   * The request came from another proxy (a ptftp upstream marks it: TFTP option
   * `ptftp-proxied 1`, HTTP header `X-Ptftp-Proxied: 1`). It is answered from the local store
   * only and never forwarded, so misconfigured proxies cannot loop.
   */
  proxied?: boolean;
  signal?: AbortSignal;
  transport?: 'tftp' | 'http';
}

/** Per-cluster health, as {@link Resolver.clusterStatus} reports it. */
export interface ClusterStatus {
  id: string;
  enabled: boolean;
  addresses: AddressStatus[];
}

interface Settings {
  primaryId: string;
  lookup: 'parallel' | 'sequential';
  fanout: number;
  preference: string[];
  peers: Set<string>;
  listen: string[];
  common: CommonFiles;
  signer: Signer | undefined;
  upstreamTimeoutMs: number | undefined;
  upstreamRetries: number | undefined;
  upstreamHedgeMs: number | undefined;
}

/** One immutable view of the remote clusters; a request keeps the one it started with. */
interface Topology {
  clusters: ClusterConfig[];
  upstreams: Map<string, Upstream>;
  /** Enabled cluster IDs in asking order (preference first). */
  order: string[];
}

type Attempt =
  | {
      kind: 'found';
      clusterId: string;
      /** The file, arriving; `done` settles when the upstream is through. */
      fill: CacheFill;
      done: Promise<UpstreamResult>;
      address: string | undefined;
      /** Aborts this cluster's fetch (a losing parallel answer). */
      abort?: (reason: unknown) => void;
    }
  | { kind: 'missing'; clusterId: string }
  | { kind: 'unreachable'; clusterId: string; error: unknown };

interface Fetched {
  /** The file (complete, or still arriving); the fetch holds a reference until `completion`. */
  content: Content;
  clusterId: string;
  address: string | undefined;
  /** Settles once the file is complete and cached (or failed); until then requests join it. */
  completion: Promise<void>;
}

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
  #topology: Topology;
  readonly #cache: ResolverCache;
  /** True when the cache was built here (then reconfigured and closed here). */
  readonly #ownCache: boolean;
  #cacheOptions: Required<CacheOptions>;
  readonly #budget: FetchBudget;
  readonly #shared = new SharedFetches<Fetched>({ linger: (f) => f.completion });
  readonly #searchLimit: SearchLimiter;
  /** Upstreams still in use by a fetch, and those retired by a reconfiguration. */
  readonly #busy = new Map<Upstream, number>();
  readonly #retired = new Set<Upstream>();
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
    this.#settings = this.#makeSettings(init);
    this.#searchLimit = new SearchLimiter(init.searchLimits);
    const clusters = this.#validate(init.clusters ?? [], this.#settings);
    this.#topology = this.#makeTopology(clusters, this.#settings, undefined);
    this.#cacheOptions = resolveCacheOptions(init.cache);
    this.#ownCache = components.cache === undefined;
    this.#cache = components.cache ?? new TieredCache(this.#cacheOptions);
    this.#budget = new FetchBudget(budgetOf(this.#cacheOptions));
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
    const settings = this.#settings;
    const topology = this.#topology;
    const elapsed = () => performance.now() - started;

    const local = await this.#components.store.get(
      canonical,
      ctx.signal ? { signal: ctx.signal } : undefined,
    );
    if (local) {
      if (this.#listened.has('resolved')) {
        const common = settings.common.matches(canonical);
        this.emit('resolved', {
          name: canonical,
          source: 'local',
          bytes: local.size,
          durationMs: elapsed(),
          common,
        });
      }
      return {
        name: canonical,
        content: local.content ?? bufferContent(local.data ?? new Uint8Array(0), { version: local.version }),
        size: local.size,
        source: 'local',
        version: local.version,
      };
    }

    if (ctx.proxied || this.#isPeer(ctx.remoteAddress, settings)) {
      this.emit('loopRefused', { name: canonical, remoteAddress: ctx.remoteAddress });
      this.emit('notFound', { name: canonical, reason: 'proxied' });
      throw new LoopRefusedError(canonical);
    }

    const hit = await this.#cache.get(canonical);
    if (hit?.kind === 'file') {
      const file = hit.file;
      if (this.#listened.has('cacheHit')) this.emit('cacheHit', { name: canonical });
      if (this.#listened.has('resolved')) {
        this.emit('resolved', {
          name: canonical,
          source: 'cache',
          clusterId: file.clusterId,
          address: file.address,
          bytes: file.size,
          durationMs: elapsed(),
          common: settings.common.matches(canonical),
        });
      }
      return {
        name: canonical,
        content: file.content,
        size: file.size,
        source: 'cache',
        clusterId: file.clusterId,
        address: file.address,
        version: file.version,
      };
    }
    if (hit?.kind === 'negative') {
      this.emit('cacheHit', { name: canonical, negative: true });
      this.emit('notFound', { name: canonical, reason: 'negative-cache' });
      throw new FileNotFoundError(canonical);
    }
    this.emit('cacheMiss', { name: canonical });
    const common = settings.common.matches(canonical);

    if (this.#shared.has(canonical)) this.emit('coalesced', { name: canonical });
    let fetched: Fetched;
    try {
      fetched = await this.#shared.run(
        canonical,
        (signal) =>
          this.#searchLimit.run(ctx.remoteAddress, signal, () =>
            this.#fetchBudgeted(canonical, common, topology, settings, signal),
          ),
        ctx.signal,
      );
    } catch (err) {
      if (err instanceof FileNotFoundError) {
        this.emit('notFound', { name: canonical, reason: err.cause ? 'unreachable' : 'nowhere' });
      }
      throw err;
    }
    // One reference per request; the fetch keeps its own until the file is complete.
    const content = fetched.content.retain();
    this.emit('resolved', {
      name: canonical,
      source: 'cluster',
      clusterId: fetched.clusterId,
      address: fetched.address,
      bytes: content.size ?? 0,
      durationMs: elapsed(),
      common,
    });
    return {
      name: canonical,
      content,
      size: content.size,
      source: 'cluster',
      clusterId: fetched.clusterId,
      ...(fetched.address !== undefined && { address: fetched.address }),
      version: content.version,
    };
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
    const settings = this.#makeSettings(init);
    // Omitted clusters are kept, but re-checked: the new listen addresses or primary may refuse them.
    const clusters = this.#validate(init.clusters ?? this.#topology.clusters, settings, 'reconfigure');
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
    return this.#topology.clusters.map((c) => {
      const up = this.#topology.upstreams.get(c.id);
      const addresses = up?.status?.() ?? c.tftp.map((address) => ({ address, healthy: true, failures: 0 }));
      return { id: c.id, enabled: c.enabled !== false, addresses };
    });
  }

  /** The clusters in effect. */
  get clusters(): ClusterConfig[] {
    return this.#topology.clusters.map((c) => ({ ...c }));
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
    for (const up of this.#topology.upstreams.values()) up.close?.();
    for (const up of this.#retired) up.close?.();
    this.#retired.clear();
    if (this.#ownCache) void this.#cache.close();
  }

  #makeSettings(init: ResolverInit): Settings {
    const fanout = init.fanout ?? 4;
    if (!Number.isInteger(fanout) || fanout < 1)
      throw new InvalidArgumentError('fanout', 'must be an integer >= 1');
    if (init.lookup !== undefined && init.lookup !== 'parallel' && init.lookup !== 'sequential') {
      throw new InvalidArgumentError('lookup', "must be 'parallel' or 'sequential'");
    }
    for (const [k, v] of Object.entries(init.cache ?? {})) {
      if (k === 'dir') {
        if (v !== undefined && typeof v !== 'string')
          throw new InvalidArgumentError('cache.dir', 'must be a string');
      } else if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) {
        throw new InvalidArgumentError(`cache.${k}`, 'must be a number >= 0');
      }
    }
    const peers = new Set<string>();
    for (const p of init.peerAddresses ?? []) peers.add(upstreamHostPort(p)?.host ?? normalizeIp(p));
    const signer = init.resign ? (this.#components.signer ?? securitySigner(init.resign)) : undefined;
    return {
      primaryId: init.primaryId ?? DEFAULT_PRIMARY_ID,
      lookup: init.lookup ?? 'parallel',
      fanout,
      preference: init.preference ?? [],
      peers,
      listen: init.listen ?? [],
      common: new CommonFiles(init.commonFiles),
      signer,
      upstreamTimeoutMs: init.upstreamTimeoutMs,
      upstreamRetries: init.upstreamRetries,
      upstreamHedgeMs: init.upstreamHedgeMs,
    };
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
    const before = this.#topology;
    const reuse = sameUpstreamSettings(previous, this.#settings) ? before : undefined;
    const next = this.#makeTopology(clusters, this.#settings, reuse);
    const reused = new Set(next.upstreams.values());
    for (const up of before.upstreams.values()) if (!reused.has(up)) this.#retire(up);
    const gone = new Set<string>();
    for (const old of before.clusters) {
      const now = clusters.find((c) => c.id === old.id);
      if (!now || JSON.stringify(now) !== JSON.stringify(old)) gone.add(old.id);
    }
    this.#topology = next;
    const added = clusters.some((c) => !before.clusters.some((old) => old.id === c.id));
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

  #makeTopology(clusters: ClusterConfig[], settings: Settings, previous: Topology | undefined): Topology {
    const upstreams = new Map<string, Upstream>();
    for (const c of clusters) {
      const old = previous?.clusters.find((p) => p.id === c.id);
      const oldUp = previous?.upstreams.get(c.id);
      // Unchanged clusters keep their upstream, and with it the health learned so far.
      if (old && oldUp && JSON.stringify(old) === JSON.stringify(c)) {
        upstreams.set(c.id, oldUp);
      } else upstreams.set(c.id, this.#makeUpstream(c, settings));
    }
    const enabled = clusters.filter((c) => c.enabled !== false).map((c) => c.id);
    const preferred = settings.preference.filter((id) => enabled.includes(id));
    const order = [...preferred, ...enabled.filter((id) => !preferred.includes(id))];
    return { clusters, upstreams, order };
  }

  #makeUpstream(cluster: ClusterConfig, settings: Settings): Upstream {
    if (this.#components.upstreamFactory) return this.#components.upstreamFactory(cluster);
    if (cluster.tftp.length === 0 && cluster.http && cluster.http.length > 0) {
      return new HttpUpstream(cluster.id, cluster.http, {
        timeoutMs: settings.upstreamTimeoutMs,
        hedgeMs: settings.upstreamHedgeMs,
      });
    }
    return new TftpClusterUpstream(cluster, {
      timeoutMs: settings.upstreamTimeoutMs,
      retries: settings.upstreamRetries,
      hedgeMs: settings.upstreamHedgeMs,
    });
  }

  #retire(up: Upstream): void {
    if ((this.#busy.get(up) ?? 0) === 0) up.close?.();
    else this.#retired.add(up);
  }

  #isPeer(remoteAddress: string | undefined, settings: Settings): boolean {
    if (remoteAddress === undefined || settings.peers.size === 0) return false;
    return settings.peers.has(normalizeIp(remoteAddress));
  }

  /**
   * A remote search within the fetch budget: it waits for room (bounded), else the request
   * gets "server busy". The room is given back when the file is complete or the search failed.
   */
  async #fetchBudgeted(
    name: string,
    common: boolean,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
  ): Promise<Fetched> {
    const ticket = await this.#budget.acquire(signal);
    try {
      return await this.#fetchRemote(name, common, topology, settings, signal, ticket);
    } catch (err) {
      ticket.done();
      throw err;
    }
  }

  /** The whole remote search for one name; shared by every concurrent request for it. */
  async #fetchRemote(
    name: string,
    common: boolean,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<Fetched> {
    const flushes = this.#flushes;
    const failures: Array<{ address: string; error: unknown }> = [];
    const device = common ? undefined : deviceOf(name);
    let candidates = topology.order;
    let found: Attempt | undefined;

    const learned = device === undefined ? undefined : await this.#cache.affinity(device);
    if (
      device !== undefined &&
      learned !== undefined &&
      topology.upstreams.has(learned) &&
      candidates.includes(learned)
    ) {
      const first = await this.#ask(learned, name, topology, signal, ticket);
      if (first.kind === 'found') found = first;
      else {
        if (first.kind === 'unreachable') failures.push({ address: learned, error: first.error });
        // The phone may have moved: forget, then search everywhere else.
        await this.#cache.forgetAffinity(device);
        this.emit('affinityMiss', { device, clusterId: learned });
        candidates = candidates.filter((id) => id !== learned);
      }
    }

    if (!found) {
      const result =
        settings.lookup === 'sequential'
          ? await this.#sequential(candidates, name, topology, signal, ticket)
          : await this.#parallel(candidates, name, topology, settings, signal, ticket);
      failures.push(...result.failures);
      found = result.found;
    }

    if (found?.kind !== 'found') {
      if (failures.length > 0) {
        // Some cluster could not be asked: "not found" is not certain. It is neither cached nor
        // said: a phone told "not found" may fall back to its default configuration, so the
        // answer is "unreachable" (front ends say "try again"), never ERROR 1.
        throw new UpstreamUnreachableError(
          failures.map((f) => f.address).join(','),
          failures,
          `no cluster had ${name}, and ${failures.length} could not be asked`,
        );
      }
      if (flushes === this.#flushes) this.#cache.setNegative(name);
      throw new FileNotFoundError(name);
    }

    const winner = found;
    // Not cached when an operator flushed meanwhile (the answer may be the stale state they
    // meant to drop) or the cluster left or changed in a reconfiguration.
    const cacheable = () =>
      !this.#closed &&
      flushes === this.#flushes &&
      this.#topology.upstreams.get(winner.clusterId) === topology.upstreams.get(winner.clusterId);
    const learn = async () => {
      if (device !== undefined) await this.#cache.learnAffinity(device, winner.clusterId);
    };
    if (settings.signer && isResignable(name)) {
      const signed = await this.#resign(winner, name, settings.signer);
      ticket.done();
      if (cacheable()) {
        await this.#cache.set(name, signed, device === undefined ? {} : { device });
        await learn();
      }
      return {
        content: signed.content,
        clusterId: winner.clusterId,
        address: signed.address,
        completion: Promise.resolve(),
      };
    }
    // The rest of the file arrives in the background; requests read it as it comes.
    const completion = winner.done
      .then(async (res) => {
        const store = cacheable();
        await winner.fill.finish(
          { clusterId: winner.clusterId, address: res.address },
          { store, ...(device !== undefined && { device }) },
        );
        if (store) await learn();
      })
      .catch((err: unknown) => {
        winner.fill.fail(err);
        if (!(err instanceof AbortedError))
          this.emit('upstreamError', { clusterId: winner.clusterId, address: '', error: err });
      })
      .finally(() => ticket.done());
    // An upstream that answered with the whole file (it ignored the sink): nothing is left to
    // stream, so the file is complete and cached before anyone is answered.
    if (winner.address !== undefined) await completion;
    return { content: winner.fill.content, clusterId: winner.clusterId, address: winner.address, completion };
  }

  /** Waits for the whole `.sgn` file and re-signs it; the result is a small file in memory. */
  async #resign(
    found: FoundAttempt,
    name: string,
    signer: Signer,
  ): Promise<{ content: Content; size: number; version: string; clusterId: string; address: string }> {
    let res: UpstreamResult;
    let original: Uint8Array;
    // Held while reading: the fill gives its own reference back when it ends.
    const held = found.fill.content.retain();
    try {
      res = await found.done;
      if ((found.fill.content.size ?? found.fill.written) > MAX_RESIGN_BYTES)
        throw new Error(`${name} is larger than ${MAX_RESIGN_BYTES} bytes: not re-signed`);
      await found.fill.finish({ clusterId: found.clusterId, address: res.address }, { store: false });
      original = await readAll(held);
    } catch (err) {
      found.fill.fail(err);
      throw err;
    } finally {
      held.release();
    }
    const data = await signer(await sgnBody(original), name);
    const version = createHash('sha256').update(data).digest('hex').slice(0, 16);
    return {
      content: bufferContent(data, { version }),
      size: data.byteLength,
      version,
      clusterId: found.clusterId,
      address: res.address,
    };
  }

  async #sequential(
    ids: string[],
    name: string,
    topology: Topology,
    signal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<{ found?: Attempt; failures: Array<{ address: string; error: unknown }> }> {
    const failures: Array<{ address: string; error: unknown }> = [];
    for (const id of ids) {
      const attempt = await this.#ask(id, name, topology, signal, ticket);
      if (attempt.kind === 'found') return { found: attempt, failures };
      if (attempt.kind === 'unreachable') failures.push({ address: id, error: attempt.error });
    }
    return { failures };
  }

  /**
   * Asks up to `fanout` clusters at once, starting the next when one answers "not found".
   * The first cluster that has the file wins; answers that arrive in the same turn of the
   * event loop are ranked by preference. The others are aborted.
   */
  #parallel(
    ids: string[],
    name: string,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<{ found?: Attempt; failures: Array<{ address: string; error: unknown }> }> {
    return new Promise((resolve, reject) => {
      const failures: Array<{ address: string; error: unknown }> = [];
      const running = new Map<string, AbortController>();
      const winners: Array<{ rank: number; attempt: FoundAttempt }> = [];
      let next = 0;
      let settled = false;

      const finish = (value?: { found?: Attempt; failures: typeof failures }, error?: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        for (const c of running.values()) c.abort(new AbortedError('another cluster answered first'));
        running.clear();
        if (error !== undefined) reject(error);
        else resolve(value!);
      };
      const onAbort = () => finish(undefined, new AbortedError('fetch aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });

      const launch = () => {
        while (!settled && winners.length === 0 && running.size < settings.fanout && next < ids.length) {
          const rank = next++;
          const id = ids[rank]!;
          const controller = new AbortController();
          running.set(id, controller);
          this.#ask(id, name, topology, controller.signal, ticket).then(
            (attempt) => {
              running.delete(id);
              if (attempt.kind === 'found') attempt.abort = (reason) => controller.abort(reason);
              if (settled) {
                if (attempt.kind === 'found') dropAttempt(attempt);
                return;
              }
              if (attempt.kind === 'found') {
                winners.push({ rank, attempt });
                if (winners.length === 1) {
                  setImmediate(() => {
                    winners.sort((a, b) => a.rank - b.rank);
                    // Answers that lost (or all of them, when the search was aborted meanwhile).
                    for (const w of winners.slice(settled ? 0 : 1)) dropAttempt(w.attempt);
                    finish({ found: winners[0]!.attempt, failures });
                  });
                }
                return;
              }
              if (attempt.kind === 'unreachable') failures.push({ address: id, error: attempt.error });
              launch();
              if (running.size === 0 && next >= ids.length && winners.length === 0) finish({ failures });
            },
            (err) => {
              running.delete(id);
              if (settled) return;
              finish(undefined, err);
            },
          );
        }
      };
      launch();
      if (running.size === 0 && winners.length === 0) finish({ failures });
    });
  }

  /**
   * One cluster, one name: found (the file has started to arrive), missing, or unreachable.
   * Rejects only when aborted.
   */
  async #ask(
    clusterId: string,
    name: string,
    topology: Topology,
    requestSignal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<Attempt> {
    const upstream = topology.upstreams.get(clusterId)!;
    let reported = false;
    const reporter: UpstreamReporter = {
      error: (address, error) => {
        reported = true;
        this.emit('upstreamError', { clusterId, address, error });
      },
      failover: (from, to) => this.emit('failover', { clusterId, from, to }),
    };
    this.emit('upstreamFetch', { name, clusterId });
    this.#busy.set(upstream, (this.#busy.get(upstream) ?? 0) + 1);
    // The fetch may outlive the search (the file streams on): closing the resolver ends it too.
    const signal = AbortSignal.any([requestSignal, this.#closing.signal]);
    const fill = this.#cache.fill(name);
    let done: Promise<UpstreamResult> | undefined;
    try {
      const started = await fetchIntoFill(upstream, name, fill, { signal, reporter, ticket });
      done = started.done;
      return { kind: 'found', clusterId, fill, done, address: started.address };
    } catch (err) {
      fill.fail(err);
      if (signal.aborted) throw new AbortedError('fetch aborted', { cause: err });
      if (err instanceof FileNotFoundError) return { kind: 'missing', clusterId };
      if (!reported) {
        const address = err instanceof UpstreamUnreachableError ? (err.attempts.at(-1)?.address ?? '') : '';
        this.emit('upstreamError', { clusterId, address, error: err });
      }
      return { kind: 'unreachable', clusterId, error: err };
    } finally {
      // In use until the upstream is through with the file, not only until it started.
      const idle = () => {
        const n = (this.#busy.get(upstream) ?? 1) - 1;
        if (n === 0) {
          this.#busy.delete(upstream);
          if (this.#retired.delete(upstream)) upstream.close?.();
        } else this.#busy.set(upstream, n);
      };
      if (done) done.then(idle, idle);
      else idle();
    }
  }
}

type FoundAttempt = Extract<Attempt, { kind: 'found' }>;

/** A cluster's answer that is not used: its fetch is stopped and nothing of it kept. */
function dropAttempt(attempt: FoundAttempt): void {
  const reason = new AbortedError('another cluster answered first');
  attempt.abort?.(reason);
  attempt.fill.fail(reason);
  attempt.done.catch(() => {});
}

/** Cache settings with defaults filled in. */
function resolveCacheOptions(opts: CacheOptions = {}): Required<CacheOptions> {
  return {
    ttlSeconds: opts.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
    negativeTtlSeconds: opts.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS,
    maxBytes: opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
    dir: opts.dir ?? defaultCacheDir(),
    diskMaxBytes: opts.diskMaxBytes ?? DEFAULT_CACHE_DISK_MAX_BYTES,
    maxFetches: opts.maxFetches ?? DEFAULT_MAX_FETCHES,
    maxInflightBytes: opts.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES,
    budgetWaitMs: opts.budgetWaitMs ?? DEFAULT_BUDGET_WAIT_MS,
  };
}

function budgetOf(o: Required<CacheOptions>): FetchBudgetOptions {
  return { maxFetches: o.maxFetches, maxInflightBytes: o.maxInflightBytes, waitMs: o.budgetWaitMs };
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

function sameUpstreamSettings(a: Settings, b: Settings): boolean {
  return (
    a.upstreamTimeoutMs === b.upstreamTimeoutMs &&
    a.upstreamRetries === b.upstreamRetries &&
    a.upstreamHedgeMs === b.upstreamHedgeMs
  );
}
