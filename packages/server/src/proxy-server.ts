import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { Leases } from '@ptftp/protocol';
import type { Resolver } from '@ptftp/resolver';
import { AdminEndpoint } from './admin.js';
import { AdminFrontend } from './admin-frontend.js';
import { parseConfig } from './config-load.js';
import type { ProxyConfig, ProxyConfigInput } from './config-schema.js';
import { type FailureSite, toError } from './contain.js';
import { observe, serverChannels } from './diagnostics.js';
import { StateError } from './errors.js';
import type { FrontendHooks, ResolvedFile } from './events.js';
import type { Frontend, Rebind } from './frontend.js';
import { httpFrontend, tftpFrontend } from './frontend-bindings.js';
import { HttpFrontend } from './http-frontend.js';
import { splitInherited, withInherited } from './inherited.js';
import { ProxyMetrics } from './metrics.js';
import type { FlushSelector, ProxyAddresses, ProxyServerEvents, ProxyStatus } from './proxy-types.js';
import { effectiveConfig, planReload, type ReloadResult } from './reload.js';
import { createResolver, type ProxyComponents, topologyToConfigError } from './resolver-build.js';
import { readSigning, resolverInit } from './resolver-init.js';
import { SharedCache } from './shared-cache.js';
import { TftpFrontend } from './tftp-frontend.js';

