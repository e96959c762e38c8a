import { AbortedError, FileNotFoundError } from '@ptftp/protocol';
import { UpstreamUnreachableError } from '../errors.js';
import type { Upstream, UpstreamFetchOptions, UpstreamResult } from '../upstream.js';

/** Options of {@link MemoryUpstream}. */
export interface MemoryUpstreamOptions {
  /** The address reported in results (default `memory://<id>`). */
  address?: string;
  /** Delay before answering (default: the next turn of the event loop). */
  delayMs?: number;
  /**
   * Write into the fetch's sink in chunks, as a real upstream does, instead of returning the
   * whole file (only when the caller passes a sink).
   */
  stream?: MemoryStreamOptions;
}

/** How a {@link MemoryUpstream} streams into a sink. */
export interface MemoryStreamOptions {
  /** Bytes per write (default 65536). */
  chunkBytes?: number;
  /** Pause between writes, in ms (default 0: the next turn of the event loop). */
  chunkDelayMs?: number;
  /** Say the size before the bytes, as TFTP tsize does (default true). */
  announceSize?: boolean;
  /** Break the connection after this many bytes (the fetch rejects, unreachable). */
  failAfterBytes?: number;
}

/**
 * An in-memory remote cluster for tests: it counts fetches per name, can be paused (to hold
 * fetches in flight), made unreachable, or changed while running.
 *
 * @example
 * ```ts
 * const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': '<device/>' });
 * const resolver = new Resolver({ clusters: [{ id: 'B', tftp: ['192.0.2.1'] }] },
 *   { store: new MemoryStore(), upstreamFactory: () => b });
 * await resolver.resolve('SEP001122334455.cnf.xml');
 * b.fetchCount('SEP001122334455.cnf.xml'); // 1
 * ```
 */
export class MemoryUpstream implements Upstream {
  readonly id: string;
  readonly address: string;
  readonly #files = new Map<string, Uint8Array>();
  readonly #counts = new Map<string, number>();
  readonly #opts: MemoryUpstreamOptions;
  #unreachable = false;
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;
  #holdAt: number | undefined;
  #hold: Promise<void> | undefined;
  #openHold: (() => void) | undefined;
  /** Bytes written into sinks, all fetches together. */
  bytesStreamed = 0;
  /** Fetches started, all names together. */
  fetches = 0;
  /** Fetches aborted by their signal. */
  aborted = 0;

  constructor(id: string, files: Record<string, Uint8Array | string> = {}, opts: MemoryUpstreamOptions = {}) {
    this.id = id;
    this.address = opts.address ?? `memory://${id}`;
    this.#opts = opts;
    for (const [name, data] of Object.entries(files)) this.set(name, data);
  }

  set(name: string, data: Uint8Array | string): void {
    this.#files.set(name, typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data));
  }

  delete(name: string): boolean {
    return this.#files.delete(name);
  }

  /** While true, every fetch fails with UpstreamUnreachableError. */
  setUnreachable(unreachable: boolean): void {
    this.#unreachable = unreachable;
  }

  /** Holds every fetch until the returned function is called. */
  pause(): () => void {
    if (!this.#gate) {
      this.#gate = new Promise<void>((resolve) => {
        this.#openGate = resolve;
      });
    }
    return () => {
      this.#openGate?.();
      this.#gate = undefined;
      this.#openGate = undefined;
    };
  }

  /**
   * Holds every streaming fetch once it has written `bytes` bytes, until the returned function
   * is called: the file is then half-arrived, for as long as a test needs.
   */
  holdAfter(bytes: number): () => void {
    this.#holdAt = bytes;
    this.#hold ??= new Promise<void>((resolve) => {
      this.#openHold = resolve;
    });
    return () => {
      this.#holdAt = undefined;
      this.#openHold?.();
      this.#hold = undefined;
      this.#openHold = undefined;
    };
  }

  /** Fetches started for `name` (or for every name). */
  fetchCount(name?: string): number {
    return name === undefined ? this.fetches : (this.#counts.get(name) ?? 0);
  }

  async fetch(name: string, { signal, reporter, sink }: UpstreamFetchOptions): Promise<UpstreamResult> {
    this.fetches++;
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
    const wait = this.#gate ?? delay(this.#opts.delayMs ?? 0);
    await abortable(wait, signal).catch((err) => {
      this.aborted++;
      throw err;
    });
    if (this.#unreachable) {
      const error = new Error('unreachable (MemoryUpstream)');
      reporter?.error?.(this.address, error);
      throw new UpstreamUnreachableError(this.id, [{ address: this.address, error }]);
    }
    const data = this.#files.get(name);
    if (!data) throw new FileNotFoundError(name);
    if (sink && this.#opts.stream) return this.#streamInto(data, sink, this.#opts.stream, signal, reporter);
    return { data: new Uint8Array(data), address: this.address };
  }

  async #streamInto(
    data: Uint8Array,
    sink: NonNullable<UpstreamFetchOptions['sink']>,
    opts: MemoryStreamOptions,
    signal: AbortSignal,
    reporter: UpstreamFetchOptions['reporter'],
  ): Promise<UpstreamResult> {
    const chunkBytes = Math.max(1, opts.chunkBytes ?? 65536);
    // As the TFTP and HTTP upstreams do: the address that has the file is said first.
    sink.answered?.(this.address);
    if (opts.announceSize !== false) sink.size?.(data.byteLength);
    let offset = 0;
    while (offset < data.byteLength) {
      if (opts.failAfterBytes !== undefined && offset >= opts.failAfterBytes) {
        const error = new Error(`connection lost after ${offset} bytes (MemoryUpstream)`);
        reporter?.error?.(this.address, error);
        throw new UpstreamUnreachableError(this.id, [{ address: this.address, error }]);
      }
      if (this.#hold && this.#holdAt !== undefined && offset >= this.#holdAt)
        await abortable(this.#hold, signal);
      let end = Math.min(data.byteLength, offset + chunkBytes);
      if (opts.failAfterBytes !== undefined) end = Math.min(end, Math.max(offset + 1, opts.failAfterBytes));
      if (this.#holdAt !== undefined && offset < this.#holdAt) end = Math.min(end, this.#holdAt);
      // A copy per write, as bytes off a socket would be.
      await sink.write(data.slice(offset, end));
      this.bytesStreamed += end - offset;
      offset = end;
      await abortable(delay(opts.chunkDelayMs ?? 0), signal).catch((err) => {
        this.aborted++;
        throw err;
      });
    }
    return { size: data.byteLength, address: this.address };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

function abortable(wait: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new AbortedError('fetch aborted', { cause: signal.reason }));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError('fetch aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    wait.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
