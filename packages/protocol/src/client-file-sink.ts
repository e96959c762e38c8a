/**
 * A download written straight into a file (tftpGetFile): blocks are copied into 1 MiB buffers
 * that go to the disk in one `write` each, at their offset, while the next buffer fills. No
 * stream sits between the socket and the file, so a block costs one copy, and the buffers are
 * reused: a 20 MB download touches 3 MiB of fresh memory, not 20 MB (first-touch page faults
 * were a third of a stream-to-file download's CPU).
 */
import { close, fstat, open, unlink, write } from 'node:fs';
import type { TftpNegotiated } from './client-options.js';
import type { ReadSink } from './client-sink.js';

/** Size of one disk write. */
const CHUNK = 1 << 20;
/** Full buffers waiting for the disk before the session holds its next ACK. */
const MAX_QUEUED = 2;

/** What tftpGetFile resolves to. */
export interface TftpFileResult {
  /** Bytes written to the file (after netascii decoding). */
  bytes: number;
  /** What the server granted. */
  negotiated: TftpNegotiated;
}

export class FileSink implements ReadSink {
  readonly promise: Promise<TftpFileResult>;
  onResume?: () => void;
  onCancel?: () => void;
  readonly #path: string;
  readonly #flags: string;
  #resolve!: (r: TftpFileResult) => void;
  #reject!: (e: Error) => void;
  #fd = -1;
  /** Only a regular file is removed on failure: never a device or a FIFO given as the path. */
  #regular = false;
  #negotiated: TftpNegotiated | undefined;
  /** The buffer being filled, and how much of it is. */
  #current: Buffer | undefined;
  #fill = 0;
  /** Full buffers (and the last, partial one) in file order, waiting for the disk. */
  readonly #queue: { buf: Buffer; length: number }[] = [];
  /** Written buffers, kept for reuse. */
  readonly #spare: Buffer[] = [];
  #writing = false;
  /** File offset of the next write. */
  #position = 0;
  #bytes = 0;
  #paused = false;
  /** end() or fail() was called: settle once the queue is written (end) or at once (fail). */
  #ending = false;
  #failure: Error | undefined;
  /** A disk error: it is what the caller gets, whatever the session reports after it. */
  #diskError: Error | undefined;
  #settled = false;

  /** `flags` as for fs.open: 'w' (default) replaces, 'wx' refuses an existing file. */
  constructor(path: string, flags = 'w') {
    this.#path = path;
    this.#flags = flags;
    this.promise = new Promise<TftpFileResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller may not await the promise when open() fails; never leave it unhandled.
    this.promise.catch(() => {});
  }

  /** Create the file before asking the server, so a bad path fails without a request. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      open(this.#path, this.#flags, (err, fd) => {
        if (err) {
          reject(err);
          return;
        }
        this.#fd = fd;
        fstat(fd, (statErr, stats) => {
          this.#regular = !statErr && stats.isFile();
          resolve();
        });
      });
    });
  }

  start(info: TftpNegotiated): void {
    this.#negotiated = info;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#ending) return true;
    this.#bytes += chunk.length;
    let from = 0;
    while (from < chunk.length) {
      if (this.#current === undefined) {
        this.#current = this.#spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
        this.#fill = 0;
      }
      const n = Math.min(chunk.length - from, CHUNK - this.#fill);
      this.#current.set(
        from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n),
        this.#fill,
      );
      this.#fill += n;
      from += n;
      if (this.#fill === CHUNK) this.#enqueue();
    }
    if (this.#queue.length >= MAX_QUEUED) this.#paused = true;
    return !this.#paused;
  }

  end(): void {
    if (this.#ending) return;
    this.#ending = true;
    if (this.#fill > 0) this.#enqueue();
    this.#next();
  }

  fail(err: Error): void {
    if (this.#ending && this.#failure) return;
    this.#ending = true;
    this.#failure = this.#diskError ?? err;
    this.#queue.length = 0;
    this.#current = undefined;
    this.#next();
  }

  #enqueue(): void {
    const buf = this.#current;
    if (buf === undefined) return;
    this.#queue.push({ buf, length: this.#fill });
    this.#current = undefined;
    this.#fill = 0;
    this.#next();
  }

  /** Write the next queued buffer, or settle when nothing is left to write. */
  #next(): void {
    if (this.#writing) return;
    const item = this.#queue.shift();
    if (item === undefined) {
      if (this.#ending) this.#settle();
      return;
    }
    this.#writing = true;
    this.#writeAll(item.buf, 0, item.length);
  }

  /** One buffer to the disk; a short write (rare, for regular files) continues where it stopped. */
  #writeAll(buf: Buffer, offset: number, length: number): void {
    write(this.#fd, buf, offset, length, this.#position, (err, written) => {
      if (err) {
        this.#writing = false;
        this.#diskError = err;
        // Stop the transfer: the session then fails us, and the disk error is what we report.
        this.onCancel?.();
        this.fail(err);
        return;
      }
      this.#position += written;
      if (written < length) {
        this.#writeAll(buf, offset + written, length - written);
        return;
      }
      this.#writing = false;
      if (this.#failure === undefined) this.#spare.push(buf);
      if (this.#paused && this.#queue.length < MAX_QUEUED && !this.#ending) {
        this.#paused = false;
        this.onResume?.();
      }
      this.#next();
    });
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#spare.length = 0;
    const fd = this.#fd;
    this.#fd = -1;
    const failure = this.#failure;
    const done = (closeErr: NodeJS.ErrnoException | null) => {
      if (failure || closeErr) {
        const err = failure ?? (closeErr as Error);
        // Never leave part of a file behind.
        if (this.#regular) unlink(this.#path, () => this.#reject(err));
        else this.#reject(err);
        return;
      }
      // A file that was never started (no answer) cannot succeed; end() comes only after start().
      this.#resolve({ bytes: this.#bytes, negotiated: this.#negotiated as TftpNegotiated });
    };
    if (fd < 0) {
      if (failure) this.#reject(failure);
      return;
    }
    close(fd, done);
  }
}
