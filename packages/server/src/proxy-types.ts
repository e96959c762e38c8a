import type { ClusterStatus } from '@ptftp/resolver';
import type { ProxyConfig } from './config-schema.js';
import type { FailureSite } from './contain.js';
import type { FailedInfo, ServedInfo } from './events.js';
import type { CacheStatus } from './metrics.js';
import type { ReloadResult } from './reload.js';

/** A socket the server listens on. */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** `tftp://127.0.0.1:6969`, `http://[::1]:6970`. */
  readonly url: string;
}

/** Every socket of a started server. */
export interface ProxyAddresses {
  readonly tftp: readonly BoundAddress[];
  readonly http: readonly BoundAddress[];
  readonly admin?: BoundAddress | undefined;
}

/** Which cached entries {@link ProxyServer.flush} drops. No selector: all of them. */
export interface FlushSelector {
  readonly name?: string;
  /** A glob over file names, as in `commonFiles` (`SEP*.cnf.xml`). */
  readonly pattern?: string;
  /** Device names (`SEP001122334455`): every cached file of each device. */
  readonly device?: string | readonly string[];
}

/** What `status` (and `ptftp status`) reports. */
export interface ProxyStatus {
  readonly state: 'idle' | 'running' | 'closing' | 'closed';
  readonly startedAt?: string | undefined;
  readonly uptimeSeconds: number;
  readonly addresses: ProxyAddresses;
  readonly activeSessions: { tftp: number; http: number };
  readonly cache: CacheStatus;
  /** Each remote cluster in effect, with the health of its addresses. */
  readonly clusters: readonly ClusterStatus[];
  readonly reloads: { applied: number; rejected: number; lastError?: string | undefined };
}

/** Events of {@link ProxyServer}; the CLI turns them into log lines. */
export type ProxyServerEvents = {
  /**
   * The sockets are bound: once by `start()` (`cause` is `'start'`), then again each time a
   * reload moves them (`'reload'`).
   */
  listening: (addresses: ProxyAddresses, cause: 'start' | 'reload') => void;
  /** A file reached an endpoint; `source` says where the proxy found it. */
  served: (info: ServedInfo) => void;
  /** A request ended without the file (not found, refused, or failed in transfer). */
  failed: (info: FailedInfo) => void;
  upstreamError: (info: { clusterId: string; address: string; error: unknown }) => void;
  failover: (info: { clusterId: string; from: string; to: string }) => void;
  reloaded: (result: ReloadResult, config: ProxyConfig) => void;
  reloadRejected: (error: Error) => void;
  /**
   * A failure escaped the code meant to handle it (see {@link ProxyServer.reportUnexpected}):
   * counted in `ptftp_unexpected_errors_total`; the server keeps serving.
   */
  unexpectedError: (info: { where: FailureSite; error: Error; detail?: string | undefined }) => void;
  /** A discovery refresh ran; `ok: false` kept the clusters in effect. */
  discovery: (result: { ok: boolean; violations?: { path: string; message: string }[] }) => void;
  close: () => void;
};
