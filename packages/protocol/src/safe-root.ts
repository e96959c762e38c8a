/**
 * One safe-folder core: open a name under a root folder without ever leaving it, and hand
 * back the file as a {@link Content} handle. `createFsHandler` and the resolver's `FolderStore`
 * both stand on it, so a fix here (the root re-check, an error mapping) reaches both.
 *
 * The file-system calls use node:fs callbacks, not node:fs/promises: a cold boot storm makes
 * a few calls per phone, and each promise-based call allocates a FileHandle, promises and their
 * reactions that live as long as the thread pool queue is deep.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs, { constants, type Stats } from 'node:fs';
import path from 'node:path';
import { bufferContent, type Content } from './content.js';
import { DiskFiles, type DiskFilesOptions, statKey } from './disk-content.js';
import { AccessViolationError, FileNotFoundError, IsDirectoryError } from './errors.js';
import { FileContentCache } from './file-cache.js';
import { fsErrorToTftp } from './fs-errors.js';
import { isInside, resolveSafePath } from './safe-path.js';

/** Options of {@link SafeRoot}. */
export interface SafeRootOptions extends DiskFilesOptions {
  /**
   * Symlinks: `'inside'` (default) follows those whose target stays inside the root,
   * `'never'` refuses every symlink, `'anywhere'` follows any (a folder the operator trusts).
   */
  symlinks?: 'inside' | 'never' | 'anywhere';
  /** Files up to this size are read whole once per version and kept in memory (default 256 KiB). */
  wholeFileBytes?: number;
  /** Bytes of whole small files kept across requests (default 32 MiB). */
  wholeCacheBytes?: number;
  /**
   * Clock in ms for the root's once-a-second real-path re-check (default `performance.now`):
   * replaceable so a test drives the second instead of sleeping through it.
   */
  now?: () => number;
  /** Name check: the absolute path `name` means under `root` (default `resolveSafePath`). */
  resolveName?: (root: string, name: string) => string;
}

