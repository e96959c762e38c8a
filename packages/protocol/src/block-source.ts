/**
 * The blocks a read session sends, cut from a handler's result: views into one shared buffer
 * (a boot storm of one file costs no copies), or blocks filled from a stream with bounded
 * read-ahead. netascii is applied here so sessions only see wire bytes.
 */
import type { Readable } from 'node:stream';
import { type Content, isContent } from './content.js';
import { ContentBlockSource, contentStream } from './content-block-source.js';
import { AbortedError, isPtftpError, type PtftpError, SizeMismatchError } from './errors.js';
import type { ReadResult } from './handler.js';
import { encodeNetascii } from './netascii.js';

/** Blocks numbered from 1, as a read session consumes them. */
export interface BlockSource {
  /** Wire bytes of the whole transfer when known before the first block (answers tsize). */
  readonly size: number | undefined;
  /** The number of the final (short) block, once known. */
  readonly lastBlock: number | undefined;
  /** Why the source failed, if it did. */
  readonly error: PtftpError | undefined;
  /** Block n's payload, or undefined while it is not read yet. Valid until `release(n)`. */
  block(n: number): Buffer | undefined;
  /** Blocks up to n are acknowledged: their memory may go. */
  release(n: number): void;
  /** Called when `block()` may answer more, or `error` was set. */
  onReady: (() => void) | undefined;
  close(): void;
}

/** Blocks as views into one buffer. */
export class BufferBlockSource implements BlockSource {
  readonly size: number;
  readonly lastBlock: number;
  readonly error = undefined;
  onReady: (() => void) | undefined;
  private readonly data: Buffer;

  constructor(
    data: Uint8Array,
    private readonly blksize: number,
  ) {
    this.data = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.size = data.byteLength;
    // A transfer always ends with a short block, empty when the size is a multiple of blksize.
    this.lastBlock = Math.floor(data.byteLength / blksize) + 1;
  }

  block(n: number): Buffer | undefined {
    if (n < 1 || n > this.lastBlock) return undefined;
    const start = (n - 1) * this.blksize;
    return this.data.subarray(start, Math.min(start + this.blksize, this.data.length));
  }

  release(): void {}
  close(): void {}
}

/** Bytes a stream source reads ahead of the peer's acknowledgements. */
const READ_AHEAD_BYTES = 256 * 1024;

/** Blocks filled from a stream; the stream is paused while enough blocks wait for their ACK. */
export class StreamBlockSource implements BlockSource {
  readonly size: number | undefined;
  lastBlock: number | undefined;
  error: PtftpError | undefined;
  onReady: (() => void) | undefined;
  /** blocks[head + i] is block `first + i`; slots before `head` are released. */
  private blocks: Array<Buffer | undefined> = [];
  private head = 0;
  private first = 1;
  private fill: Buffer;
  private fillLength = 0;
  private rawBytes = 0;
  private paused = false;
  private readonly highWater: number;

  constructor(
    private readonly stream: Readable,
    private readonly blksize: number,
    windowsize: number,
    private readonly netascii: boolean,
    private readonly expectedRawSize: number | undefined,
    private onClose?: (() => void) | undefined,
  ) {
    this.size = netascii ? undefined : expectedRawSize;
    // Read ahead at least 256 KiB: a file stream delivers 64 KiB chunks from the thread pool,
    // and pausing it at every window would put a disk round trip in front of every window.
    this.highWater = Math.max(windowsize * 2 + 2, Math.ceil(READ_AHEAD_BYTES / blksize));
    this.fill = Buffer.allocUnsafe(blksize);
    stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
    stream.once('end', () => this.onEnd());
    stream.once('error', (err) => this.onError(err));
  }

  block(n: number): Buffer | undefined {
    if (n < this.first) return undefined;
    return this.blocks[this.head + n - this.first];
  }

  /** Blocks read and not yet released. */
  private get held(): number {
    return this.blocks.length - this.head;
  }

