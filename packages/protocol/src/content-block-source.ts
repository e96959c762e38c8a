/**
 * The blocks of a read transfer cut from a {@link Content} handle: block n is the bytes at
 * offset `(n - 1) * blksize`. Content in memory is served as views with no copy; other content
 * is read ahead by offset, a window or two ahead of the peer's acknowledgements and never the
 * whole file, in ranges aligned to the content's `readAlign` so a disk content's shared chunk
 * cache answers them with views too.
 */
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import type { BlockSource } from './block-source.js';
import type { Content } from './content.js';
import { AbortedError, isPtftpError, type PtftpError, SizeMismatchError } from './errors.js';

/** Bytes per read when the content states no alignment: a file system's usual read size. */
const DEFAULT_READ_BYTES = 64 * 1024;
/** The most a transfer reads ahead of its peer's acknowledgements. */
const MAX_READ_AHEAD_BYTES = 1024 * 1024;
/** Bytes per read when blocks are too large to align (blksize near 64 KiB). */
const LARGE_READ_BYTES = 1024 * 1024;

/** Blocks from a content handle at one block size; releases the handle once, on `close()`. */
export class ContentBlockSource implements BlockSource {
  readonly size: number | undefined;
  lastBlock: number | undefined;
  error: PtftpError | undefined;
  onReady: (() => void) | undefined;
  /** The whole content as one view, when it is in memory and its size known. */
  readonly #whole: Buffer | undefined;
  /** Blocks read and not yet acknowledged, by number. */
  readonly #blocks = new Map<number, Buffer>();
  /** The first block not yet asked of the content. */
  #nextRead = 1;
  /** Highest block acknowledged. */
  #acked = 0;
  /** Blocks read ahead of the acknowledged one at most; doubles when the peer outruns it. */
  #horizon: number;
  readonly #maxHorizon: number;
  readonly #align: number;
  /** Blocks per read while the content still arrives (it has no version until complete). */
  readonly #arrivingRead: number | undefined;
  readonly #abort = new AbortController();
  #closed = false;

