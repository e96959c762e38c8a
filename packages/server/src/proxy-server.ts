import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import {
  type DiscoverySource,
  FolderStore,
  MemoryStore,
  Resolver,
  type ResolverComponents,
  type Store,
  TopologyError,
} from '@ptftp/resolver';
import { endpointUrl } from './address.js';
import { AdminEndpoint } from './admin.js';
import { parseConfig } from './config-load.js';
import type { ProxyConfig, ProxyConfigInput } from './config-schema.js';
import { type FailureSite, toError } from './contain.js';
import { fileDiscovery } from './discovery-file.js';
import { ConfigError, StateError } from './errors.js';
import type { FrontendHooks, ResolvedFile } from './events.js';
import { HttpFrontend } from './http-frontend.js';
import { splitInherited, withInherited } from './inherited.js';
import { ProxyMetrics } from './metrics.js';
import type {
  BoundAddress,
  FlushSelector,
  ProxyAddresses,
  ProxyServerEvents,
  ProxyStatus,
} from './proxy-types.js';
import { effectiveConfig, planReload, type ReloadResult } from './reload.js';
import { readSigning, resolverInit } from './resolver-init.js';
import { SharedCache } from './shared-cache.js';
import type { InheritedSocket } from './systemd.js';
import { TftpFrontend } from './tftp-frontend.js';

/** Collaborators, kept apart from the configuration (`init`) so tests and embedders can replace them. */
export interface ProxyComponents {
  /** The local store for a configuration. Default: a FolderStore on `store.root`, or an empty MemoryStore. */
  createStore?: (config: ProxyConfig) => Store;
  /** Passed to the resolver: how remote clusters are fetched (default: TFTP with @ptftp/protocol). */
  upstreamFactory?: ResolverComponents['upstreamFactory'];
  /** Passed to the resolver: a dynamic source of remote clusters (default: `discovery.file` when configured). */
  discovery?: DiscoverySource;
  /** Passed to the resolver: re-signs `.sgn` files when `signing.mode` is `resign`. */
  signer?: ResolverComponents['signer'];
  /** Where `reload()` without an argument reads the new configuration (the CLI: the config file). */
  configSource?: () => Promise<ProxyConfigInput | ProxyConfig>;
  /**
   * Bound sockets handed over by systemd (see {@link systemdSockets}): UDP ones replace
   * `listen`, TCP ones replace `http.listen`, for as long as the server runs.
   */
  inheritedSockets?: readonly InheritedSocket[];
}

