import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChannelSink } from './diagnostics.js';
import type { FailedInfo, ServedInfo } from './events.js';

/** Where a served file came from, as the resolver reports it. */
export type ServedSource = 'local' | 'cache' | 'cluster';
export type Transport = 'tftp' | 'http';

/** The remote-file cache and the fetch budget, as `ptftp status` and the metrics show them. */
export interface CacheStatus {
  /** Files cached. */
  entries: number;
  /** Bytes of the files cached, each counted once (a hot file is in both tiers). */
  bytes: number;
  /** Bytes of cached files held in memory (bounded by `cache.maxBytes`). */
  memoryBytes: number;
  /** Bytes of cached files on disk under `cache.dir` (bounded by `cache.diskMaxBytes`). */
  diskBytes: number;
  hits: number;
  misses: number;
  /** Remote fetches running (bounded by `cache.maxFetches`). */
  inflightFetches: number;
  /** Bytes received by the fetches running (bounded by `cache.maxInflightBytes`). */
  inflightBytes: number;
  /** Fetches waiting for room in the budget. */
  waitingFetches: number;
  /** Requests answered "server busy" for want of room in the budget, since start. */
  budgetRefusals: number;
  /** With `cache.shared`: Redis reachable now, and its commands that failed (served without it). */
  shared?: { up: boolean; errors: number };
}

/** What the gauges read at scrape time, so they cost nothing between scrapes. */
export interface MetricsProbe {
  /** The cache and the fetch budget now (the counts since start come from the channels). */
  cacheStats(): Omit<CacheStatus, 'hits' | 'misses' | 'budgetRefusals'>;
  activeSessions(): { tftp: number; http: number };
}

/**
 * The server's Prometheus metrics, in a Registry of its own: two servers in one process (or a
 * host application with its own metrics) never collide on the global registry.
 *
 * @example
 * ```ts
 * const text = await server.metrics.registry.metrics(); // Prometheus text format
 * ```
 */
export class ProxyMetrics implements ChannelSink {
  readonly registry = new Registry();
  /**
   * Cache lookups and budget refusals since start, over every resolver of the server (those a
   * reload replaced included), as the `node:diagnostics_channel` events counted them.
   */
  readonly counts = { hits: 0, misses: 0, refusals: 0 };
  readonly cacheLookups: Counter<'result'>;
  readonly budgetRefusals: Counter;
  readonly requests: Counter<'transport' | 'result'>;
  readonly bytes: Counter<'transport' | 'source'>;
  readonly transfers: Counter<'transport' | 'source'>;
  readonly upstreamErrors: Counter<'cluster'>;
  readonly failovers: Counter<'cluster'>;
  readonly upstreamFetches: Counter<'cluster'>;
  readonly reloads: Counter<'result'>;
  readonly resolveSeconds: Histogram<'source'>;
  readonly unexpectedErrors: Counter<'where'>;

