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
export { DeviceAffinity, deviceOf } from './affinity.js';
export * from './cache.js';
export * from './common-files.js';
export * from './discovery.js';
export * from './errors.js';
export type * from './events.js';
export {
  DEFAULT_BUDGET_WAIT_MS,
  DEFAULT_MAX_FETCHES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  FetchBudget,
  type FetchBudgetOptions,
  type FetchTicket,
} from './fetch-budget.js';
export { canonicalFileName } from './file-name.js';
export * from './folder-store.js';
export { globToRegExp } from './glob.js';
export * from './health.js';
export { DEFAULT_HEDGE_MS, type HedgeAttempt, type HedgeOptions, hedgedFetch } from './hedge.js';
export * from './http-upstream.js';
export * from './memory-store.js';
export { isResignable, type ResignOptions, type Signer, sgnBody } from './resign.js';
export type * from './resolution.js';
export * from './resolver.js';
export type {
  CachedFile,
  CacheFill,
  CacheFlushScope,
  CacheLookup,
  CacheSetOptions,
  CacheStats,
  ResolverCache,
} from './resolver-cache.js';
export { SEARCH_LIMIT_DEFAULTS, SearchLimiter, type SearchLimitOptions } from './search-limit.js';
export { isSilence } from './silence.js';
export * from './store.js';
export * from './tftp-upstream.js';
export { TieredCache, type TieredCacheOptions } from './tiered-cache.js';
export * from './topology.js';
export * from './upstream.js';
export { DEFAULT_UPSTREAM_HTTP_PORT, DEFAULT_UPSTREAM_TFTP_PORT } from './upstream-address.js';
