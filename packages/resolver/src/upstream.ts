/**
 * What an upstream returns: the complete file (when no sink was given), its size, and which
 * address served it.
 */
export interface UpstreamResult {
  /** The complete file; undefined when the bytes went to `UpstreamFetchOptions.sink`. */
  data?: Uint8Array;
  /** Bytes delivered (to `data` or to the sink). */
  size?: number;
  /** The address that answered, e.g. `"10.0.0.1:69"` or `"http://10.0.0.1:6970"`. */
  address: string;
}

/** Hooks an upstream calls so the resolver can report per-address decisions as events. */
export interface UpstreamReporter {
  /** An address failed (timeout, refused, server error) for this fetch. */
  error?(address: string, error: unknown): void;
  /** After `from` failed, the fetch moves on to `to`. */
  failover?(from: string, to: string): void;
}

/**
 * Where a streaming fetch puts the file while it arrives, so that phones can be served before
 * the last byte is in. Once the first byte is written, the fetch never switches to another
 * address: a failure after that rejects the fetch, and the caller discards what was written.
 */
export interface UpstreamSink {
  /** Which address answered (e.g. `"10.0.0.1:69"`), called once, before its size or bytes. */
  answered?(address: string): void;
  /** The upstream said the file's size (TFTP tsize, HTTP Content-Length) before its bytes. */
  size?(bytes: number): void;
  /** The next bytes, in order. A returned promise is awaited before more are written. */
  write(chunk: Uint8Array): void | Promise<void>;
}

/** Options of one {@link Upstream.fetch}. */
export interface UpstreamFetchOptions {
  /** Aborts the fetch; the upstream rejects with `AbortedError` and keeps no partial data. */
  signal: AbortSignal;
  reporter?: UpstreamReporter;
  /**
   * Stream the file into this sink instead of collecting it: `fetch` then resolves with `size`
   * and no `data`. Upstreams that cannot stream may ignore it and return `data`; the caller
   * handles both.
   */
  sink?: UpstreamSink;
}

/** Health of one address of an upstream, as `Resolver.clusterStatus()` reports it. */
export interface AddressStatus {
  address: string;
  healthy: boolean;
  /** Consecutive failures; 0 once it answers again. */
  failures: number;
  lastError?: string;
  /** Epoch ms before which a request skips this address (its back-off). */
  nextRetryAt?: number;
}

/**
 * A remote source of files: usually one remote cluster.
 *
 * `fetch` resolves with the complete file or rejects with:
 * - `FileNotFoundError` (`PTFTP_ERR_NOT_FOUND`) when the upstream answered that it has no such
 *   file: the resolver may cache that negative answer;
 * - `UpstreamUnreachableError` (`PTFTP_ERR_UPSTREAM_UNREACHABLE`) when no address answered:
 *   never cached, the next request asks again;
 * - `AbortedError` when `signal` fired.
 *
 * It must never resolve with a partial file. Prove an implementation with
 * `runUpstreamCompliance` from `@ptftp/resolver/testing`.
 *
 * @example
 * ```ts
 * const upstream: Upstream = {
 *   id: 'lab',
 *   async fetch(name, { signal }) {
 *     const res = await fetch(`http://lab:6970/${name}`, { signal });
 *     if (res.status === 404) throw new FileNotFoundError(name);
 *     if (!res.ok) throw new UpstreamUnreachableError('lab', [{ address: 'lab', error: res.status }]);
 *     return { data: new Uint8Array(await res.arrayBuffer()), address: 'http://lab:6970' };
 *   },
 * };
 * ```
 */
export interface Upstream {
  readonly id: string;
  fetch(name: string, opts: UpstreamFetchOptions): Promise<UpstreamResult>;
  /** Per-address health, when the upstream tracks it. */
  status?(): AddressStatus[];
  /** Releases sockets and timers. */
  close?(): void;
}

/**
 * The private TFTP option that this project's TFTP upstream adds to its read requests so that a
 * ptftp proxy receiving it knows the request comes from another proxy. Servers that do not know
 * it ignore it (RFC 2347: unknown options are left out of the OACK).
 */
export const PROXIED_TFTP_OPTION = 'ptftp-proxied';
/** The HTTP header that this project's HTTP upstream adds, for the same purpose. */
export const PROXIED_HTTP_HEADER = 'X-Ptftp-Proxied';
