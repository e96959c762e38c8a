/**
 * @packageDocumentation
 * The proxy TFTP policy of ptftp: where a requested file comes from. A {@link Resolver} answers
 * a name from the proxy's local {@link Store} (a folder that picks up replaced files, or your
 * own storage), then from a bounded, coalescing cache, then from the remote clusters
 * ({@link TftpClusterUpstream}, {@link HttpUpstream}, or your own {@link Upstream}), asked in
 * parallel or in sequence with per-address health and failover and learned device affinity.
 * It enforces Cisco's proxy TFTP topology rules (1-3 TFTP addresses per cluster, a single-level
 * peer hierarchy, no loops) on manual and discovered configuration and at run time, serves
 * common files (ring lists, locales) from the local copy, passes signed files through
 * byte-identical, and reports every decision as a typed event.
 *
 * Compliance suites for your own stores and upstreams, and an in-memory upstream, are in
 * `@ptftp/resolver/testing`.
 */
export { deviceOf } from './affinity.js';
export {
  type CacheOptions,
  DEFAULT_CACHE_DISK_MAX_BYTES,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  defaultCacheDir,
  MEMORY_FILE_FRACTION,
} from './cache.js';
export type { ClusterStatus } from './clusters.js';
export { DEFAULT_COMMON_FILES } from './common-files.js';
export {
  type BudgetRefusalMessage,
  type CacheLookupMessage,
  resolverChannels,
} from './diagnostics.js';
export { type DiscoverySource, discoveryFrom } from './discovery.js';
export { LoopRefusedError, ResolverErrorCode, TopologyError, UpstreamUnreachableError } from './errors.js';
export type { FlushScope, ResolutionSource, ResolverEvents } from './events.js';
export { DEFAULT_BUDGET_WAIT_MS, DEFAULT_MAX_FETCHES, DEFAULT_MAX_INFLIGHT_BYTES } from './fetch-budget.js';
export { canonicalFileName } from './file-name.js';
export { FolderStore, type FolderStoreOptions } from './folder-store.js';
export { AddressHealth, type AddressHealthOptions } from './health.js';
export {
  DEFAULT_HEDGE_MS,
  type HedgeAttempt,
  type HedgeOptions,
  hedgedFetch,
} from './hedge.js';
export { HttpUpstream, type HttpUpstreamOptions } from './http-upstream.js';
export type { RequestContext } from './lookup.js';
export { MemoryStore } from './memory-store.js';
export type { ResignOptions, Signer } from './resign.js';
export type { Resolution } from './resolution.js';
export { Resolver, type ResolverCacheStats } from './resolver.js';
export type {
  CachedFile,
  CacheFill,
  CacheFlushScope,
  CacheLookup,
  CacheSetOptions,
  CacheStats,
  ResolverCache,
} from './resolver-cache.js';
export type { ResolverComponents, ResolverInit } from './resolver-settings.js';
export { SEARCH_LIMIT_DEFAULTS, type SearchLimitOptions } from './search-limit.js';
export { isSilence } from './silence.js';
export { listStore, type Store, type StoreEntry } from './store.js';
export { TftpClusterUpstream, type TftpClusterUpstreamOptions } from './tftp-upstream.js';
export { TieredCache, type TieredCacheOptions } from './tiered-cache.js';
export {
  type ClusterConfig,
  DEFAULT_PRIMARY_ID,
  MAX_TFTP_ADDRESSES,
  TopologyMessages,
  type TopologyResult,
  type TopologyRule,
  type TopologyViolation,
  type ValidateTopologyOptions,
  validateTopology,
} from './topology.js';
export {
  type AddressStatus,
  PROXIED_HTTP_HEADER,
  PROXIED_TFTP_OPTION,
  type Upstream,
  type UpstreamFetchOptions,
  type UpstreamReporter,
  type UpstreamResult,
  type UpstreamSink,
} from './upstream.js';
export { DEFAULT_UPSTREAM_HTTP_PORT, DEFAULT_UPSTREAM_TFTP_PORT } from './upstream-address.js';