  release(n: number): void {
    if (n < this.first) return;
    const drop = Math.min(n - this.first + 1, this.held);
    // Clear the slots and move the head instead of splicing: a splice per ACK shifted the whole
    // read-ahead (512 entries at blksize 512) and was the top JS cost of a lockstep transfer.
    for (let i = 0; i < drop; i++) this.blocks[this.head + i] = undefined;
    this.head += drop;
    this.first += drop;
    if (this.head >= this.highWater) {
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.held < this.highWater) {
      this.paused = false;
      this.stream.resume();
    }
  }

  close(): void {
    this.stream.destroy();
    const onClose = this.onClose;
    this.onClose = undefined;
    onClose?.();
  }

  private onData(chunk: Buffer | string): void {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.rawBytes += bytes.length;
    if (this.netascii) bytes = encodeNetascii(bytes);
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(this.blksize - this.fillLength, bytes.length - offset);
      bytes.copy(this.fill, this.fillLength, offset, offset + n);
      this.fillLength += n;
      offset += n;
      if (this.fillLength === this.blksize) {
        this.blocks.push(this.fill);
        this.fill = Buffer.allocUnsafe(this.blksize);
        this.fillLength = 0;
      }
    }
    if (this.held >= this.highWater && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    this.onReady?.();
  }

  private onEnd(): void {
    if (this.expectedRawSize !== undefined && this.rawBytes !== this.expectedRawSize) {
      this.error = new SizeMismatchError(this.expectedRawSize, this.rawBytes);
    } else {
      this.blocks.push(this.fill.subarray(0, this.fillLength));
      this.lastBlock = this.first + this.held - 1;
    }
    this.onReady?.();
  }

  private onError(err: unknown): void {
    this.error = isPtftpError(err) ? err : new AbortedError('read stream failed', { cause: err });
    this.onReady?.();
  }
}

/** A handler's result made ready for the wire, before the block size is known. */
export type PreparedContent =
  | { readonly kind: 'buffer'; readonly data: Uint8Array; readonly size: number }
  | { readonly kind: 'content'; readonly content: Content; readonly size: number | undefined }
  | {
      readonly kind: 'stream';
      readonly stream: Readable;
      readonly rawSize: number | undefined;
      readonly size: number | undefined;
    };

/**
 * Apply netascii to a buffer result (so tsize can state the wire size) and check the result's
 * shape; streams are translated block by block later, so their wire size is unknown in netascii.
 */
export function prepareContent(result: ReadResult, netascii: boolean): PreparedContent {
  if (typeof result === 'object' && result !== null && 'content' in result) {
    if (!isContent(result.content)) throw new TypeError('read handler returned no content handle');
    // netascii is translated while streaming, so its wire size is not known ahead (no tsize,
    // as tftpd-hpa): a whole translated copy per request is what this avoids.
    return { kind: 'content', content: result.content, size: netascii ? undefined : result.content.size };
  }
  if (result instanceof Uint8Array || (typeof result === 'object' && result !== null && 'data' in result)) {
    const raw = result instanceof Uint8Array ? result : result.data;
    if (!(raw instanceof Uint8Array)) throw new TypeError('read handler returned no bytes');
    const data = netascii ? encodeNetascii(raw) : raw;
    return { kind: 'buffer', data, size: data.byteLength };
  }
  if (typeof result === 'object' && result !== null && 'stream' in result && result.stream) {
    const rawSize = result.size;
    return { kind: 'stream', stream: result.stream, rawSize, size: netascii ? undefined : rawSize };
  }
  throw new TypeError('read handler returned neither bytes nor a stream');
}

/** The block source for prepared content at the negotiated block and window size. */
export function toBlockSource(
  content: PreparedContent,
  blksize: number,
  windowsize: number,
  netascii: boolean,
): BlockSource {
  if (content.kind === 'buffer') return new BufferBlockSource(content.data, blksize);
  if (content.kind === 'content') {
    const handle = content.content;
    if (!netascii) return new ContentBlockSource(handle, blksize, windowsize);
    return new StreamBlockSource(contentStream(handle), blksize, windowsize, true, handle.size, () =>
      handle.release(),
    );
  }
  return new StreamBlockSource(content.stream, blksize, windowsize, netascii, content.rawSize);
}
