import { AbortedError, FileNotFoundError } from '@ptftp/protocol';
import { UpstreamUnreachableError } from './errors.js';
import { AddressHealth } from './health.js';
import type { HedgeAttempt } from './hedge.js';
import { hedgeOverHealth } from './hedged-health.js';
import { parseHttpBase } from './topology.js';
import {
  type AddressStatus,
  PROXIED_HTTP_HEADER,
  type Upstream,
  type UpstreamFetchOptions,
  type UpstreamResult,
  type UpstreamSink,
} from './upstream.js';

/** Options of {@link HttpUpstream}. */
export interface HttpUpstreamOptions {
  /** Time for one address to answer and send the whole file (default 5000 ms). */
  timeoutMs?: number;
  /** Ask the next address too when the current one has not answered after this long (default 300 ms). */
  hedgeMs?: number;
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
 * TFTP upstream, hedged the same way (the next address is asked after `hedgeMs` of silence;
 * the first answer wins). 404 is "not found"; only a refused connection or a timeout makes the
 * address count as down (a 5xx or a body shorter than its Content-Length fails this address's
 * attempt, but the server is alive). With `sink`, the body is streamed as it arrives. Every request carries
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

  async fetch(name: string, { signal, reporter, sink }: UpstreamFetchOptions): Promise<UpstreamResult> {
    try {
      return await hedgeOverHealth(this.#health, (a) => this.#get(a, name, sink), {
        id: this.id,
        signal,
        hedgeMs: this.#opts.hedgeMs,
        isAnswer: (err) => err instanceof FileNotFoundError,
        probeWaitMs: this.#opts.timeoutMs ?? 5000,
        reporter,
      });
    } catch (err) {
      if (signal.aborted && !(err instanceof AbortedError))
        throw new AbortedError('fetch aborted', { cause: signal.reason });
      throw err;
    }
  }

  status(): AddressStatus[] {
    return this.#health.status();
  }

  close(): void {}

  /** One address's answer: the file (or its size, streamed to `sink`); throws FileNotFoundError for 404. */
  async #get(a: HedgeAttempt, name: string, sink: UpstreamSink | undefined): Promise<UpstreamResult> {
    const base = a.address;
    const doFetch = this.#opts.fetch ?? fetch;
    const path = name.split('/').map(encodeURIComponent).join('/');
    const res = await doFetch(`${base}/${path}`, {
      headers: { [PROXIED_HTTP_HEADER]: '1' },
      signal: AbortSignal.any([a.signal, AbortSignal.timeout(this.#opts.timeoutMs ?? 5000)]),
      redirect: 'error',
    });
    a.alive();
    if (res.status === 404) {
      await res.body?.cancel();
      throw new FileNotFoundError(name);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declaredText = res.headers.get('content-length');
    const declared = declaredText === null ? undefined : Number(declaredText);
    const max = this.#opts.maxBytes ?? 256 * 1024 * 1024;
    if (declared !== undefined && declared > max) {
      await res.body?.cancel();
      throw new Error(`file larger than ${max} bytes`);
    }
    if (sink) {
      // The address answered 200: it wins before its first byte reaches the sink.
      if (!a.claim()) {
        await res.body?.cancel();
        throw new AbortedError('another address answered first');
      }
      sink.answered?.(a.address);
      if (declared !== undefined) sink.size?.(declared);
      let written = 0;
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          written += chunk.byteLength;
          if (written > max) throw new Error(`file larger than ${max} bytes`);
          const pending = sink.write(chunk);
          if (pending) await pending;
        }
      }
      if (declared !== undefined && declared !== written)
        throw new Error(`truncated body: ${written} of ${declared} bytes`);
      return { address: base, size: written };
    }
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.byteLength > max) throw new Error(`file larger than ${max} bytes`);
    // fetch() already fails a body cut short of its Content-Length; this guards odd servers.
    if (declared !== undefined && declared !== data.byteLength) {
      throw new Error(`truncated body: ${data.byteLength} of ${declared} bytes`);
    }
    return { data, address: base, size: data.byteLength };
  }
}
