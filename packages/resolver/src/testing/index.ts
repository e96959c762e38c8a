/**
 * Test helpers for users of @ptftp/resolver: compliance suites that any {@link Store} or
 * {@link Upstream} implementation (yours included) can run, and in-memory upstreams.
 */
export { type CacheFixture, type MakeCache, runCacheCompliance } from './cache-compliance.js';
export * from './fault-upstream.js';
export * from './memory-upstream.js';
export * from './store-compliance.js';
export { errorCode, type Matchers, patternBytes, type TestApi } from './test-api.js';
export * from './upstream-compliance.js';
