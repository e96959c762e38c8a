/**
 * Content handles: one version of one file, read by offset and shared by every transfer that
 * reads it. A TFTP session reads block N from it, an HTTP response streams a range of it, and
 * neither copies the whole file. A handle may be in memory, on disk behind a shared
 * descriptor, or still arriving from an upstream (reads wait for the bytes, and fail if the
 * fetch fails: nothing partial is ever served as complete).
 */

/**
 * One version of a file.
 *
 * Lifetime: whoever hands a handle to a consumer gives it one reference; the consumer calls
 * `release()` exactly once when it is done (a transfer ended, a response closed). The
 * producer (a cache, a store) keeps its own reference while it holds the handle. Disk-backed
 * handles close their descriptor (and remove an evicted cache file) when the last reference
 * goes. `retain()` takes one more reference for a second consumer.
 *
 * @example
 * ```ts
 * const content = bufferContent(Buffer.from('hello'));
 * const bytes = await content.read(1, 3); // 'ell'
 * content.release();
 * ```
 */
export interface Content {
  /** Size in bytes, or undefined while content still arriving has not said its size. */
  readonly size: number | undefined;
  /**
   * A tag of this version: a content hash (never inode numbers), or undefined while content
   * still arriving is not complete.
   */
  readonly version: string | undefined;
  /** Epoch ms of the last change, when known (HTTP Last-Modified). */
  readonly modifiedAt?: number | undefined;
  /**
   * Reads that start and end on multiples of this many bytes are answered with views of
   * shared memory and no copy (a disk content's chunk cache); a reader that can choose its
   * ranges (a TFTP block source) aligns to it. Undefined: any range is as cheap.
   */
  readonly readAlign?: number | undefined;
  /**
   * The bytes `[offset, offset + length)` clipped to the size, as a view with no copy, when
   * they are in memory now; otherwise undefined (then call `read`). Never waits.
   */
  peek(offset: number, length: number): Uint8Array | undefined;
  /**
   * The bytes `[offset, offset + length)` clipped to the size. Resolves with fewer bytes only
   * at the end of the content; waits for bytes still arriving; rejects when the content failed
   * (a fetch broke, a read error) or `signal` fired.
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** The final size: at once for complete content, once known for content still arriving. */
  whenSized(signal?: AbortSignal): Promise<number>;
  /** One more reference, for one more consumer. Returns this. */
  retain(): Content;
  /** Gives back one reference. */
  release(): void;
}

/** In-memory content over one buffer: views, no copies, nothing to release. */
class BufferContent implements Content {
  readonly size: number;
  readonly #data: Uint8Array;

  constructor(
    data: Uint8Array,
    readonly version: string | undefined,
    readonly modifiedAt: number | undefined,
  ) {
    this.#data = data;
    this.size = data.byteLength;
  }

  peek(offset: number, length: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.size);
    return this.#data.subarray(start, Math.min(this.size, start + Math.max(0, length)));
  }

  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return Promise.resolve(this.peek(offset, length));
  }

  whenSized(): Promise<number> {
    return Promise.resolve(this.size);
  }

  retain(): Content {
    return this;
  }

  release(): void {}
}

/**
 * Content over bytes already in memory (a small file, a generated configuration).
 *
 * @example
 * ```ts
 * const content = bufferContent(new TextEncoder().encode('<device/>'), { version: 'v1' });
 * content.peek(0, 4); // a view of '<dev'
 * ```
 */
export function bufferContent(
  data: Uint8Array,
  opts: { version?: string; modifiedAt?: number } = {},
): Content {
  return new BufferContent(data, opts.version, opts.modifiedAt);
}

/** True for an object shaped as a {@link Content}. */
export function isContent(value: unknown): value is Content {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Content).read === 'function' &&
    typeof (value as Content).peek === 'function' &&
    typeof (value as Content).release === 'function'
  );
}

/**
 * Every byte of a content, in one new buffer. For small files only (re-signing a
 * configuration, a test): the data plane never calls it.
 */
export async function readAll(content: Content, signal?: AbortSignal): Promise<Uint8Array> {
  const size = await content.whenSized(signal);
  const whole = content.peek(0, size);
  if (whole && whole.byteLength === size) return whole;
  // One read of everything: a disk content answers it with one buffer and no second copy.
  const first = await content.read(0, size, signal);
  if (first.byteLength === size) return first;
  const out = new Uint8Array(size);
  out.set(first, 0);
  let offset = first.byteLength;
  while (offset < size) {
    const chunk = await content.read(offset, Math.min(1 << 20, size - offset), signal);
    if (chunk.byteLength === 0) break;
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