  constructor(
    private readonly content: Content,
    private readonly blksize: number,
    windowsize: number,
  ) {
    const size = content.size;
    this.size = size;
    if (size !== undefined) {
      // A transfer always ends with a short block, empty when the size is a multiple of blksize.
      this.lastBlock = Math.floor(size / blksize) + 1;
      const all = content.peek(0, size);
      if (all !== undefined && all.byteLength === size) this.#whole = asBuffer(all);
    }
    this.#align = content.readAlign ?? DEFAULT_READ_BYTES;
    // Content still arriving from an upstream: a read waits for its last byte, so an aligned
    // 64 KiB read would hold block 1 until 64 KiB are in. Block 1 is read alone, then a window
    // at a time, so the first DATA leaves when the upstream's first bytes do.
    this.#arrivingRead =
      content.version === undefined && this.#whole === undefined ? Math.max(1, windowsize) : undefined;
    // Two windows, and at least one aligned read's worth, so a lockstep peer at blksize 512 does
    // not wait for the disk at every block. A peer that keeps finding its next block not read
    // yet doubles it, up to 1 MiB: a stalled phone holds little, a fast one is not held back.
    // Content still arriving: two windows, no more (the disk is not what the phone waits for).
    this.#horizon =
      this.#arrivingRead !== undefined
        ? 2 * Math.max(1, windowsize)
        : Math.max(2 * windowsize, Math.ceil(this.#align / blksize) + 1);
    this.#maxHorizon = Math.max(this.#horizon, Math.ceil(MAX_READ_AHEAD_BYTES / blksize));
    // Every read in flight listens for the end of the transfer; while the content arrives that
    // is one read a window up to the horizon (dozens, bounded by it), not a leak to warn about.
    setMaxListeners(Math.ceil(this.#maxHorizon / (this.#arrivingRead ?? 1)) + 8, this.#abort.signal);
  }

  block(n: number): Buffer | undefined {
    if (n < 1 || (this.lastBlock !== undefined && n > this.lastBlock)) return undefined;
    const whole = this.#whole;
    if (whole !== undefined) {
      const start = (n - 1) * this.blksize;
      return whole.subarray(start, Math.min(start + this.blksize, whole.length));
    }
    const held = this.#blocks.get(n);
    // A block not read yet from a complete content means the disk is behind: read further ahead.
    // From content still arriving it means the upstream is: reading further ahead would only
    // hold more bytes per phone (a boot storm's thousand phones at the arriving edge).
    if (held === undefined && n > 1 && this.#horizon < this.#maxHorizon && this.#arrivingRead === undefined)
      this.#horizon = Math.min(this.#maxHorizon, this.#horizon * 2);
    this.#readAhead(n);
    return held;
  }

  release(n: number): void {
    if (n <= this.#acked) return;
    if (this.#whole === undefined) for (let b = this.#acked + 1; b <= n; b++) this.#blocks.delete(b);
    this.#acked = n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#blocks.clear();
    this.#abort.abort(new AbortedError('transfer ended'));
    this.content.release();
  }

  /** Ask the content for the blocks from `n` up to the read-ahead horizon, in aligned ranges. */
  #readAhead(n: number): void {
    if (this.error !== undefined || this.#closed) return;
    // Blocks below #nextRead and above #acked are held or in flight (a retransmission finds
    // them there); the session never asks past #acked + windowsize, inside the horizon.
    if (n > this.#nextRead) this.#nextRead = n;
    // Refill only once half the read-ahead is used: reads of many blocks, not one per ACK.
    else if (this.#nextRead > this.#acked + (this.#horizon >> 1)) return;
    const limit = Math.min(this.#acked + this.#horizon, this.lastBlock ?? Number.POSITIVE_INFINITY);
    while (this.#nextRead <= limit) {
      const first = this.#nextRead;
      const offset = (first - 1) * this.blksize;
      let blocks: number;
      if (this.#arrivingRead !== undefined) {
        blocks = Math.min(limit - first + 1, first === 1 ? 1 : this.#arrivingRead);
      } else if (2 * this.blksize > this.#align) {
        // Blocks as large as the alignment unit would all straddle it: read plain spans instead.
        blocks = Math.min(limit - first + 1, Math.max(1, Math.floor(LARGE_READ_BYTES / this.blksize)));
      } else {
        // Up to the next alignment boundary, in whole blocks; a block that straddles a boundary is
        // read alone (a small copy) so the ranges after it start aligned again.
        const boundary = (Math.floor(offset / this.#align) + 1) * this.#align;
        blocks = Math.max(1, Math.min(limit - first + 1, Math.floor((boundary - offset) / this.blksize)));
      }
      this.#nextRead = first + blocks;
      this.#read(first, blocks);
    }
  }

  #read(first: number, blocks: number): void {
    const offset = (first - 1) * this.blksize;
    const length = blocks * this.blksize;
    this.content.read(offset, length, this.#abort.signal).then(
      (bytes) => this.#onRead(first, blocks, asBuffer(bytes)),
      (err: unknown) => this.#onFail(err),
    );
  }

  #onRead(first: number, blocks: number, bytes: Buffer): void {
    if (this.#closed || this.error !== undefined) return;
    const full = Math.floor(bytes.length / this.blksize);
    const short = full < blocks;
    if (short) {
      // Fewer bytes than asked: the content ended here (read() is short only at the end).
      const last = first + full;
      if (this.size !== undefined && last !== this.lastBlock) {
        this.#onFail(
          new SizeMismatchError(this.size, (last - 1) * this.blksize + (bytes.length % this.blksize)),
        );
        return;
      }
      // Size unknown: reads past the end come back empty, perhaps before the one that found it.
      if (this.lastBlock === undefined || last < this.lastBlock) {
        for (const n of this.#blocks.keys()) if (n > last) this.#blocks.delete(n);
        this.lastBlock = last;
      }
    }
    if (this.lastBlock !== undefined && first > this.lastBlock) return;
    const count = short ? full + 1 : blocks;
    for (let i = 0; i < count; i++) {
      const n = first + i;
      if (n <= this.#acked) continue;
      const start = i * this.blksize;
      this.#blocks.set(n, bytes.subarray(start, Math.min(start + this.blksize, bytes.length)));
    }
    this.onReady?.();
  }

  #onFail(err: unknown): void {
    if (this.#closed || this.error !== undefined) return;
    // Never a short "complete" block: the session answers ERROR 0 and the peer keeps nothing.
    this.error = isPtftpError(err) ? err : new AbortedError('reading the file failed', { cause: err });
    this.#blocks.clear();
    this.onReady?.();
  }
}

/**
 * The content as a byte stream in order from offset 0, for netascii: the translation needs
 * the bytes in sequence, not by offset. Pulled only as fast as the block source reads it.
 */
export function contentStream(content: Content, chunkBytes = DEFAULT_READ_BYTES): Readable {
  const abort = new AbortController();
  let offset = 0;
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      content.read(offset, chunkBytes, abort.signal).then(
        (bytes) => {
          offset += bytes.byteLength;
          this.push(bytes.byteLength > 0 ? bytes : null);
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
    destroy(err, callback) {
      abort.abort(new AbortedError('transfer ended'));
      callback(err);
    },
  });
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