function family(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function bound(scheme: string, address: string, port: number): BoundAddress {
  return { address, port, family: family(address), url: endpointUrl(scheme, { host: address, port }) };
}

function topologyToConfigError(err: unknown): unknown {
  if (err instanceof TopologyError) {
    return new ConfigError(err.violations.map((v) => ({ path: v.path, message: v.message })));
  }
  return err;
}

/**
 * The proxy TFTP server: one resolver (local store, cache, remote clusters) behind a TFTP
 * front end (UDP, IPv4 and IPv6) and an HTTP front end (TCP 6970, GET/HEAD/Range), plus an
 * admin endpoint (health, Prometheus metrics, cache flush, cluster status, reload).
 * Create it with {@link createProxyServer}.
 */
export class ProxyServer extends EventEmitter<{
  [K in keyof ProxyServerEvents]: Parameters<ProxyServerEvents[K]>;
}> {
  /** This server's Prometheus metrics, in a Registry of its own. */
  readonly metrics: ProxyMetrics;
  private running: ProxyConfig;
  private resolver: Resolver;
  private readonly components: ProxyComponents;
  private readonly tftp: TftpFrontend;
  private readonly earlierCacheCounts = { hits: 0, misses: 0, refusals: 0 };
  private readonly http: HttpFrontend;
  private admin: AdminEndpoint;
  private state: ProxyStatus['state'] = 'idle';
  private startRequested = false;
  private startedAt: Date | undefined;
  private addrs: ProxyAddresses = { tftp: [], http: [] };
  private reloadCount = { applied: 0, rejected: 0, lastError: undefined as string | undefined };
  /** Reloads run one at a time: two overlapping SIGHUPs must not interleave their swaps. */
  private reloading: Promise<unknown> = Promise.resolve();
  /**
   * Resolvers replaced by a reload (new store) that still have requests in progress: each is
   * closed when its last request ends (or with the server), so it neither cuts those requests
   * nor keeps its cache alive after them.
   */
  private readonly retired = new Set<Resolver>();
  /** Admin endpoints replaced by a reload, finishing their requests (the reload's own among them). */
  private readonly retiredAdmins = new Set<AdminEndpoint>();
  /** Requests in progress per resolver. */
  private readonly inUse = new Map<Resolver, number>();
  /** `cache.shared` (restart-only): one Redis cache for every resolver of this server. */
  private readonly sharedCache: SharedCache | undefined;

  constructor(configured: ProxyConfig, components: ProxyComponents) {
    super();
    const config = withInherited(configured, components.inheritedSockets);
    this.running = config;
    this.components = components;
    this.sharedCache = config.cache.shared ? new SharedCache(config) : undefined;
    this.resolver = this.buildResolver(config, undefined);
    this.metrics = new ProxyMetrics({
      cacheStats: () => this.cacheCounts(),
      activeSessions: () => ({ tftp: this.tftp.activeSessions, http: this.http.activeRequests }),
    });
    const hooks: FrontendHooks = {
      resolve: (name, ctx) => this.resolve(name, ctx),
      served: (info) => {
        this.metrics.transfers.inc({ transport: info.transport, source: info.source });
        this.metrics.bytes.inc({ transport: info.transport, source: info.source }, info.bytes);
        this.metrics.requests.inc({ transport: info.transport, result: 'served' });
        this.emit('served', info);
      },
      failed: (info) => {
        this.metrics.requests.inc({ transport: info.transport, result: info.result });
        this.emit('failed', info);
      },
      unexpected: (where, error) => this.reportUnexpected(where, error),
    };
    this.tftp = new TftpFrontend(hooks, config.limits);
    this.http = new HttpFrontend(hooks);
    this.admin = new AdminEndpoint(this);
  }

  /**
   * Emit to the listeners, keeping their failures theirs: a listener that throws (a logger on a
   * full disk, an embedder's bug) is reported as `unexpectedError` and the request, transfer or
   * reload that emitted goes on. Without this, a throw from a `served` listener would surface
   * inside a socket callback of the TFTP or HTTP front end.
   */
  override emit<K extends keyof ProxyServerEvents>(
    event: K,
    ...args: Parameters<ProxyServerEvents[K]>
  ): boolean {
    // Each listener on its own: one that throws neither stops the ones after it (the logger)
    // nor reaches the emitter. rawListeners is a copy, with `once` wrappers that remove themselves.
    const listeners = this.rawListeners(event) as ((...a: unknown[]) => unknown)[];
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (err) {
        // A failing unexpectedError listener is counted by its caller and not reported again.
        if (event !== 'unexpectedError')
          this.reportUnexpected('listener', err, `a "${event}" listener threw`);
      }
    }
    return listeners.length > 0;
  }

  /**
   * Count a failure that escaped a request's own handling (`ptftp_unexpected_errors_total`,
   * labelled by `where`) and emit `unexpectedError`; never throws. The front ends call it for
   * their requests; {@link guardProcess} routes the process's unhandled rejections here.
   *
   * @example
   * ```ts
   * guardProcess((error, kind) => server.reportUnexpected('process', error, kind));
   * server.on('unexpectedError', ({ where, error }) => console.error(where, error));
   * ```
   */
  reportUnexpected(where: FailureSite, error: unknown, detail?: string): void {
    try {
      this.metrics.unexpectedErrors.inc({ where });
      this.emit('unexpectedError', { where, error: toError(error), detail });
    } catch {
      // Reporting is the last line of defence: nothing may escape from here.
    }
  }

  /** The configuration in effect (after reloads; restart-only keys as started). */
  get config(): ProxyConfig {
    return this.running;
  }

  /** The sockets bound by `start()`. */
  get addresses(): ProxyAddresses {
    return this.addrs;
  }

  /**
   * Bind every configured socket. If one cannot be bound, the others are closed again and a
   * ListenError names the address.
   */
  start(): Promise<ProxyAddresses> {
    if (this.state !== 'idle' || this.startRequested)
      return Promise.reject(
        new StateError(`cannot start a server that is ${this.startRequested ? 'starting' : this.state}`),
      );
    this.startRequested = true;
    // Start and reloads run one after the other: a reload queued before the start applies to
    // the configuration the start then binds; one queued after compares with its sockets.
    const run = this.reloading.then(() => this.startNow());
    this.reloading = run.catch(() => {});
    return run;
  }

  private async startNow(): Promise<ProxyAddresses> {
    if (this.state !== 'idle') throw new StateError(`cannot start a server that is ${this.state}`);
    this.state = 'running';
    try {
      await this.sharedCache?.loaded();
      const signing = await readSigning(this.running);
      if (signing) this.reconfigure(this.running, signing);
      await this.discover();
      const inherited = splitInherited(this.components.inheritedSockets ?? []);
      const udp = inherited.udp.map((s) => ({ fd: s.fd, family: s.family }));
      const tcp = inherited.http.map((s) => ({ fd: s.fd }));
      const tftp = (await this.tftp.listen(udp.length > 0 ? udp : this.running.listen)).map((b) =>
        bound('tftp', b.address, b.port),
      );
      const http = this.running.http.enabled
        ? (await this.http.listen(tcp.length > 0 ? tcp : this.running.http.listen, this.running.http)).map(
            (b) => bound('http', b.address, b.port),
          )
        : [];
      const adminAddr = this.running.admin.enabled
        ? await this.admin.listen(inherited.admin ? { fd: inherited.admin.fd } : this.running.admin.listen)
        : undefined;
      const admin = adminAddr ? bound('http', adminAddr.address, adminAddr.port) : undefined;
      this.addrs = { tftp, http, admin };
      if (this.closingOrClosed()) {
        // close() ran while the sockets were being bound: it could not see them, release them here.
        await Promise.allSettled([this.tftp.close(0), this.http.close(0), this.admin.close(0)]);
        throw new StateError('the server was closed while it was starting');
      }
    } catch (err) {
      await this.close({ graceMs: 0 });
      throw err;
    }
    this.startedAt = new Date();
    this.emit('listening', this.addrs, 'start');
    return this.addrs;
  }

  /**
   * Stop accepting requests; transfers in progress get `graceMs` (default 5 s) to finish.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    const graceMs = options.graceMs ?? 5000;
    await Promise.allSettled([
      this.tftp.close(graceMs),
      this.http.close(graceMs),
      this.admin.close(),
      ...[...this.retiredAdmins].map((a) => a.close(graceMs)),
    ]);
    this.retiredAdmins.clear();
    for (const r of [this.resolver, ...this.retired]) r.close();
    this.retired.clear();
    await this.sharedCache?.close();
    this.state = 'closed';
    this.emit('close');
  }

  /**
   * Apply a new configuration without dropping transfers in progress. Without an argument the
   * configuration is read from `components.configSource` (the CLI's config file). A configuration
   * that is invalid is refused with a ConfigError and the running one stays.
   *
   * @example
   * ```ts
   * const result = await server.reload({ ...server.config, cache: { ttlSeconds: 60 } });
   * result.applied; // ['cache']
   * ```
   */
  reload(next?: ProxyConfigInput | ProxyConfig): Promise<ReloadResult> {
    const run = this.reloading.then(() => this.reloadNow(next));
    this.reloading = run.catch(() => {});
    return run;
  }

  private async reloadNow(next: ProxyConfigInput | ProxyConfig | undefined): Promise<ReloadResult> {
    try {
      if (this.state === 'closed' || this.state === 'closing') {
        throw new StateError('cannot reload a closed server');
      }
      let input = next;
      if (input === undefined) {
        if (!this.components.configSource)
          throw new StateError('no configuration file to reload from (the server was started without one)');
        input = await this.components.configSource();
      }
      const config = withInherited(parseConfig(input), this.components.inheritedSockets);
      const plan = planReload(this.running, config);
      const effective = effectiveConfig(this.running, config, plan);
      const signing = await readSigning(config);
      const before = this.running;
      // Sockets first: new addresses are bound before anything changes, so a port that cannot
      // be bound rejects the reload with nothing applied.
      const sockets = await this.rebindSockets(effective);
      try {
        if (plan.applied.includes('limits')) this.tftp.configure(config.limits);
        if (plan.storeReplaced || !isDeepStrictEqual(config.discovery, this.running.discovery)) {
          // A new store means a new resolver; requests in progress finish on the old one.
          const next = this.buildResolver(config, signing);
          if (this.components.discovery || config.discovery) {
            // Discovered before the swap: until then the new resolver knows no discovered cluster,
            // and every remote name asked meanwhile would be "not found" (and negatively cached).
            const result = await next.refreshDiscovery();
            this.emit('discovery', result);
            if (this.state !== 'running') {
              next.close();
              throw new StateError('cannot reload a closed server');
            }
          }
          const previous = this.resolver;
          this.resolver = next;
          if (this.inUse.has(previous)) this.retired.add(previous);
          else this.closeResolver(previous);
          this.running = effective;
        } else {
          this.reconfigure(config, signing);
          this.running = effective;
          await this.discover();
        }
        // close() may have run during the awaits above: nothing new may outlive it.
        if (this.closingOrClosed()) throw new StateError('the server closed during the reload');
      } catch (err) {
        sockets.rollback();
        this.running = before;
        throw err;
      }
      sockets.commit();
      this.refreshAddresses();
      this.reloadCount.applied++;
      this.metrics.reloads.inc({ result: 'applied' });
      this.emit('reloaded', plan, this.running);
      return plan;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.reloadCount.rejected++;
      this.reloadCount.lastError = error.message;
      this.metrics.reloads.inc({ result: 'rejected' });
      this.emit('reloadRejected', error);
      throw error;
    }
  }

  /** Drop cached remote-cluster files at once (Cisco's only way is a service restart). Returns how many. */
  async flush(selector: FlushSelector = {}): Promise<number> {
    const devices = selector.device === undefined ? [] : [selector.device].flat();
    if (devices.length > 0) {
      let n = 0;
      for (const device of devices) n += await this.resolver.flush({ device });
      return n;
    }
    return this.resolver.flush({
      ...(selector.name !== undefined && { name: selector.name }),
      ...(selector.pattern !== undefined && { pattern: selector.pattern }),
    });
  }

  /**
   * Ask the discovery source for the remote clusters now ("update remote clusters now"). An
   * invalid result keeps the clusters in effect and is returned with its violations.
   */
  async refreshDiscovery(): Promise<{ ok: boolean; violations?: { path: string; message: string }[] }> {
    const result = await this.resolver.refreshDiscovery();
    this.emit('discovery', result);
    return result;
  }

  private async discover(): Promise<void> {
    if (this.components.discovery || this.running.discovery) await this.refreshDiscovery();
  }

  private reconfigure(config: ProxyConfig, signing: { keyPem: string; certPem: string } | undefined): void {
    try {
      this.resolver.reconfigure(resolverInit(config, signing));
    } catch (err) {
      throw topologyToConfigError(err);
    }
  }

  /**
   * Bind what a new configuration adds (TFTP and HTTP addresses, the admin endpoint); a bind
   * that fails throws ListenError with nothing changed. `commit()` then closes what the new
   * configuration no longer lists (transfers and requests in progress finish); `rollback()`
   * releases the new sockets instead. Sockets inherited from systemd are never rebound.
   */
  private async rebindSockets(next: ProxyConfig): Promise<{ commit(): void; rollback(): void }> {
    if (this.state !== 'running') return { commit() {}, rollback() {} };
    const inherited = splitInherited(this.components.inheritedSockets ?? []);
    const steps: Array<{ commit(): void; rollback(): void }> = [];
    const rollback = () => {
      for (const step of steps) step.rollback();
    };
    try {
      if (inherited.udp.length === 0) steps.push(await this.tftp.rebind(next.listen));
      // Inherited HTTP sockets stay; their limits still follow the configuration.
      const httpListen = inherited.http.length > 0 || !next.http.enabled ? [] : next.http.listen;
      steps.push(await this.http.rebind(httpListen, next.http));
      const cur = this.running.admin;
      if (!inherited.admin && (cur.enabled !== next.admin.enabled || cur.listen !== next.admin.listen)) {
        const fresh = new AdminEndpoint(this);
        if (next.admin.enabled) await fresh.listen(next.admin.listen);
        steps.push({
          commit: () => {
            const old = this.admin;
            this.admin = fresh;
            // The request that asked for this reload may be on the old endpoint: let it finish.
            this.retiredAdmins.add(old);
            void old.close(5000).then(() => this.retiredAdmins.delete(old));
          },
          rollback: () => void fresh.close(0),
        });
      }
    } catch (err) {
      rollback();
      throw err;
    }
    return {
      commit: () => {
        for (const step of steps) step.commit();
      },
      rollback,
    };
  }

  /** `addresses` as the sockets are now. */
  private refreshAddresses(): void {
    const a = this.admin.address;
    const previous = this.addrs;
    this.addrs = {
      tftp: this.tftp.bound.map((b) => bound('tftp', b.address, b.port)),
      http: this.http.bound.map((b) => bound('http', b.address, b.port)),
      admin: a ? bound('http', a.address, a.port) : undefined,
    };
    if (!isDeepStrictEqual(previous, this.addrs)) this.emit('listening', this.addrs, 'reload');
  }

  /** Read through a method: the awaits in between may have changed it. */
  private closingOrClosed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** Cache size now; hits and misses since start, across resolvers replaced by reloads. */
  private cacheCounts(): ProxyStatus['cache'] {
    const c = this.resolver.cacheStats;
    let { hits, misses, refusals } = this.earlierCacheCounts;
    let inflightFetches = 0;
    let inflightBytes = 0;
    let waitingFetches = 0;
    // Retired resolvers still finishing requests still count them.
    for (const r of [this.resolver, ...this.retired]) {
      const s = r.cacheStats;
      hits += s.hits;
      misses += s.misses;
      refusals += s.refusals;
      inflightFetches += s.inflight;
      inflightBytes += s.inflightBytes;
      waitingFetches += s.waiting;
    }
    return {
      entries: c.entries,
      bytes: c.bytes,
      memoryBytes: c.memoryBytes,
      diskBytes: c.diskBytes,
      hits,
      misses,
      inflightFetches,
      inflightBytes,
      waitingFetches,
      budgetRefusals: refusals,
      ...(this.sharedCache && { shared: this.sharedCache.shared() }),
    };
  }

  /** Close a replaced resolver; its hits and misses are the server's history and stay counted. */
  private closeResolver(resolver: Resolver): void {
    this.earlierCacheCounts.hits += resolver.cacheStats.hits;
    this.earlierCacheCounts.misses += resolver.cacheStats.misses;
    this.earlierCacheCounts.refusals += resolver.cacheStats.refusals;
    resolver.close();
  }

  /** A snapshot for health checks, `ptftp status` and dashboards. */
  status(): ProxyStatus {
    return {
      state: this.state,
      startedAt: this.startedAt?.toISOString(),
      uptimeSeconds: this.startedAt ? Math.round((Date.now() - this.startedAt.getTime()) / 1000) : 0,
      addresses: this.addrs,
      activeSessions: { tftp: this.tftp.activeSessions, http: this.http.activeRequests },
      cache: this.cacheCounts(),
      clusters: this.resolver.clusterStatus(),
      reloads: { ...this.reloadCount },
    };
  }

  /**
   * Resolve a name exactly as a phone's request would be (local store, cache, remote clusters),
   * for services that embed the proxy and want its answers in their own routes. Counts in the
   * `ptftp_resolve_seconds` metric; throws FileNotFoundError (`PTFTP_ERR_NOT_FOUND`) when no
   * source has the file, ServerBusyError (`PTFTP_ERR_BUSY`) when the fetch budget stays full.
   * `file.content` is read by offset and carries one reference: release it when done.
   *
   * @example
   * ```ts
   * const file = await proxy.resolve('SEP001122334455.cnf.xml');
   * try {
   *   console.log(file.source, file.clusterId, file.size, await file.content.read(0, 64));
   * } finally {
   *   file.content.release();
   * }
   * ```
   */
  async resolve(
    name: string,
    ctx: Partial<Parameters<FrontendHooks['resolve']>[1]> = {},
  ): Promise<ResolvedFile> {
    const end = this.metrics.resolveSeconds.startTimer();
    const resolver = this.resolver;
    this.inUse.set(resolver, (this.inUse.get(resolver) ?? 0) + 1);
    try {
      const r = await resolver.resolve(name, ctx);
      end({ source: r.source });
      // The store's date of a local file (its mtime) validates HTTP If-Modified-Since.
      const modifiedAt = r.content.modifiedAt;
      return modifiedAt === undefined ? r : { ...r, modifiedAt };
    } finally {
      const n = (this.inUse.get(resolver) ?? 1) - 1;
      if (n > 0) this.inUse.set(resolver, n);
      else {
        this.inUse.delete(resolver);
        if (this.retired.delete(resolver)) this.closeResolver(resolver);
      }
    }
  }

  private buildResolver(
    config: ProxyConfig,
    signing: { keyPem: string; certPem: string } | undefined,
  ): Resolver {
    const store =
      this.components.createStore?.(config) ??
      (config.store ? new FolderStore(config.store.root) : new MemoryStore({}));
    const discovery =
      this.components.discovery ?? (config.discovery ? fileDiscovery(config.discovery.file) : undefined);
    let resolver: Resolver;
    try {
      resolver = new Resolver(resolverInit(config, signing), {
        store,
        ...(this.components.upstreamFactory && { upstreamFactory: this.components.upstreamFactory }),
        ...(this.components.signer && { signer: this.components.signer }),
        ...(discovery && { discovery }),
        ...(this.sharedCache && { cache: this.sharedCache }),
      });
    } catch (err) {
      throw topologyToConfigError(err);
    }
    resolver.on('upstreamError', (e) => {
      this.metrics.upstreamErrors.inc({ cluster: e.clusterId });
      this.emit('upstreamError', e);
    });
    resolver.on('failover', (e) => {
      this.metrics.failovers.inc({ cluster: e.clusterId });
      this.emit('failover', e);
    });
    resolver.on('upstreamFetch', (e) => this.metrics.upstreamFetches.inc({ cluster: e.clusterId }));
    return resolver;
  }
}

/**
 * Create the proxy TFTP server from a configuration (validated and normalised here; an
 * invalid one throws a ConfigError listing every problem by path). Call `start()` to bind.
 *
 * @example
 * ```ts
 * import { createProxyServer, loadConfig } from '@ptftp/server';
 *
 * const server = createProxyServer(await loadConfig('ptftp.config.json'));
 * server.on('served', (s) => console.log(`${s.name} <- ${s.source}`));
 * const { tftp, http } = await server.start();
 * process.once('SIGHUP', () => void server.reload());
 * process.once('SIGTERM', () => void server.close({ graceMs: 5000 }));
 * ```
 */
export function createProxyServer(
  config: ProxyConfigInput | ProxyConfig,
  components: ProxyComponents = {},
): ProxyServer {
  return new ProxyServer(parseConfig(config), components);
}
