import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { AbortedError, type Content } from '@ptftp/protocol';
import { ByteWaiters } from './byte-waiters.js';

/** Where a {@link StagedContent} keeps the bytes while they arrive. */
export type StagingTarget =
  /** In memory only (a memory-only cache, or a small file). */
  | { kind: 'memory' }
  /** A file written under `partialPath` and renamed to `finalPath` once complete. */
  | { kind: 'file'; partialPath: string; finalPath: string; keepInMemoryUpTo: number };

/**
 * One version of a remote file, served while it still arrives from the upstream and kept
 * afterwards. Readers asking for bytes not yet written wait; `size` is known once the upstream
 * says it (or at the end); `version` (sha-256 of the bytes) only once complete. A failure
 * rejects every reader, waiting or later, and removes the partial file: nothing partial is
 * ever served as complete.
 *
 * The bytes go to a file (the disk tier: memory stays bounded however large the file) or, for
 * a memory-only cache, to memory. A small file also keeps a memory copy that `peek` serves.
 *
 * References: it starts with one (its producer's). The file's descriptor is closed when the
 * last goes, and the file itself removed then if `discard()` was called (evicted, not kept).
 */
export class StagedContent implements Content {
  #size: number | undefined;
  #version: string | undefined;
  readonly modifiedAt = Date.now();
  #written = 0;
  #complete = false;
  #failure: unknown;
  #refs = 1;
  #discarded = false;
  #closed = false;
  readonly #target: StagingTarget;
  /** Made at the first byte: a fetch that never answers costs no hash context. */
  #hash: Hash | undefined;
  #fd: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;
  #path: string | undefined;
  /** Chunks in memory: every chunk for a memory target, or while under `keepInMemoryUpTo`. */
  #chunks: Uint8Array[] | undefined = [];
  /** Offset of each chunk in `#chunks`, for a binary search per read. */
  #offsets: number[] = [];
  #whole: Uint8Array | undefined;
  /** Readers waiting for bytes not yet written. */
  readonly #readers = new ByteWaiters();
  /** Readers waiting for the size (the start of a transfer: a few). */
  readonly #sized = new ByteWaiters();
  #writing: Promise<void> = Promise.resolve();

  constructor(target: StagingTarget) {
    this.#target = target;
  }

  get size(): number | undefined {
    return this.#size;
  }

  get version(): string | undefined {
    return this.#version;
  }

  /** Bytes received so far. */
  get written(): number {
    return this.#written;
  }

  get complete(): boolean {
    return this.#complete;
  }

  /** The whole file in memory, once complete and small enough to be kept there. */
  get memory(): Uint8Array | undefined {
    return this.#whole;
  }

  /** The file on disk, once complete (undefined for a memory target). */
  get path(): string | undefined {
    return this.#complete ? this.#path : undefined;
  }