/** `O_NOFOLLOW` where the platform has it (not on Windows: there every name takes realpath). */
const NOFOLLOW: number | undefined = constants.O_NOFOLLOW;
/** Read-only, never through a symlink in the last segment, never blocking on a FIFO. */
const OPEN_FLAGS = constants.O_RDONLY | (NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
/** How long the root's real path is trusted before it is looked up again. */
const ROOT_RECHECK_MS = 1000;
/**
 * The key of large files' version tags: per process, so a tag reveals nothing of the inode
 * numbers it is computed from, even to someone who can guess the size and mtime.
 */
const VERSION_KEY = randomBytes(32);
const ignore = (): void => {};

function statFile(file: string): Promise<Stats | undefined> {
  return new Promise((resolve) => fs.stat(file, (err, st) => resolve(err ? undefined : st)));
}

function realPath(file: string): Promise<string> {
  return new Promise((resolve, reject) =>
    fs.realpath.native(file, (err, p) => (err ? reject(err) : resolve(p))),
  );
}

function fstat(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
}

/** An open descriptor and its stat; the caller closes it. */
function openFile(file: string): Promise<{ fd: number; st: Stats }> {
  return new Promise((resolve, reject) =>
    fs.open(file, OPEN_FLAGS, (err, fd) => {
      if (err) return reject(err);
      fs.fstat(fd, (statErr, st) => {
        if (statErr) {
          fs.close(fd, ignore);
          reject(statErr);
        } else resolve({ fd, st });
      });
    }),
  );
}

/** `size` bytes from the start of `fd`, or fewer if the file shrank while being read. */
function readWhole(fd: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  return new Promise((resolve, reject) => {
    const next = (offset: number): void => {
      if (offset >= size) {
        resolve(buf);
        return;
      }
      fs.read(fd, buf, offset, size - offset, offset, (err, n) => {
        if (err) reject(err);
        else if (n === 0) resolve(buf.subarray(0, offset));
        else next(offset + n);
      });
    };
    next(0);
  });
}

/**
 * A root folder whose files are opened safely and served as {@link Content} handles.
 *
 * - Names are checked as strings (`resolveSafePath`), then a name in the root itself is opened
 *   with `O_NOFOLLOW` (no realpath: a cold storm saves a call per phone); any other name, or a
 *   symlink, must have its real path inside the real root. The root's real path is looked up
 *   again once a second, so a root that is a symlink repointed to a new release is followed.
 * - Small files (up to `wholeFileBytes`, 256 KiB: configuration files, which are hot) are read
 *   whole once per version and kept in a byte-bounded LRU; their version tag is the SHA-256 of
 *   their bytes (stable across restarts and replicas, so HTTP revalidation works).
 * - Larger files are read by offset through one descriptor per version shared by every reader
 *   (at most `maxOpenFiles`, 512; an idle one closes after 1 s), with a shared chunk cache on
 *   top (16 MiB). Nothing loads a large file whole. Hashing gigabytes before the first byte
 *   would delay every first transfer, so their version tag is an HMAC-SHA-256 of the stat
 *   identity (device, inode, size, mtime, ctime) under a per-process random key: it changes
 *   with the file and reveals no inode number (an HTTP ETag is public), at the cost of a new
 *   tag after a restart.
 * - Errors mean what they say: missing is `FileNotFoundError` (ERROR 1), refused
 *   `AccessViolationError` (ERROR 2), a folder `IsDirectoryError` (ERROR 0 "Is a directory",
 *   as tftpd-hpa), descriptors exhausted (EMFILE, ENFILE, or the table full)
 *   `ServerBusyError` (ERROR 0 "server busy").
 *
 * @example
 * ```ts
 * const root = new SafeRoot('/srv/tftp');
 * const content = await root.open('phones/SEP001122334455.cnf.xml');
 * try {
 *   const head = await content.read(0, 64);
 * } finally {
 *   content.release();
 * }
 * ```
 */
export class SafeRoot {
  readonly root: string;
  /** The shared descriptors (open count, chunk cache bytes, disk reads). */
  readonly files: DiskFiles;
  readonly #symlinks: 'inside' | 'never' | 'anywhere';
  readonly #wholeFileBytes: number;
  readonly #whole: FileContentCache;
  /** The content handle of each cached small-file buffer, made once. */
  readonly #wholeContent = new WeakMap<Buffer, Content>();
  readonly #resolveName: (root: string, name: string) => string;
  #realRoot: Promise<string> | undefined;
  #realRootAt = 0;
  readonly #now: () => number;

  constructor(root: string, opts: SafeRootOptions = {}) {
    this.root = path.resolve(root);
    this.files = new DiskFiles(opts);
    this.#symlinks = opts.symlinks ?? 'inside';
    this.#wholeFileBytes = opts.wholeFileBytes ?? 256 << 10;
    this.#whole = new FileContentCache(opts.wholeCacheBytes ?? 32 << 20);
    this.#resolveName = opts.resolveName ?? resolveSafePath;
    this.#now = opts.now ?? (() => performance.now());
  }

  /**
   * The file `name` as a content handle carrying one reference for the caller, who releases it.
   * Throws `FileNotFoundError`, `AccessViolationError`, `IsDirectoryError` or `ServerBusyError`.
   */
  async open(name: string): Promise<Content> {
    const full = this.#resolveName(this.root, name);
    // Fast path for a warm storm: one stat. The tables only hold files that passed the checks
    // below under this very path; the same (dev, ino, size, mtime, ctime) is that same file.
    if (this.#whole.has(full) || this.files.has(full)) {
      const quick = await statFile(full);
      if (quick?.isFile()) {
        const key = statKey(quick);
        const small = this.#whole.peek(full, key);
        if (small !== undefined) return this.#smallContent(small, quick);
        const shared = this.files.lookup(full, key);
        if (shared !== undefined) return shared;
      }
    }
    const { fd, st } = await this.#openChecked(full, name);
    if (!st.isFile()) {
      fs.close(fd, ignore);
      if (st.isDirectory()) throw new IsDirectoryError(name);
      throw new FileNotFoundError(name, `not a regular file: ${name}`);
    }
    const key = statKey(st);
    if (st.size <= this.#wholeFileBytes) {
      try {
        const data = await this.#whole.get(full, key, async () => {
          const bytes = await readWhole(fd, st.size);
          // Rewritten in place while read: serve neither half; the next request reads it anew.
          if (statKey(await fstat(fd)) !== key)
            throw new FileNotFoundError(name, `${name} changed while read`);
          return bytes;
        });
        return this.#smallContent(data, st);
      } catch (err) {
        throw fsErrorToTftp(err, name);
      } finally {
        fs.close(fd, ignore);
      }
    }
    const version = createHmac('sha256', VERSION_KEY).update(key).digest('hex').slice(0, 32);
    return this.files.adopt(full, key, fd, st, version);
  }

  /** Close idle descriptors (a server closing); handles still in use close on release. */
  close(): void {
    this.files.closeIdle();
  }

  #smallContent(data: Buffer, st: Stats): Content {
    let content = this.#wholeContent.get(data);
    if (content === undefined) {
      const version = createHash('sha256').update(data).digest('hex').slice(0, 32);
      content = bufferContent(data, { version, modifiedAt: st.mtimeMs });
      this.#wholeContent.set(data, content);
    }
    return content;
  }

  async #rootReal(name: string): Promise<string> {
    // Looked up again once a second old: a root that is a symlink repointed to a new folder (a
    // release switch) serves the new folder within a second, while a cold storm still pays
    // one lookup per second, not one per phone.
    const now = this.#now();
    if (this.#realRoot === undefined || now - this.#realRootAt > ROOT_RECHECK_MS) {
      this.#realRootAt = now;
      this.#realRoot = realPath(this.root).catch((err: unknown) => {
        this.#realRoot = undefined;
        throw err;
      });
    }
    try {
      return await this.#realRoot;
    } catch (err) {
      throw fsErrorToTftp(err, name);
    }
  }

  /** Open `full`, refusing anything that resolves outside the root. */
  async #openChecked(full: string, name: string): Promise<{ fd: number; st: Stats }> {
    const rootReal = await this.#rootReal(name);
    const rel = path.relative(this.root, full);
    if (NOFOLLOW !== undefined && !rel.includes(path.sep) && this.#symlinks !== 'anywhere') {
      // A name in the root itself (a phone's SEP<MAC>.cnf.xml): its one possible symlink is the
      // last segment, which O_NOFOLLOW refuses; a symlink takes the checked path below.
      try {
        return await openFile(path.join(rootReal, rel));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ELOOP' && code !== 'EMLINK') throw fsErrorToTftp(err, name);
      }
    }
    let real: string;
    try {
      real = await realPath(path.join(rootReal, rel));
    } catch (err) {
      throw fsErrorToTftp(err, name);
    }
    if (this.#symlinks !== 'anywhere' && !isInside(rootReal, real))
      throw new AccessViolationError(name, `access violation: ${name} leads outside the root`);
    if (this.#symlinks === 'never' && real !== path.join(rootReal, rel))
      throw new AccessViolationError(name, `access violation: ${name} is behind a symlink`);
    try {
      // O_NOFOLLOW: a symlink swapped in after the realpath check is refused, not followed.
      return await openFile(real);
    } catch (err) {
      throw fsErrorToTftp(err, name);
    }
  }
}