  constructor(probe: MetricsProbe) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'ptftp_requests_total',
      help: 'Read requests received, by transport and result (served, not_found, denied, error)',
      labelNames: ['transport', 'result'],
      registers,
    });
    this.bytes = new Counter({
      name: 'ptftp_bytes_served_total',
      help: 'Payload bytes sent to endpoints, by transport and source',
      labelNames: ['transport', 'source'],
      registers,
    });
    this.transfers = new Counter({
      name: 'ptftp_transfers_total',
      help: 'Files served, by transport and source (local, cache, cluster)',
      labelNames: ['transport', 'source'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'ptftp_upstream_errors_total',
      help: 'Failed fetches from remote-cluster TFTP servers, by cluster ID',
      labelNames: ['cluster'],
      registers,
    });
    this.failovers = new Counter({
      name: 'ptftp_failovers_total',
      help: 'Switches to the next TFTP address of a remote cluster, by cluster ID',
      labelNames: ['cluster'],
      registers,
    });
    this.upstreamFetches = new Counter({
      name: 'ptftp_upstream_fetches_total',
      help: 'Fetches started from remote clusters, by cluster ID (concurrent requests for one file share one)',
      labelNames: ['cluster'],
      registers,
    });
    this.reloads = new Counter({
      name: 'ptftp_reloads_total',
      help: 'Configuration reloads, by result (applied, rejected)',
      labelNames: ['result'],
      registers,
    });
    this.resolveSeconds = new Histogram({
      name: 'ptftp_resolve_duration_seconds',
      help: 'Time to resolve a file name to its contents, by source',
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers,
    });
    this.unexpectedErrors = new Counter({
      name: 'ptftp_unexpected_errors_total',
      help: 'Failures that escaped the code meant to handle them (tftp, http, admin, reload, listener, process); the server kept serving',
      labelNames: ['where'],
      registers,
    });
    new Gauge({
      name: 'ptftp_cache_entries',
      help: 'Files held in the remote-cluster cache',
      registers,
      collect() {
        this.set(probe.cacheStats().entries);
      },
    });
    new Gauge({
      name: 'ptftp_cache_bytes',
      help: 'Bytes held in the remote-cluster cache, by tier (memory, disk)',
      labelNames: ['tier'],
      registers,
      collect() {
        const c = probe.cacheStats();
        this.set({ tier: 'memory' }, c.memoryBytes);
        this.set({ tier: 'disk' }, c.diskBytes);
      },
    });
    new Gauge({
      name: 'ptftp_shared_cache_up',
      help: 'With cache.shared: 1 while Redis answers, 0 while the server serves without it',
      registers,
      // Summed over `--workers` by the primary: 0 as soon as one worker serves without Redis.
      aggregator: 'min',
      collect() {
        const s = probe.cacheStats().shared;
        if (s) this.set(s.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ptftp_shared_cache_errors',
      help: 'With cache.shared: Redis commands that failed since start (the request was served without Redis)',
      registers,
      collect() {
        const s = probe.cacheStats().shared;
        if (s) this.set(s.errors);
      },
    });
    new Gauge({
      name: 'ptftp_upstream_fetches_inflight',
      help: 'Remote-cluster fetches running (bounded by cache.maxFetches)',
      registers,
      collect() {
        this.set(probe.cacheStats().inflightFetches);
      },
    });
    new Gauge({
      name: 'ptftp_upstream_inflight_bytes',
      help: 'Bytes received by the remote-cluster fetches running (bounded by cache.maxInflightBytes)',
      registers,
      collect() {
        this.set(probe.cacheStats().inflightBytes);
      },
    });
    new Gauge({
      name: 'ptftp_upstream_fetches_waiting',
      help: 'Remote-cluster fetches waiting for room in the fetch budget',
      registers,
      collect() {
        this.set(probe.cacheStats().waitingFetches);
      },
    });
    this.budgetRefusals = new Counter({
      name: 'ptftp_budget_refusals_total',
      help: 'Requests answered "server busy" because the fetch budget stayed full',
      registers,
    });
    this.cacheLookups = new Counter({
      name: 'ptftp_cache_lookups_total',
      help: 'Remote-cluster cache lookups, by result (hit, negative: a cached "not found", miss)',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'ptftp_active_sessions',
      help: 'Transfers in progress, by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const active = probe.activeSessions();
        this.set({ transport: 'tftp' }, active.tftp);
        this.set({ transport: 'http' }, active.http);
      },
    });
  }

  /** @internal A resolver of this server looked in its cache (`ptftp:resolver:cache-lookup`). */
  cacheLookup(outcome: 'hit' | 'negative' | 'miss'): void {
    if (outcome === 'miss') this.counts.misses++;
    else this.counts.hits++;
    this.cacheLookups.inc({ result: outcome });
  }

  /** @internal A resolver of this server refused a fetch "server busy". */
  budgetRefusal(): void {
    this.counts.refusals++;
    this.budgetRefusals.inc();
  }

  /** @internal A file reached an endpoint (`ptftp:server:served`). */
  served(info: ServedInfo): void {
    this.transfers.inc({ transport: info.transport, source: info.source });
    this.bytes.inc({ transport: info.transport, source: info.source }, info.bytes);
    this.requests.inc({ transport: info.transport, result: 'served' });
  }

  /** @internal A request ended without the file (`ptftp:server:failed`). */
  failed(info: FailedInfo): void {
    this.requests.inc({ transport: info.transport, result: info.result });
  }
}
