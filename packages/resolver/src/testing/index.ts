/**
 * @packageDocumentation
 * Test helpers for users of @ptftp/resolver: compliance suites that any `Store`, `Upstream` or
 * `ResolverCache` implementation (yours included) can run, and in-memory upstreams.
 */
export { type CacheFixture, type MakeCache, runCacheCompliance } from './cache-compliance.js';
export {
  createFaultUpstream,
  type FaultUpstream,
  type FaultUpstreamOptions,
  type UpstreamFault,
} from './fault-upstream.js';
export { type MemoryStreamOptions, MemoryUpstream, type MemoryUpstreamOptions } from './memory-upstream.js';
export { type MakeStore, runStoreCompliance, type StoreFixture } from './store-compliance.js';
export { errorCode, type Matchers, patternBytes, type TestApi } from './test-api.js';
export {
  runUpstreamCompliance,
  type UpstreamComplianceOptions,
  type UpstreamFixture,
} from './upstream-compliance.js';
