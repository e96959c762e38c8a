/**
 * A resolver's configuration: what `init` may hold ({@link ResolverInit}), the collaborators it
 * is given ({@link ResolverComponents}), and the checked form with defaults filled in
 * ({@link Settings}) that one request or one reconfiguration works with from start to end.
 */
import { InvalidArgumentError } from '@ptftp/protocol';
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
import {
  DEFAULT_BUDGET_WAIT_MS,
  DEFAULT_MAX_FETCHES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  type FetchBudgetOptions,
} from './fetch-budget.js';
import { type ResignOptions, type Signer, securitySigner } from './resign.js';
import type { ResolverCache } from './resolver-cache.js';
import type { SearchLimitOptions } from './search-limit.js';
import type { Store } from './store.js';
import { type ClusterConfig, DEFAULT_PRIMARY_ID, normalizeIp } from './topology.js';
import type { Upstream } from './upstream.js';
import { upstreamHostPort } from './upstream-address.js';

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

/** `init` checked, defaults filled in: a request keeps the one it started with. */
export interface Settings {
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

/** Checks `init` (throws `InvalidArgumentError` naming the field) and fills in the defaults. */
export function makeSettings(init: ResolverInit, components: ResolverComponents): Settings {
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
  const signer = init.resign ? (components.signer ?? securitySigner(init.resign)) : undefined;
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

/** Cache settings with defaults filled in. */
export function resolveCacheOptions(opts: CacheOptions = {}): Required<CacheOptions> {
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

/** The fetch budget's share of the cache settings. */
export function budgetOf(o: Required<CacheOptions>): FetchBudgetOptions {
  return { maxFetches: o.maxFetches, maxInflightBytes: o.maxInflightBytes, waitMs: o.budgetWaitMs };
}

/** True when upstreams built under `a` would be built the same under `b` (so they are kept). */
export function sameUpstreamSettings(a: Settings, b: Settings): boolean {
  return (
    a.upstreamTimeoutMs === b.upstreamTimeoutMs &&
    a.upstreamRetries === b.upstreamRetries &&
    a.upstreamHedgeMs === b.upstreamHedgeMs
  );
}