export type { ProxyComponents } from './resolver-build.js';

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
  /** TFTP, HTTP, admin: bound, rebound and closed alike. */
  private readonly frontends: readonly Frontend[];
  private state: ProxyStatus['state'] = 'idle';
  private startRequested = false;
  private startedAt: Date | undefined;
  private addrs: ProxyAddresses = { tftp: [], http: [] };
  private reloadCount = { applied: 0, rejected: 0, lastError: undefined as string | undefined };
  /** Reloads run one at a time: two overlapping SIGHUPs must not interleave their swaps. */
  private reloading: Promise<unknown> = Promise.resolve();
  /**
   * Requests in progress per resolver. One replaced by a reload (new store) is closed when its
   * last request ends (or with the server), so it neither cuts those requests nor keeps its
   * cache alive after them.
   */
  private readonly resolvers = new Leases<Resolver>((r) => r.close());
  /** `cache.shared` (restart-only): one Redis cache for every resolver of this server. */
  private readonly sharedCache: SharedCache | undefined;

  constructor(configured: ProxyConfig, components: ProxyComponents) {
    super();
    const config = withInherited(configured, components.inheritedSockets);
    this.running = config;
    this.components = components;
    this.sharedCache = config.cache.shared ? new SharedCache(config) : undefined;
    this.metrics = new ProxyMetrics({
      cacheStats: () => this.cacheStats(),
      activeSessions: () => this.activeSessions(),
    });
    // The metrics count what this server and its resolvers publish on diagnostics_channel.
    observe(this, this.metrics);
    this.resolver = this.buildResolver(config, undefined);
    const hooks: FrontendHooks = {
      resolve: (name, ctx) => this.resolve(name, ctx),
      served: (info) => {
        if (serverChannels.served.hasSubscribers) serverChannels.served.publish({ server: this, info });
        this.emit('served', info);
      },
      failed: (info) => {
        if (serverChannels.failed.hasSubscribers) serverChannels.failed.publish({ server: this, info });
        this.emit('failed', info);
      },
      unexpected: (where, error) => this.reportUnexpected(where, error),
    };
    const inherited = splitInherited(components.inheritedSockets ?? []);
    this.frontends = [
      // The TFTP front end's limits follow the configuration it is bound or rebound with.
      tftpFrontend(new TftpFrontend(hooks, config.limits), inherited.udp),
      httpFrontend(new HttpFrontend(hooks), inherited.http),
      new AdminFrontend(() => new AdminEndpoint(this), inherited.admin),
    ];
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
      // One after the other: a ListenError names the first address that cannot be bound.
      for (const frontend of this.frontends) await frontend.listen(this.running);
      this.addrs = this.boundNow();
      if (this.closingOrClosed()) {
        // close() ran while the sockets were being bound: it could not see them, release them here.
        await Promise.allSettled(this.frontends.map((f) => f.close(0)));
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
    await Promise.allSettled(this.frontends.map((f) => f.close(graceMs)));
    for (const r of [this.resolver, ...this.resolvers.takeRetired()]) r.close();
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
          this.resolvers.retire(previous);
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
   * Bind what a new configuration adds, front end by front end; a bind that fails throws
   * ListenError with nothing changed. `commit()` then lets go of what the new configuration no
   * longer lists (transfers and requests in progress finish); `rollback()` releases the new
   * sockets instead. Sockets inherited from systemd are never rebound.
   */
  private async rebindSockets(next: ProxyConfig): Promise<Rebind> {
    if (this.state !== 'running') return { commit() {}, rollback() {} };
    const steps: Rebind[] = [];
    const rollback = () => {
      for (const step of steps) step.rollback();
    };
    try {
      for (const frontend of this.frontends) steps.push(await frontend.rebind(next));
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

  /** The front ends' sockets now. */
  private boundNow(): ProxyAddresses {
    const of = (kind: Frontend['kind']) =>
      this.frontends.filter((f) => f.kind === kind).flatMap((f) => f.bound);
    return { tftp: of('tftp'), http: of('http'), admin: of('admin')[0] };
  }

  /** `addresses` as the sockets are now. */
  private refreshAddresses(): void {
    const previous = this.addrs;
    this.addrs = this.boundNow();
    if (!isDeepStrictEqual(previous, this.addrs)) this.emit('listening', this.addrs, 'reload');
  }

  private activeSessions(): ProxyStatus['activeSessions'] {
    const of = (kind: Frontend['kind']) =>
      this.frontends.filter((f) => f.kind === kind).reduce((n, f) => n + f.active, 0);
    return { tftp: of('tftp'), http: of('http') };
  }

  /** Read through a method: the awaits in between may have changed it. */
  private closingOrClosed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /**
   * The cache and the fetch budget now: sizes from the resolver in effect, fetches running
   * from it and the replaced ones still finishing.
   */
  private cacheStats(): Omit<ProxyStatus['cache'], 'hits' | 'misses' | 'budgetRefusals'> {
    const c = this.resolver.cacheStats;
    let inflightFetches = 0;
    let inflightBytes = 0;
    let waitingFetches = 0;
    for (const r of [this.resolver, ...this.resolvers.retired]) {
      const s = r.cacheStats;
      inflightFetches += s.inflight;
      inflightBytes += s.inflightBytes;
      waitingFetches += s.waiting;
    }
    return {
      entries: c.entries,
      bytes: c.bytes,
      memoryBytes: c.memoryBytes,
      diskBytes: c.diskBytes,
      inflightFetches,
      inflightBytes,
      waitingFetches,
      ...(this.sharedCache && { shared: this.sharedCache.shared() }),
    };
  }

  /** A snapshot for health checks, `ptftp status` and dashboards. */
  status(): ProxyStatus {
    return {
      state: this.state,
      startedAt: this.startedAt?.toISOString(),
      uptimeSeconds: this.startedAt ? Math.round((Date.now() - this.startedAt.getTime()) / 1000) : 0,
      addresses: this.addrs,
      activeSessions: this.activeSessions(),
      cache: {
        ...this.cacheStats(),
        hits: this.metrics.counts.hits,
        misses: this.metrics.counts.misses,
        budgetRefusals: this.metrics.counts.refusals,
      },
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
    this.resolvers.retain(resolver);
    try {
      const r = await resolver.resolve(name, ctx);
      end({ source: r.source });
      // The store's date of a local file (its mtime) validates HTTP If-Modified-Since.
      const modifiedAt = r.content.modifiedAt;
      return modifiedAt === undefined ? r : { ...r, modifiedAt };
    } finally {
      this.resolvers.release(resolver);
    }
  }

  private buildResolver(
    config: ProxyConfig,
    signing: { keyPem: string; certPem: string } | undefined,
  ): Resolver {
    const resolver = createResolver(config, signing, this.components, this.sharedCache);
    observe(resolver, this.metrics);
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
