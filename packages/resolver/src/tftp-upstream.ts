import {
  AbortedError,
  FileNotFoundError,
  type TftpTarget,
  type TftpTransferOptions,
  tftpGet,
} from '@ptftp/protocol';
import { UpstreamUnreachableError } from './errors.js';
import { AddressHealth } from './health.js';
import { type ClusterConfig, formatHostPort, type HostPort, parseHostPort } from './topology.js';
import {
  type AddressStatus,
  PROXIED_TFTP_OPTION,
  type Upstream,
  type UpstreamFetchOptions,
  type UpstreamResult,
} from './upstream.js';

/** Options of {@link TftpClusterUpstream}. */
export interface TftpClusterUpstreamOptions {
  /**
   * Retransmit timeout per packet (default 1000 ms). A dead address costs
   * `timeoutMs × (retries + 1)` once, then is skipped during its back-off.
   */
  timeoutMs?: number;
  /** Retransmissions per packet before the address counts as down (default 1). */
  retries?: number;
  /** First back-off of a failed address (default 1000 ms, doubling up to `maxBackoffMs`). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Whole-transfer deadline per address (default 60 s). */
  deadlineMs?: number;
  /**
   * Block size asked for (default 1428: one Ethernet frame over IPv4 or IPv6). A server that
   * does not grant it sends 512-byte blocks.
   */
  blksize?: number;
  windowsize?: number;
  /** Largest file accepted (default 256 MiB). */
  maxBytes?: number;
  /** Local address to send from. */
  localAddress?: string;
  /** The download function (default @ptftp/protocol's `tftpGet`); tests may replace it. */
  get?: (target: TftpTarget, filename: string, opts: TftpTransferOptions) => Promise<Uint8Array>;
}

/**
 * A remote cluster's TFTP servers (1-3 addresses) as an {@link Upstream}.
 *
 * Addresses are tried in configured order. One that does not answer is marked down and skipped
 * during an exponential back-off (so a dead address costs one timeout, not one per request),
 * then probed by a single request. "File not found" (ERROR 1) and "access violation" (ERROR 2)
 * are answers: the cluster does not have the file, and the other addresses (which serve the
 * same files) are not asked.
 *
 * Every read request carries the private option `ptftp-proxied 1` (ignored by other servers)
 * so that a ptftp proxy on the other side serves it from its local store only.
 *
 * @example
 * ```ts
 * const upstream = new TftpClusterUpstream({ id: 'B', tftp: ['10.1.0.10', '10.1.0.11:69'] }, { timeoutMs: 500 });
 * const { data, address } = await upstream.fetch('SEP001122334455.cnf.xml', { signal: AbortSignal.timeout(5000) });
 * ```
 */
export class TftpClusterUpstream implements Upstream {
  readonly id: string;
  readonly #targets: Map<string, HostPort>;
  readonly #health: AddressHealth;
  readonly #opts: TftpClusterUpstreamOptions;

  constructor(cluster: ClusterConfig, opts: TftpClusterUpstreamOptions = {}) {
    this.id = cluster.id;
    this.#opts = opts;
    this.#targets = new Map();
    for (const text of cluster.tftp) {
      const hp = parseHostPort(text);
      if (!hp) throw new UpstreamUnreachableError(cluster.id, [], `invalid TFTP address ${text}`);
      this.#targets.set(formatHostPort(hp), hp);
    }
    this.#health = new AddressHealth([...this.#targets.keys()], {
      backoffMs: opts.backoffMs,
      maxBackoffMs: opts.maxBackoffMs,
    });
  }

  async fetch(name: string, { signal, reporter }: UpstreamFetchOptions): Promise<UpstreamResult> {
    if (signal.aborted) throw new AbortedError('fetch aborted', { cause: signal.reason });
    const plan = this.#health.plan();
    const attempts: Array<{ address: string; error: unknown }> = [];
    for (let i = 0; i < plan.length; i++) {
      const address = plan[i]!;
      const hp = this.#targets.get(address)!;
      try {
        const data = await this.#get(hp, name, signal);
        this.#health.succeeded(address);
        // Later planned addresses were reserved as probes: unreleased, they would never be
        // planned again, and the cluster would lose its redundancy for good.
        for (const rest of plan.slice(i + 1)) this.#health.released(rest);
        return { data, address };
      } catch (err) {
        if (signal.aborted || code(err) === 'PTFTP_ERR_ABORTED') {
          this.#health.released(address);
          // The remaining planned addresses were reserved as probes too.
          for (const rest of plan.slice(i + 1)) this.#health.released(rest);
          throw err instanceof AbortedError ? err : new AbortedError('fetch aborted', { cause: err });
        }
        const c = code(err);
        if (c === 'PTFTP_ERR_NOT_FOUND' || c === 'PTFTP_ERR_ACCESS_VIOLATION') {
          this.#health.succeeded(address);
          for (const rest of plan.slice(i + 1)) this.#health.released(rest);
          throw new FileNotFoundError(name);
        }
        // A server that answered with another ERROR is alive; only silence marks it down.
        if (c === 'PTFTP_ERR_REMOTE') this.#health.succeeded(address);
        else this.#health.failed(address, err);
        attempts.push({ address, error: err });
        reporter?.error?.(address, err);
        const next = plan[i + 1];
        if (next !== undefined) reporter?.failover?.(address, next);
      }
    }
    throw new UpstreamUnreachableError(this.id, attempts);
  }

  status(): AddressStatus[] {
    return this.#health.status();
  }

  close(): void {}

  async #get(hp: HostPort, name: string, signal: AbortSignal): Promise<Uint8Array> {
    const o = this.#opts;
    const opts: TftpTransferOptions = {
      retransmitTimeoutMs: o.timeoutMs ?? 1000,
      retries: o.retries ?? 1,
      deadlineMs: o.deadlineMs ?? 60_000,
      maxBytes: o.maxBytes ?? 256 * 1024 * 1024,
      tsize: true,
      signal,
      // Marks the request as proxied so a peer proxy answers from its local store only.
      extraOptions: { [PROXIED_TFTP_OPTION]: '1' },
    };
    opts.blksize = o.blksize ?? 1428;
    if (o.windowsize !== undefined) opts.windowsize = o.windowsize;
    if (o.localAddress !== undefined) opts.localAddress = o.localAddress;
    const get = o.get ?? tftpGet;
    const data = await get({ host: hp.host, port: hp.port }, name, opts);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
}

function code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}
