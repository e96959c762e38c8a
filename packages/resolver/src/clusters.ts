/**
 * The remote clusters' lifecycle: one immutable {@link Topology} per configuration (a request
 * keeps the one it started with), one upstream built per cluster and kept, with the health it
 * learned, while the cluster stays unchanged; an upstream a reconfiguration drops is closed at
 * once when idle, else once the last fetch using it is through.
 */
import { HttpUpstream } from './http-upstream.js';
import type { ResolverComponents, Settings } from './resolver-settings.js';
import { TftpClusterUpstream } from './tftp-upstream.js';
import type { ClusterConfig } from './topology.js';
import type { AddressStatus, Upstream } from './upstream.js';

/** Per-cluster health, as {@link Resolver.clusterStatus} reports it. */
export interface ClusterStatus {
  id: string;
  enabled: boolean;
  addresses: AddressStatus[];
}

/** One immutable view of the remote clusters; a request keeps the one it started with. */
export interface Topology {
  clusters: ClusterConfig[];
  upstreams: Map<string, Upstream>;
  /** Enabled cluster IDs in asking order (preference first). */
  order: string[];
}

/** What {@link Clusters.apply} changed. */
export interface TopologyChange {
  next: Topology;
  /** IDs of clusters removed or changed: what was learned from them is no longer vouched for. */
  gone: Set<string>;
  /** A cluster ID that was not there before. */
  added: boolean;
}

/**
 * The topology in effect and the upstreams behind it.
 *
 * @example
 * ```ts
 * const clusters = new Clusters([{ id: 'B', tftp: ['10.1.0.10'] }], settings, components);
 * const done = clusters.use(clusters.topology.upstreams.get('B')!); // a fetch starts
 * clusters.apply([], settings, true); // B's upstream is retired, still open
 * done(); // the fetch is through: B's upstream closes
 * ```
 */
export class Clusters {
  readonly #components: Pick<ResolverComponents, 'upstreamFactory'>;
  #topology: Topology;
  /** Upstreams still in use by a fetch, and those retired by a reconfiguration. */
  readonly #busy = new Map<Upstream, number>();
  readonly #retired = new Set<Upstream>();

  /** Throws whatever `components.upstreamFactory` throws. */
  constructor(
    clusters: ClusterConfig[],
    settings: Settings,
    components: Pick<ResolverComponents, 'upstreamFactory'>,
  ) {
    this.#components = components;
    this.#topology = this.#makeTopology(clusters, settings, undefined);
  }

  /** The topology in effect. */
  get topology(): Topology {
    return this.#topology;
  }

  /**
   * Puts `clusters` in effect. With `reuse`, unchanged clusters keep their upstream; the
   * upstreams left over are retired. An upstream factory that throws leaves the topology as it was.
   */
  apply(clusters: ClusterConfig[], settings: Settings, reuse: boolean): TopologyChange {
    const before = this.#topology;
    const next = this.#makeTopology(clusters, settings, reuse ? before : undefined);
    const reused = new Set(next.upstreams.values());
    for (const up of before.upstreams.values()) if (!reused.has(up)) this.#retire(up);
    const gone = new Set<string>();
    for (const old of before.clusters) {
      const now = clusters.find((c) => c.id === old.id);
      if (!now || JSON.stringify(now) !== JSON.stringify(old)) gone.add(old.id);
    }
    this.#topology = next;
    const added = clusters.some((c) => !before.clusters.some((old) => old.id === c.id));
    return { next, gone, added };
  }

  /** Health of every address of every cluster, in configured order. */
  status(): ClusterStatus[] {
    return this.#topology.clusters.map((c) => {
      const up = this.#topology.upstreams.get(c.id);
      const addresses = up?.status?.() ?? c.tftp.map((address) => ({ address, healthy: true, failures: 0 }));
      return { id: c.id, enabled: c.enabled !== false, addresses };
    });
  }

  /**
   * Counts one fetch using `upstream`; call the function returned once when the upstream is
   * through with it. A retired upstream closes when its last fetch is through.
   */
  use(upstream: Upstream): () => void {
    this.#busy.set(upstream, (this.#busy.get(upstream) ?? 0) + 1);
    return () => {
      const n = (this.#busy.get(upstream) ?? 1) - 1;
      if (n === 0) {
        this.#busy.delete(upstream);
        if (this.#retired.delete(upstream)) upstream.close?.();
      } else this.#busy.set(upstream, n);
    };
  }

  /** Closes every upstream, in use or retired. */
  close(): void {
    for (const up of this.#topology.upstreams.values()) up.close?.();
    for (const up of this.#retired) up.close?.();
    this.#retired.clear();
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
}
