import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AbortedError, ClosedError, FileNotFoundError, InvalidArgumentError, readAll } from '@ptftp/protocol';
import type * as TypedEmitterModule from 'typed-emitter';
import { DeviceAffinity, deviceOf } from './affinity.js';
import {
  type CacheOptions,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  RemoteCache,
} from './cache.js';
import { CommonFiles } from './common-files.js';
import type { DiscoverySource } from './discovery.js';
import { LoopRefusedError, TopologyError, UpstreamUnreachableError } from './errors.js';
import type { FlushScope, ResolverEvents } from './events.js';
import { canonicalFileName } from './file-name.js';
import { globToRegExp } from './glob.js';
import { HttpUpstream } from './http-upstream.js';
import { isResignable, type ResignOptions, type Signer, securitySigner, sgnBody } from './resign.js';
import type { Resolution } from './resolution.js';
import { SearchLimiter, type SearchLimitOptions } from './search-limit.js';
import { SharedFetches } from './shared-fetch.js';
import type { Store } from './store.js';
import { TftpClusterUpstream } from './tftp-upstream.js';
import {
  type ClusterConfig,
  DEFAULT_PRIMARY_ID,
  normalizeIp,
  parseHostPort,
  type TopologyViolation,
  validateTopology,
} from './topology.js';
import type { AddressStatus, Upstream, UpstreamReporter } from './upstream.js';

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
  | { kind: 'found'; clusterId: string; data: Uint8Array; address: string }
  | { kind: 'missing'; clusterId: string }
  | { kind: 'unreachable'; clusterId: string; error: unknown };

