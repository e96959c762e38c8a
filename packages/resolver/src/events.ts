import type { ClusterConfig, TopologyViolation } from './topology.js';

/** Where a resolution came from. */
export type ResolutionSource = 'local' | 'cache' | 'cluster';

/** A flush request: nothing = everything; otherwise one name, one glob pattern or one device. */
export interface FlushScope {
  name?: string;
  pattern?: string;
  /** A device name (`SEP001122334455`): its cached files and its learned affinity. */
  device?: string;
}

/**
 * Every decision the resolver makes, as typed events: enough to build metrics and logs on
 * without the library logging anything itself. Listeners cost nothing when absent.
 *
 * @example
 * ```ts
 * resolver.on('resolved', ({ source, bytes, durationMs }) => histogram.observe({ source }, durationMs));
 * resolver.on('failover', ({ clusterId, from, to }) => failovers.inc({ clusterId }));
 * ```
 */
export type ResolverEvents = {
  /** A request was answered. */
  resolved: (e: {
    name: string;
    source: ResolutionSource;
    clusterId?: string;
    address?: string;
    bytes: number;
    durationMs: number;
    /** It matched a common-file pattern. */
    common?: boolean;
  }) => void;
  cacheHit: (e: { name: string; negative?: boolean }) => void;
  cacheMiss: (e: { name: string }) => void;
  /** A request joined an upstream fetch already in flight for the same name. */
  coalesced: (e: { name: string }) => void;
  /** One cluster was asked (the start of one upstream fetch). */
  upstreamFetch: (e: { name: string; clusterId: string }) => void;
  upstreamError: (e: { clusterId: string; address: string; error: unknown }) => void;
  failover: (e: { clusterId: string; from: string; to: string }) => void;
  /** No local copy and no cluster has it (or the request was not to be forwarded). */
  notFound: (e: { name: string; reason: 'nowhere' | 'negative-cache' | 'proxied' | 'unreachable' }) => void;
  /** A request from another proxy was answered from the local store only. */
  loopRefused: (e: { name: string; remoteAddress?: string }) => void;
  /** The device's learned cluster did not have the file: the phone moved; full search follows. */
  affinityMiss: (e: { device: string; clusterId: string }) => void;
  topologyChange: (e: { clusters: ClusterConfig[]; source: 'reconfigure' | 'discovery' }) => void;
  topologyRejected: (e: { violations: TopologyViolation[]; source: 'reconfigure' | 'discovery' }) => void;
  flushed: (e: { scope: FlushScope; removed: number }) => void;
};

/** The resolver's `emit`, as the rooms it hands it to see it. */
export type EmitResolverEvent = <E extends keyof ResolverEvents>(
  event: E,
  ...args: Parameters<ResolverEvents[E]>
) => boolean;
