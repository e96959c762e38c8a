/**
 * Files on disk as {@link Content} handles read by offset through one shared descriptor per
 * version: a boot storm of 1000 phones on one 100 MB image holds one descriptor and a few
 * shared chunks, not 1000 copies. A bounded table of descriptors and a bounded chunk cache.
 */
import fs from 'node:fs';
import type { Content } from './content.js';
import { AbortedError, ServerBusyError } from './errors.js';

/** Limits of a {@link DiskFiles} table. */
export interface DiskFilesOptions {
  /** Descriptors held open at most (default 512); beyond it, with none idle, `ServerBusyError`. */
  maxOpenFiles?: number;
  /** Bytes of file chunks shared between readers (default 16 MiB; 0 reads straight from disk). */
  chunkCacheBytes?: number;
  /** Bytes per cached chunk (default 64 KiB): the unit of one disk read. */
  chunkBytes?: number;
  /** How long an unreferenced descriptor stays open for the next reader (default 1 s). */
  idleMs?: number;
}

/** What identifies one version of a file: the same (dev, ino, size, mtime, ctime) is the same bytes. */
export function statKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** One open version of a file: the descriptor, shared by every handle on it. */
class DiskContent implements Content {
  readonly size: number;
  readonly modifiedAt: number;
  readonly readAlign: number | undefined;
  refs = 1;
  /** A newer version replaced it in the table: close as soon as no one reads it. */
  stale = false;
  closed = false;
  idleTimer: NodeJS.Timeout | undefined;
  readonly #loading = new Map<number, Promise<Buffer>>();

  constructor(
    readonly table: DiskFiles,
    readonly path: string,
    readonly key: string,
    readonly fd: number,
    readonly id: number,
    readonly version: string,
    st: fs.Stats,
  ) {
    this.size = st.size;
    this.modifiedAt = st.mtimeMs;
    this.readAlign = table.chunkCacheBytes > 0 ? table.chunkBytes : undefined;
  }

  peek(offset: number, length: number): Uint8Array | undefined {
    if (this.readAlign === undefined) return undefined;
    const start = Math.max(0, offset);
    const end = Math.min(this.size, start + Math.max(0, length));
    if (end <= start) return start >= this.size ? Buffer.alloc(0) : undefined;
    const ci = Math.floor(start / this.readAlign);
    if (Math.floor((end - 1) / this.readAlign) !== ci) return undefined;
    const chunk = this.table.cachedChunk(this, ci);
    return chunk?.subarray(start - ci * this.readAlign, end - ci * this.readAlign);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    if (this.closed) throw new AbortedError('file handle released');
    const start = Math.max(0, offset);
    const end = Math.min(this.size, start + Math.max(0, length));
    if (end <= start) return Buffer.alloc(0);
    const align = this.readAlign;
    if (align === undefined) return this.#readRange(start, end - start);
    const first = Math.floor(start / align);
    const last = Math.floor((end - 1) / align);
    // A range over three chunks or more (a large blksize read ahead): one read, no cache.
    if (last - first >= 2) return this.#readRange(start, end - start);
    if (first === last) {
      const chunk = await this.#chunk(first);
      return chunk.subarray(start - first * align, end - first * align);
    }
    // Across a chunk boundary: one small copy (a block source aligns its reads to avoid it).
    const out = Buffer.allocUnsafe(end - start);
    for (let ci = first; ci <= last; ci++) {
      const chunk = await this.#chunk(ci);
      const from = Math.max(start, ci * align);
      const to = Math.min(end, (ci + 1) * align);
      chunk.copy(out, from - start, from - ci * align, to - ci * align);
    }
    return out;
  }

  whenSized(): Promise<number> {
    return Promise.resolve(this.size);
  }

  retain(): Content {
    if (this.closed) throw new AbortedError('file handle released');
    this.refs++;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    return this;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.table.idle(this);
  }

  /** Chunk `ci`, from the shared cache or one disk read shared by concurrent readers. */
  #chunk(ci: number): Promise<Buffer> {
    const hit = this.table.cachedChunk(this, ci);
    if (hit !== undefined) return Promise.resolve(hit);
    let pending = this.#loading.get(ci);
    if (pending === undefined) {
      const align = this.readAlign!;
      const start = ci * align;
      pending = this.#readRange(start, Math.min(align, this.size - start)).finally(() =>
        this.#loading.delete(ci),
      );
      pending.then((chunk) => this.table.storeChunk(this, ci, chunk), ignore);
      this.#loading.set(ci, pending);
    }
    return pending;
  }

  /** Exactly `length` bytes at `start`, or a failure: a file that shrank is never served short. */
  #readRange(start: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    this.table.diskReads++;
    return new Promise((resolve, reject) => {
      const next = (done: number): void => {
        if (done === length) {
          resolve(buf);
          return;
        }
        if (this.closed) {
          reject(new AbortedError('file handle released'));
          return;
        }
        fs.read(this.fd, buf, done, length - done, start + done, (err, n) => {
          if (err) reject(err);
          else if (n === 0) reject(new AbortedError(`${this.path} shrank while being read`));
          else next(done + n);
        });
      };
      next(0);
    });
  }
}