interface Fetched {
  data: Uint8Array;
  clusterId: string;
  address: string;
  version: string;
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
 * const { data, source } = await resolver.resolve('SEP001122334455.cnf.xml', { remoteAddress: '10.9.0.7' });
 * resolver.flush({ device: 'SEP001122334455' }); // the phone moved
 * ```
 */
export class Resolver extends Emitter {
  readonly #components: ResolverComponents;
  #settings: Settings;
  #topology: Topology;
  #cache: RemoteCache;
  #affinity: DeviceAffinity;
  readonly #shared = new SharedFetches<Fetched>();
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
    this.#cache = new RemoteCache(init.cache);
    this.#affinity = new DeviceAffinity({ ttlMs: this.#cache.options.ttlSeconds * 1000 });
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
        data: local.data ?? (await readAll(local.content!)),
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

    const file = this.#cache.getFile(canonical);
    if (file) {
      if (this.#listened.has('cacheHit')) this.emit('cacheHit', { name: canonical });
      if (this.#listened.has('resolved')) {
        this.emit('resolved', {
          name: canonical,
          source: 'cache',
          clusterId: file.clusterId,
          address: file.address,
          bytes: file.data.byteLength,
          durationMs: elapsed(),
          common: settings.common.matches(canonical),
        });
      }
      return file.resolution;
    }
    if (this.#cache.lookupNegative(canonical)) {
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
            this.#fetchRemote(canonical, common, topology, settings, signal),
          ),
        ctx.signal,
      );
    } catch (err) {
      if (err instanceof FileNotFoundError) {
        this.emit('notFound', { name: canonical, reason: err.cause ? 'unreachable' : 'nowhere' });
      }
      throw err;
    }
    this.emit('resolved', {
      name: canonical,
      source: 'cluster',
      clusterId: fetched.clusterId,
      address: fetched.address,
      bytes: fetched.data.byteLength,
      durationMs: elapsed(),
      common,
    });
    return {
      name: canonical,
      data: fetched.data,
      size: fetched.data.byteLength,
      source: 'cluster',
      clusterId: fetched.clusterId,
      address: fetched.address,
      version: fetched.version,
    };
  }

  /**
   * Drops learned state at once (Cisco's product needs a service restart for this): with no
   * scope everything; otherwise one name, the names matching a glob pattern, or one device's
   * files and learned cluster. Returns how many cache entries (files and "not found"
   * answers) were removed. Fetches in flight are not aborted (their requests still get
   * their answer) but requests from now on do not join them, and their results are not cached.
   */
  flush(scope: FlushScope = {}): number {
    this.#flushes++;
    let removed: number;
    if (scope.name === undefined && scope.pattern === undefined && scope.device === undefined) {
      removed = this.#cache.remove();
      this.#affinity.clear();
      // A fetch that started before the flush may carry the state being dropped: requests
      // from now on start their own instead of joining it.
      this.#shared.detach();
    } else {
      const name = scope.name === undefined ? undefined : scope.name.replace(/^\/+/, '');
      const re = scope.pattern === undefined ? undefined : globToRegExp(scope.pattern);
      const device = scope.device?.toUpperCase();
      const devices = new Set<string>();
      const matches = (n: string) =>
        (name !== undefined && n === name) ||
        re?.test(n) === true ||
        (device !== undefined && deviceOf(n) === device);
      removed = this.#cache.remove((n) => {
        const hit = matches(n);
        const d = hit ? deviceOf(n) : undefined;
        if (d) devices.add(d);
        return hit;
      });
      this.#shared.detach(matches);
      if (device !== undefined) devices.add(device);
      const named = name === undefined ? undefined : deviceOf(name);
      if (named) devices.add(named);
      for (const d of devices) this.#affinity.forget(d);
    }
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
    const cacheOpts = init.cache ?? {};
    const current = this.#cache.options;
    if (
      (cacheOpts.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS) !== current.ttlSeconds ||
      (cacheOpts.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS) !== current.negativeTtlSeconds ||
      (cacheOpts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES) !== current.maxBytes
    ) {
      const next = new RemoteCache(cacheOpts);
      this.#cache.moveTo(next);
      this.#cache = next;
      // Affinity lives as long as cached files do.
      if (next.options.ttlSeconds * 1000 !== this.#affinity.ttlMs)
        this.#affinity = this.#affinity.withTtl(next.options.ttlSeconds * 1000);
    }
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
    return { ...this.#cache.options };
  }

  get cacheStats(): { entries: number; bytes: number; hits: number; misses: number; inflight: number } {
    const c = this.#cache;
    return {
      entries: c.entries,
      bytes: c.bytes,
      hits: c.hits,
      misses: c.misses,
      inflight: this.#shared.size,
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
  }

  #makeSettings(init: ResolverInit): Settings {
    const fanout = init.fanout ?? 4;
    if (!Number.isInteger(fanout) || fanout < 1)
      throw new InvalidArgumentError('fanout', 'must be an integer >= 1');
    if (init.lookup !== undefined && init.lookup !== 'parallel' && init.lookup !== 'sequential') {
      throw new InvalidArgumentError('lookup', "must be 'parallel' or 'sequential'");
    }
    for (const [k, v] of Object.entries(init.cache ?? {})) {
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) {
        throw new InvalidArgumentError(`cache.${k}`, 'must be a number >= 0');
      }
    }
    const peers = new Set<string>();
    for (const p of init.peerAddresses ?? []) peers.add(parseHostPort(p)?.host ?? normalizeIp(p));
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
      this.#cache.remove((_n, f) => f === undefined);
    }
    if (gone.size > 0) {
      // Files learned from a cluster that was removed or changed are no longer vouched for.
      this.#cache.remove((_n, f) => f !== undefined && gone.has(f.clusterId));
      this.#affinity.forgetClusters(gone);
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

  /** The whole remote search for one name; shared by every concurrent request for it. */
  async #fetchRemote(
    name: string,
    common: boolean,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
  ): Promise<Fetched> {
    const flushes = this.#flushes;
    const failures: Array<{ address: string; error: unknown }> = [];
    const device = common ? undefined : deviceOf(name);
    let candidates = topology.order;
    let found: Attempt | undefined;

    const learned = device === undefined ? undefined : this.#affinity.clusterFor(device);
    if (
      device !== undefined &&
      learned !== undefined &&
      topology.upstreams.has(learned) &&
      candidates.includes(learned)
    ) {
      const first = await this.#ask(learned, name, topology, signal);
      if (first.kind === 'found') found = first;
      else {
        if (first.kind === 'unreachable') failures.push({ address: learned, error: first.error });
        // The phone may have moved: forget, then search everywhere else.
        this.#affinity.forget(device);
        this.emit('affinityMiss', { device, clusterId: learned });
        candidates = candidates.filter((id) => id !== learned);
      }
    }

    if (!found) {
      const result =
        settings.lookup === 'sequential'
          ? await this.#sequential(candidates, name, topology, signal)
          : await this.#parallel(candidates, name, topology, settings, signal);
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

    let data = found.data;
    if (settings.signer && isResignable(name)) data = await settings.signer(await sgnBody(data), name);
    const fetched: Fetched = {
      data,
      clusterId: found.clusterId,
      address: found.address,
      version: createHash('sha256').update(data).digest('hex').slice(0, 16),
    };
    // Not cached when an operator flushed meanwhile (the answer may be the stale state they
    // meant to drop) or the cluster left or changed in a reconfiguration.
    if (
      !signal.aborted &&
      flushes === this.#flushes &&
      this.#topology.upstreams.get(found.clusterId) === topology.upstreams.get(found.clusterId)
    ) {
      // Hits return this one frozen object: nothing to build on the hot path of a boot storm.
      const resolution: Resolution = Object.freeze({
        name,
        data,
        size: data.byteLength,
        source: 'cache',
        clusterId: found.clusterId,
        address: found.address,
        version: fetched.version,
      });
      this.#cache.setFile(name, { ...fetched, fetchedAt: Date.now(), resolution });
      if (device !== undefined) this.#affinity.learn(device, found.clusterId);
    }
    return fetched;
  }

  async #sequential(
    ids: string[],
    name: string,
    topology: Topology,
    signal: AbortSignal,
  ): Promise<{ found?: Attempt; failures: Array<{ address: string; error: unknown }> }> {
    const failures: Array<{ address: string; error: unknown }> = [];
    for (const id of ids) {
      const attempt = await this.#ask(id, name, topology, signal);
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
  ): Promise<{ found?: Attempt; failures: Array<{ address: string; error: unknown }> }> {
    return new Promise((resolve, reject) => {
      const failures: Array<{ address: string; error: unknown }> = [];
      const running = new Map<string, AbortController>();
      const winners: Array<{ rank: number; attempt: Attempt }> = [];
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
          this.#ask(id, name, topology, controller.signal).then(
            (attempt) => {
              running.delete(id);
              if (settled) return;
              if (attempt.kind === 'found') {
                winners.push({ rank, attempt });
                if (winners.length === 1) {
                  setImmediate(() => {
                    winners.sort((a, b) => a.rank - b.rank);
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

  /** One cluster, one name: found, missing, or unreachable. Rejects only when aborted. */
  async #ask(clusterId: string, name: string, topology: Topology, signal: AbortSignal): Promise<Attempt> {
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
    try {
      const { data, address } = await upstream.fetch(name, { signal, reporter });
      if (!(data instanceof Uint8Array)) throw new TypeError(`upstream ${clusterId} returned no bytes`);
      return { kind: 'found', clusterId, data, address };
    } catch (err) {
      if (signal.aborted) throw new AbortedError('fetch aborted', { cause: err });
      const code = (err as { code?: string } | undefined)?.code;
      if (code === 'PTFTP_ERR_NOT_FOUND') return { kind: 'missing', clusterId };
      if (!reported) {
        const address = err instanceof UpstreamUnreachableError ? (err.attempts.at(-1)?.address ?? '') : '';
        this.emit('upstreamError', { clusterId, address, error: err });
      }
      return { kind: 'unreachable', clusterId, error: err };
    } finally {
      const n = (this.#busy.get(upstream) ?? 1) - 1;
      if (n === 0) {
        this.#busy.delete(upstream);
        if (this.#retired.delete(upstream)) upstream.close?.();
      } else this.#busy.set(upstream, n);
    }
  }
}

function sameUpstreamSettings(a: Settings, b: Settings): boolean {
  return (
    a.upstreamTimeoutMs === b.upstreamTimeoutMs &&
    a.upstreamRetries === b.upstreamRetries &&
    a.upstreamHedgeMs === b.upstreamHedgeMs
  );
}
