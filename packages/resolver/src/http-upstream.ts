import { AbortedError, FileNotFoundError } from '@ptftp/protocol';
import { UpstreamUnreachableError } from './errors.js';
import { AddressHealth } from './health.js';
import { parseHttpBase } from './topology.js';
import {
  type AddressStatus,
  PROXIED_HTTP_HEADER,
  type Upstream,
  type UpstreamFetchOptions,
  type UpstreamResult,
} from './upstream.js';

/** Options of {@link HttpUpstream}. */
export interface HttpUpstreamOptions {
  /** Time for one address to answer and send the whole file (default 5000 ms). */
  timeoutMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Largest file accepted (default 256 MiB). */
  maxBytes?: number;
  /** The fetch implementation (default the global `fetch`). */
  fetch?: typeof fetch;
}

/**
 * A cluster's TFTP-over-HTTP service (Cisco TFTP servers serve the same files on TCP 6970:
 * `GET /<name>`) as an {@link Upstream}, with the same per-address health and back-off as the
 * TFTP upstream. 404 is "not found"; a refused connection, a timeout, a 5xx, or a body shorter
 * than its Content-Length makes the address count as down. Every request carries
 * `X-Ptftp-Proxied: 1` so a ptftp proxy on the other side does not forward it.
 *
 * @example
 * ```ts
 * const upstream = new HttpUpstream('B', ['10.1.0.10', 'http://10.1.0.11:6970']);
 * const { data } = await upstream.fetch('SEP001122334455.cnf.xml', { signal: AbortSignal.timeout(5000) });
 * ```
 */
export class HttpUpstream implements Upstream {
  readonly id: string;
  readonly #health: AddressHealth;
  readonly #opts: HttpUpstreamOptions;

  constructor(id: string, baseUrls: string[], opts: HttpUpstreamOptions = {}) {
    this.id = id;
    this.#opts = opts;
    const bases = baseUrls.map((u) => {
      const base = parseHttpBase(u);
      if (!base) throw new UpstreamUnreachableError(id, [], `invalid HTTP address ${u}`);
      return base;
    });
    this.#health = new AddressHealth(bases, { backoffMs: opts.backoffMs, maxBackoffMs: opts.maxBackoffMs });
  }

  async fetch(name: string, { signal, reporter }: UpstreamFetchOptions): Promise<UpstreamResult> {
    if (signal.aborted) throw new AbortedError('fetch aborted', { cause: signal.reason });
    const plan = this.#health.plan();
    const attempts: Array<{ address: string; error: unknown }> = [];
    for (let i = 0; i < plan.length; i++) {
      const base = plan[i]!;
      try {
        const data = await this.#get(base, name, signal);
        this.#health.succeeded(base);
        // Later planned addresses were reserved as probes: release them whatever the answer.
        for (const rest of plan.slice(i + 1)) this.#health.released(rest);
        if (data === undefined) throw new FileNotFoundError(name);
        return { data, address: base };
      } catch (err) {
        if (err instanceof FileNotFoundError) throw err;
        if (signal.aborted) {
          for (const rest of plan.slice(i)) this.#health.released(rest);
          throw new AbortedError('fetch aborted', { cause: signal.reason });
        }
        this.#health.failed(base, err);
        attempts.push({ address: base, error: err });
        reporter?.error?.(base, err);
        const next = plan[i + 1];
        if (next !== undefined) reporter?.failover?.(base, next);
      }
    }
    throw new UpstreamUnreachableError(this.id, attempts);
  }

  status(): AddressStatus[] {
    return this.#health.status();
  }

  close(): void {}

  /** The file, or undefined for 404; throws for anything that is not a complete answer. */
  async #get(base: string, name: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const doFetch = this.#opts.fetch ?? fetch;
    const path = name.split('/').map(encodeURIComponent).join('/');
    const res = await doFetch(`${base}/${path}`, {
      headers: { [PROXIED_HTTP_HEADER]: '1' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.#opts.timeoutMs ?? 5000)]),
      redirect: 'error',
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = res.headers.get('content-length');
    const max = this.#opts.maxBytes ?? 256 * 1024 * 1024;
    if (declared !== null && Number(declared) > max) {
      await res.body?.cancel();
      throw new Error(`file larger than ${max} bytes`);
    }
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.byteLength > max) throw new Error(`file larger than ${max} bytes`);
    // fetch() already fails a body cut short of its Content-Length; this guards odd servers.
    if (declared !== null && Number(declared) !== data.byteLength) {
      throw new Error(`truncated body: ${data.byteLength} of ${declared} bytes`);
    }
    return data;
  }
}
