import {
  AbortedError,
  AccessViolationError,
  FileNotFoundError,
  formatHostPort,
  type HostPort,
  LimitError,
  type TftpDownloadStream,
  type TftpTarget,
  type TftpTransferOptions,
  tftpGet,
  tftpGetStream,
} from '@ptftp/protocol';
import { UpstreamUnreachableError } from './errors.js';
import { AddressHealth } from './health.js';
import type { HedgeAttempt } from './hedge.js';
import { hedgeOverHealth } from './hedged-health.js';
import type { ClusterConfig } from './topology.js';
import {
  type AddressStatus,
  PROXIED_TFTP_OPTION,
  type Upstream,
  type UpstreamFetchOptions,
  type UpstreamResult,
  type UpstreamSink,
} from './upstream.js';
import { upstreamHostPort } from './upstream-address.js';

/** Options of {@link TftpClusterUpstream}. */
export interface TftpClusterUpstreamOptions {
  /** Retransmit timeout per packet (default 1000 ms). */
  timeoutMs?: number;
  /** Retransmissions per packet before the address counts as down (default 1). */
  retries?: number;
  /**
   * Ask the next address too when the current one has not answered after this long (default
   * 300 ms); the first answer wins. A dead first address then costs this, not `timeoutMs ×
   * (retries + 1)`.
   */
  hedgeMs?: number;
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
  /** The streaming download function (default `tftpGetStream`); tests may replace it. */
  getStream?: (
    target: TftpTarget,
    filename: string,
    opts: TftpTransferOptions,
  ) => Promise<TftpDownloadStream>;
}

/**
 * A remote cluster's TFTP servers (1-3 addresses) as an {@link Upstream}.
 *
 * Addresses are asked in configured order, hedged: when one has not answered after `hedgeMs`
 * the next is asked too, and the first answer wins (the others are aborted). Only silence marks
 * an address down (skipped during an exponential back-off, then probed by one request); an
 * ERROR, a file over `maxBytes` or a size mismatch does not. "File not found" (ERROR 1) and
 * "access violation" (ERROR 2) are answers: the cluster does not have the file, and the other
 * addresses (which serve the same files) are not asked.
 *
 * Every read request asks `tsize` (a file whose length differs from the size the server
 * announced is rejected, never cached) and carries the private option `ptftp-proxied 1`
 * (ignored by other servers) so that a ptftp proxy on the other side serves it from its local
 * store only. With `sink`, bytes are written as they arrive; the address is chosen before the
 * first byte and never changes after it.
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
      const hp = upstreamHostPort(text);
      if (!hp) throw new UpstreamUnreachableError(cluster.id, [], `invalid TFTP address ${text}`);
      this.#targets.set(formatHostPort(hp), hp);
    }
    this.#health = new AddressHealth([...this.#targets.keys()], {
      backoffMs: opts.backoffMs,
      maxBackoffMs: opts.maxBackoffMs,
    });
  }

  async fetch(name: string, { signal, reporter, sink }: UpstreamFetchOptions): Promise<UpstreamResult> {
    try {
      return await hedgeOverHealth(
        this.#health,
        async (a): Promise<UpstreamResult> => {
          const hp = this.#targets.get(a.address)!;
          if (sink) return { address: a.address, size: await this.#stream(hp, name, a, sink) };
          return { data: await this.#get(hp, name, a.signal), address: a.address };
        },
        {
          id: this.id,
          signal,
          hedgeMs: this.#opts.hedgeMs,
          isAnswer: (err) => err instanceof FileNotFoundError || err instanceof AccessViolationError,
          probeWaitMs: (this.#opts.timeoutMs ?? 1000) * ((this.#opts.retries ?? 1) + 1),
          reporter,
        },
      );
    } catch (err) {
      if (err instanceof FileNotFoundError || err instanceof AccessViolationError)
        throw new FileNotFoundError(name);
      if (signal.aborted && !(err instanceof AbortedError))
        throw new AbortedError('fetch aborted', { cause: err });
      throw err;
    }
  }

  status(): AddressStatus[] {
    return this.#health.status();
  }

  close(): void {}

  #transferOptions(signal: AbortSignal): TftpTransferOptions {
    const o = this.#opts;
    const opts: TftpTransferOptions = {
      retransmitTimeoutMs: o.timeoutMs ?? 1000,
      retries: o.retries ?? 1,
      deadlineMs: o.deadlineMs ?? 60_000,
      maxBytes: o.maxBytes ?? 256 * 1024 * 1024,
      // The client checks the file's length against the announced size whenever the server
      // answers tsize, so a server that cuts a file short cannot get it cached.
      tsize: true,
      signal,
      // Marks the request as proxied so a peer proxy answers from its local store only.
      extraOptions: { [PROXIED_TFTP_OPTION]: '1' },
    };
    opts.blksize = o.blksize ?? 1428;
    if (o.windowsize !== undefined) opts.windowsize = o.windowsize;
    if (o.localAddress !== undefined) opts.localAddress = o.localAddress;
    return opts;
  }

  async #get(hp: HostPort, name: string, signal: AbortSignal): Promise<Uint8Array> {
    const get = this.#opts.get ?? tftpGet;
    const data = await get({ host: hp.host, port: hp.port }, name, this.#transferOptions(signal));
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Stream one address's answer into `sink`; the bytes written. */
  async #stream(hp: HostPort, name: string, a: HedgeAttempt, sink: UpstreamSink): Promise<number> {
    const max = this.#opts.maxBytes ?? 256 * 1024 * 1024;
    const getStream = this.#opts.getStream ?? tftpGetStream;
    const { size, stream } = await getStream(
      { host: hp.host, port: hp.port },
      name,
      this.#transferOptions(a.signal),
    );
    try {
      if (size !== undefined && size > max)
        throw new LimitError('maxBytes', `${name} is ${size} bytes, over ${max}`);
      // The server answered: this address wins before its first byte reaches the sink.
      if (!a.claim()) throw new AbortedError('another address answered first');
      sink.answered?.(a.address);
      if (size !== undefined) sink.size?.(size);
      let written = 0;
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        written += chunk.byteLength;
        if (written > max) throw new LimitError('maxBytes', `${name} is over ${max} bytes`);
        const pending = sink.write(chunk);
        if (pending) await pending;
      }
      return written;
    } finally {
      stream.destroy();
    }
  }
}
