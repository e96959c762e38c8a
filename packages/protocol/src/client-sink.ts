/**
 * Where a download's bytes go: one Buffer (tftpGet) or a Readable (tftpGetStream). The read
 * session pushes decoded chunks and ends or fails the sink exactly once; a sink that failed
 * never hands out the partial data.
 */
import { Readable } from 'node:stream';
import type { TftpNegotiated } from './client-options.js';

export interface ReadSink {
  /** The transfer parameters are fixed (first answer from the server). */
  start(info: TftpNegotiated): void;
  /** A chunk of file data. False asks the session to hold its next ACK until `resume`. */
  write(chunk: Uint8Array): boolean;
  /** The whole file arrived and passed the checks. */
  end(): void;
  fail(err: Error): void;
  /** Set by the session: the consumer wants more (stream backpressure released). */
  onResume?: () => void;
  /** Set by the session: the consumer gave up (stream destroyed). */
  onCancel?: () => void;
}

/** A server could announce any tsize; trust it for preallocation only up to this much. */
const MAX_PREALLOCATE = 64 * 1024 * 1024;
const INITIAL_CAPACITY = 64 * 1024;

/** Collects a download into one Buffer: preallocated from tsize when known, else doubled. */
export class BufferSink implements ReadSink {
  readonly promise: Promise<Buffer>;
  #resolve!: (b: Buffer) => void;
  #reject!: (e: Error) => void;
  #buf: Buffer = Buffer.alloc(0);
  #length = 0;
  readonly #maxBytes: number | undefined;
  readonly #exactSize: boolean;

  /** `exactSize`: tsize is the final length (octet mode), so preallocating it is exact. */
  constructor(maxBytes: number | undefined, exactSize: boolean) {
    this.#maxBytes = maxBytes;
    this.#exactSize = exactSize;
    this.promise = new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  start(info: TftpNegotiated): void {
    let capacity = INITIAL_CAPACITY;
    if (this.#exactSize && info.tsize !== undefined) {
      capacity = Math.min(info.tsize, this.#maxBytes ?? Number.POSITIVE_INFINITY, MAX_PREALLOCATE);
    }
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  write(chunk: Uint8Array): boolean {
    const need = this.#length + chunk.length;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2, INITIAL_CAPACITY));
      this.#buf.copy(grown, 0, 0, this.#length);
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#length);
    this.#length = need;
    return true;
  }

  end(): void {
    const slack = this.#buf.length - this.#length;
    // Hand back a tight copy when doubling left much unused memory behind the result.
    const out =
      slack > INITIAL_CAPACITY
        ? Buffer.from(this.#buf.subarray(0, this.#length))
        : this.#buf.subarray(0, this.#length);
    this.#buf = Buffer.alloc(0);
    this.#resolve(out);
  }

  fail(err: Error): void {
    this.#buf = Buffer.alloc(0);
    this.#reject(err);
  }
}

/** What tftpGetStream resolves to once the server answered. */
export interface TftpDownloadStream {
  /** The announced size (octet mode, when the server granted tsize). */
  size?: number;
  /** The file data; it errors (never ends) when the transfer is cut. */
  stream: Readable;
}

/** Feeds a download into a Readable, holding ACKs while the consumer lags behind. */
export class StreamSink implements ReadSink {
  readonly started: Promise<TftpDownloadStream>;
  readonly stream: Readable;
  onResume?: () => void;
  onCancel?: () => void;
  #resolveStart!: (v: TftpDownloadStream) => void;
  #rejectStart!: (e: Error) => void;
  #isStarted = false;
  #ended = false;
  readonly #exactSize: boolean;

  constructor(exactSize: boolean) {
    this.#exactSize = exactSize;
    this.started = new Promise<TftpDownloadStream>((resolve, reject) => {
      this.#resolveStart = resolve;
      this.#rejectStart = reject;
    });
    this.stream = new Readable({
      highWaterMark: 1024 * 1024,
      read: () => this.onResume?.(),
      destroy: (err, cb) => {
        if (!this.#ended) this.onCancel?.();
        cb(err);
      },
    });
  }

  start(info: TftpNegotiated): void {
    this.#isStarted = true;
    const size = this.#exactSize ? info.tsize : undefined;
    this.#resolveStart(size === undefined ? { stream: this.stream } : { size, stream: this.stream });
  }

  write(chunk: Uint8Array): boolean {
    return this.stream.push(chunk);
  }

  end(): void {
    this.#ended = true;
    this.stream.push(null);
  }

  fail(err: Error): void {
    this.#ended = true;
    if (!this.#isStarted) this.#rejectStart(err);
    else this.stream.destroy(err);
  }
}