const ignore = (): void => {};

/**
 * The shared descriptors of one root: at most `maxOpenFiles` open, each shared by every reader
 * of its version, closed when idle; and one byte-bounded LRU of chunks over all of them.
 */
export class DiskFiles {
  readonly maxOpenFiles: number;
  readonly chunkCacheBytes: number;
  readonly chunkBytes: number;
  readonly #idleMs: number;
  /** The newest open version per path. */
  readonly #byPath = new Map<string, DiskContent>();
  /** Every open descriptor (stale ones too, until their last reader goes). */
  readonly #open = new Set<DiskContent>();
  readonly #chunks = new Map<string, Buffer>();
  #chunkBytesHeld = 0;
  #nextId = 1;
  /** Disk reads made (for tests and the bench: does the chunk cache pay?). */
  diskReads = 0;

  constructor(opts: DiskFilesOptions = {}) {
    this.maxOpenFiles = opts.maxOpenFiles ?? 512;
    this.chunkCacheBytes = opts.chunkCacheBytes ?? 16 << 20;
    this.chunkBytes = opts.chunkBytes ?? 64 << 10;
    this.#idleMs = opts.idleMs ?? 1000;
  }

  /** Descriptors open now. */
  get openFiles(): number {
    return this.#open.size;
  }

  /** Bytes held in the chunk cache. */
  get cachedBytes(): number {
    return this.#chunkBytesHeld;
  }

  /** True when some version of `path` is open (worth a stat to see if it is still current). */
  has(path: string): boolean {
    return this.#byPath.has(path);
  }

  /** A new reference on the open version of `path` if it is still `key`. */
  lookup(path: string, key: string): Content | undefined {
    const file = this.#byPath.get(path);
    if (file === undefined || file.key !== key || file.closed) return undefined;
    return file.retain();
  }

  /**
   * Take over `fd` (opened and checked by the caller) as the shared handle of `path` at `key`;
   * if another reader opened the same version meanwhile, `fd` is closed and that one shared.
   * Throws {@link ServerBusyError} when the table is full of descriptors in use.
   */
  adopt(path: string, key: string, fd: number, st: fs.Stats, version: string): Content {
    const shared = this.lookup(path, key);
    if (shared !== undefined) {
      fs.close(fd, ignore);
      return shared;
    }
    if (this.#open.size >= this.maxOpenFiles) this.#closeOneIdle();
    if (this.#open.size >= this.maxOpenFiles) {
      fs.close(fd, ignore);
      throw new ServerBusyError('descriptors');
    }
    const file = new DiskContent(this, path, key, fd, this.#nextId++, version, st);
    const old = this.#byPath.get(path);
    if (old !== undefined) {
      old.stale = true;
      if (old.refs === 0) this.#close(old);
    }
    this.#byPath.set(path, file);
    this.#open.add(file);
    return file;
  }

  /** Close every idle descriptor now (a server closing). Handles in use close on release. */
  closeIdle(): void {
    for (const file of [...this.#open]) if (file.refs === 0) this.#close(file);
  }

  /** @internal */
  idle(file: DiskContent): void {
    if (file.stale || this.#idleMs <= 0) {
      this.#close(file);
      return;
    }
    file.idleTimer = setTimeout(() => {
      if (file.refs === 0) this.#close(file);
    }, this.#idleMs);
    file.idleTimer.unref();
  }

  /** @internal */
  cachedChunk(file: DiskContent, ci: number): Buffer | undefined {
    const key = `${file.id}:${ci}`;
    const hit = this.#chunks.get(key);
    if (hit !== undefined) {
      this.#chunks.delete(key);
      this.#chunks.set(key, hit);
    }
    return hit;
  }

  /** @internal */
  storeChunk(file: DiskContent, ci: number, chunk: Buffer): void {
    if (this.chunkCacheBytes <= 0 || file.closed) return;
    const key = `${file.id}:${ci}`;
    if (this.#chunks.has(key)) return;
    this.#chunks.set(key, chunk);
    this.#chunkBytesHeld += chunk.length;
    for (const [k, c] of this.#chunks) {
      if (this.#chunkBytesHeld <= this.chunkCacheBytes) break;
      this.#chunks.delete(k);
      this.#chunkBytesHeld -= c.length;
    }
  }

  #closeOneIdle(): void {
    for (const file of this.#open) {
      if (file.refs === 0) {
        this.#close(file);
        return;
      }
    }
  }

  #close(file: DiskContent): void {
    if (file.closed) return;
    file.closed = true;
    if (file.idleTimer) clearTimeout(file.idleTimer);
    this.#open.delete(file);
    if (this.#byPath.get(file.path) === file) this.#byPath.delete(file.path);
    // Its chunks can never be asked for again (a new open gets a new id).
    const prefix = `${file.id}:`;
    for (const [k, c] of this.#chunks) {
      if (k.startsWith(prefix)) {
        this.#chunks.delete(k);
        this.#chunkBytesHeld -= c.length;
      }
    }
    fs.close(file.fd, ignore);
  }
}