  /** The upstream announced the size (TFTP tsize, HTTP Content-Length). */
  announceSize(bytes: number): void {
    if (this.#complete || this.#failure !== undefined) return;
    if (Number.isSafeInteger(bytes) && bytes >= 0) this.#size = bytes;
    this.#wake();
  }

  /** Appends the next bytes; resolves once readers can see them. */
  write(chunk: Uint8Array): Promise<void> {
    const next = this.#writing.then(() => this.#append(chunk));
    // A failed write fails the content; later writes then reject at once.
    this.#writing = next.catch(() => {});
    return next;
  }

  async #append(chunk: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#complete) throw new Error('write after the content was complete');
    if (chunk.byteLength === 0) return;
    // The upstream's buffer may be reused after this call: keep our own copy in memory (all of
    // it for a memory target; for a file, only while the whole file is small).
    const small =
      this.#target.kind === 'memory' || this.#written + chunk.byteLength <= this.#target.keepInMemoryUpTo;
    const keep = this.#chunks && small ? new Uint8Array(chunk) : undefined;
    if (this.#target.kind === 'file') {
      const fd = await this.#file();
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await fd.write(chunk, done, chunk.byteLength - done, this.#written + done);
        done += bytesWritten;
      }
      if (this.#chunks && this.#written + chunk.byteLength > this.#target.keepInMemoryUpTo) {
        this.#chunks = undefined;
        this.#offsets = [];
      }
    }
    if (this.#failure !== undefined) throw this.#failure;
    this.#hash ??= createHash('sha256');
    this.#hash.update(chunk);
    if (keep && this.#chunks) {
      this.#chunks.push(keep);
      this.#offsets.push(this.#written);
    }
    this.#written += chunk.byteLength;
    this.#wake();
  }

  /** Every byte is in: the size and version are final, and waiting readers get the tail. */
  async finish(): Promise<void> {
    await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#size !== undefined && this.#size !== this.#written) {
      const err = new Error(`upstream announced ${this.#size} bytes but sent ${this.#written}`);
      this.fail(err);
      throw err;
    }
    if (this.#target.kind === 'file') {
      if (this.#fd === undefined) await this.#file(); // an empty file is still a file
      if (this.#failure !== undefined) throw this.#failure;
      await rename(this.#target.partialPath, this.#target.finalPath);
      this.#path = this.#target.finalPath;
    }
    if (this.#chunks)
      this.#whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = undefined;
    this.#offsets = [];
    this.#size = this.#written;
    this.#version = (this.#hash ?? createHash('sha256')).digest('hex').slice(0, 16);
    this.#complete = true;
    this.#wake();
    if (this.#discarded) void this.#removeFile();
  }

  /** The fetch failed: every reader rejects, the partial file is removed at once. */
  fail(err: unknown): void {
    if (this.#complete || this.#failure !== undefined) return;
    this.#failure = err ?? new Error('fetch failed');
    this.#chunks = undefined;
    this.#offsets = [];
    this.#wake();
    void this.#removeFile();
    if (this.#refs === 0) void this.#close();
  }

  /** Drops the memory copy of a complete file that is also on disk (reads then use the file). */
  dropMemory(): void {
    if (this.#complete && this.#path !== undefined) this.#whole = undefined;
  }

  /** Not to be kept: the file goes once the last reader releases it. */
  discard(): void {
    this.#discarded = true;
    if (this.#refs === 0) void this.#close();
  }

  peek(offset: number, length: number): Uint8Array | undefined {
    const whole = this.#whole;
    if (!whole) return undefined;
    const start = Math.min(Math.max(0, offset), whole.byteLength);
    return whole.subarray(start, Math.min(whole.byteLength, start + Math.max(0, length)));
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) throw new AbortedError('read aborted', { cause: signal.reason });
    const start = Math.max(0, offset);
    const want = Math.max(0, length);
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#written < start + want && !this.#complete) await this.#readers.wait(start + want, signal);
    const end = Math.min(this.#written, start + want);
    if (end <= start) return new Uint8Array(0);
    const memory = this.#whole ? this.#whole.subarray(start, end) : this.#chunkRange(start, end);
    if (memory) return memory;
    const fd = await this.#file();
    const out = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < out.byteLength) {
      const { bytesRead } = await fd.read(out, got, out.byteLength - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (this.#failure !== undefined) throw this.#failure;
    return out.subarray(0, got);
  }

  async whenSized(signal?: AbortSignal): Promise<number> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#size === undefined && !this.#complete) await this.#sized.wait(1, signal);
    return this.#size ?? this.#written;
  }

  retain(): Content {
    this.#refs++;
    return this;
  }

  release(): void {
    if (this.#refs <= 0) return;
    this.#refs--;
    if (this.#refs === 0 && (this.#discarded || this.#failure !== undefined)) void this.#close();
  }

  /** The bytes `[start, end)` from the chunks held in memory (a memory target). */
  #chunkRange(start: number, end: number): Uint8Array | undefined {
    const chunks = this.#chunks;
    if (!chunks || this.#target.kind !== 'memory') return undefined;
    const offsets = this.#offsets;
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = chunks[lo]!;
    const firstOffset = offsets[lo]!;
    // Within one chunk: a view, no copy.
    if (end <= firstOffset + first.byteLength) return first.subarray(start - firstOffset, end - firstOffset);
    const out = new Uint8Array(end - start);
    for (let i = lo, pos = firstOffset; i < chunks.length && pos < end; i++) {
      const c = chunks[i]!;
      const from = Math.max(start, pos);
      const to = Math.min(end, pos + c.byteLength);
      out.set(c.subarray(from - pos, to - pos), from - start);
      pos += c.byteLength;
    }
    return out;
  }

  /** Wakes the readers whose bytes are in, or all of them at the end (complete or failed). */
  #wake(): void {
    if (this.#failure !== undefined) {
      this.#readers.releaseAll(this.#failure);
      this.#sized.releaseAll(this.#failure);
    } else if (this.#complete) {
      this.#readers.releaseAll();
      this.#sized.releaseAll();
    } else {
      this.#readers.release(this.#written);
      if (this.#size !== undefined) this.#sized.releaseAll();
    }
  }

  #file(): Promise<FileHandle> {
    if (this.#fd) return Promise.resolve(this.#fd);
    if (this.#closed) return Promise.reject(this.#failure ?? new Error('content released'));
    if (this.#target.kind !== 'file') return Promise.reject(new Error('memory content has no file'));
    const path = this.#target.partialPath;
    this.#opening ??= open(path, 'wx+', 0o600).then((fd) => {
      this.#fd = fd;
      this.#path = path;
      return fd;
    });
    return this.#opening;
  }

  async #removeFile(): Promise<void> {
    const path = this.#path;
    if (path === undefined) return;
    this.#path = undefined;
    await unlink(path).catch(() => {});
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#removeFile();
    const fd = this.#fd;
    this.#fd = undefined;
    this.#whole = undefined;
    await fd?.close().catch(() => {});
  }
}
