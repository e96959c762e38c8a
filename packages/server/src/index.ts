/**
 * @packageDocumentation
 * The composed proxy TFTP server for Cisco IP-phone networks. One resolver (local store,
 * cache, remote clusters) behind a TFTP front end (UDP, IPv4 and IPv6) and an HTTP front end
 * (TCP 6970, GET/HEAD/Range, as phones try before TFTP), with a validated configuration file,
 * reload without dropping transfers, and a loopback admin endpoint (health, Prometheus
 * metrics, cache flush, cluster status). The `ptftp serve` command is a thin shell around it.
 *
 * @example
 * ```ts
 * import { createProxyServer, loadConfig } from '@ptftp/server';
 *
 * const server = createProxyServer(await loadConfig('ptftp.config.json'));
 * server.on('served', (s) => console.log(`${s.transport} ${s.name} <- ${s.source}`));
 * await server.start();
 * process.on('SIGHUP', () => server.reload().catch((err) => console.error(err.message)));
 * process.once('SIGTERM', () => void server.close({ graceMs: 5000 }));
 * ```
 */
export type { AdminTarget } from './admin.js';
export {
  formatPath,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
  parseConfigText,
} from './config-load.js';
export { type ConfigFinding, reviewConfig } from './config-review.js';
export {
  configSchema,
  DEFAULT_ADMIN_PORT,
  DEFAULT_CACHE_TTL_SECONDS,
  DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
  DEFAULT_HTTP_IDLE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_CONNECTIONS,
  DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_HTTP_MIN_BYTES_PER_SECOND,
  DEFAULT_LISTEN_HTTP_PORT,
  DEFAULT_LISTEN_TFTP_PORT,
  type ProxyConfig,
  type ProxyConfigInput,
} from './config-schema.js';
export type { FailureSite } from './contain.js';
export { type Demo, type DemoCluster, type DemoOptions, startDemo } from './demo.js';
export { fileDiscovery } from './discovery-file.js';
export {
  ConfigError,
  type ConfigIssue,
  ListenError,
  ServerError,
  type ServerErrorCode,
  StateError,
} from './errors.js';
export type { FailedInfo, ProxyRequestInfo, ServedInfo } from './events.js';
export { PROXIED_HEADER } from './http-frontend.js';
export { type ByteRange, parseRange } from './http-range.js';
export type { HttpLimits } from './http-server-limits.js';
export type { CacheStatus, ProxyMetrics, ServedSource, Transport } from './metrics.js';
export { guardProcess, type ProcessFailureKind } from './process-guard.js';
export { createProxyServer, type ProxyComponents, ProxyServer } from './proxy-server.js';
export type {
  BoundAddress,
  FlushSelector,
  ProxyAddresses,
  ProxyServerEvents,
  ProxyStatus,
} from './proxy-types.js';
export { effectiveConfig, planReload, type ReloadResult } from './reload.js';
export { resolverInit } from './resolver-init.js';
export { type ClusterStatus, sumStatuses, type WorkerStatus } from './status-sum.js';
export { type InheritedSocket, type SystemdSocketsOptions, systemdSockets } from './systemd.js';
export { PROXIED_OPTION } from './tftp-frontend.js';
export { serveWorkerEndpoint, type WorkerEndpointOptions } from './worker-endpoint.js';
export {
  WORKER_SLOT_ENV,
  WorkerPool,
  type WorkerPoolEvents,
  type WorkerPoolOptions,
} from './worker-pool.js';
