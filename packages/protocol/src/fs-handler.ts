/**
 * A read handler that serves files from a root folder: names checked by `resolveSafePath`,
 * symlinks followed only while they stay inside the root, contents shared between transfers
 * and refreshed when the file changes on disk.
 *
 * The file-system calls use node:fs callbacks, not node:fs/promises: a cold boot storm makes
 * four calls per phone, and each promise-based call allocates a FileHandle, promises and their
 * reactions that live as long as the thread pool queue is deep (docs/packages/protocol.md has
 * the storm figures).
 */
import fs, { constants, type Stats } from 'node:fs';
import path from 'node:path';
import { AccessViolationError, FileNotFoundError } from './errors.js';
import { FileContentCache, fileVersion } from './file-cache.js';
import { fsErrorToTftp } from './fs-errors.js';
import type { ReadHandler, ReadResult } from './handler.js';
import { isInside, resolveSafePath } from './safe-path.js';

export { resolveSafePath } from './safe-path.js';

/** Options of {@link createFsHandler}. */
export interface FsHandlerOptions {
  /** Follow symlinks that stay inside the root (default true); false refuses any symlink. */
  followSymlinks?: boolean;
  /** Bytes of file contents kept in memory across transfers (default 32 MiB). */
  cacheBytes?: number;
  /** Files larger than this are streamed from disk instead of cached (default 8 MiB). */
  maxCachedFileBytes?: number;
}

/** `O_NOFOLLOW` where the platform has it (not on Windows: there every name takes realpath). */
const NOFOLLOW: number | undefined = constants.O_NOFOLLOW;
/** Read-only, never through a symlink in the last segment, never blocking on a FIFO. */
const OPEN_FLAGS = constants.O_RDONLY | (NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
/** How long the root's real path is trusted before it is looked up again. */
const ROOT_RECHECK_MS = 1000;

const ignore = (): void => {};

function statFile(file: string): Promise<Stats | undefined> {
  return new Promise((resolve) => fs.stat(file, (err, st) => resolve(err ? undefined : st)));
}

function realPath(file: string): Promise<string> {
  return new Promise((resolve, reject) =>
    fs.realpath.native(file, (err, p) => (err ? reject(err) : resolve(p))),
  );
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
function readExactly(fd: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  return new Promise((resolve, reject) => {
    const next = (offset: number): void => {
      // A file truncated while being read is served as it was read, never with stale bytes.
      if (offset >= size) {
        resolve(buf);
        return;
      }
      fs.read(fd, buf, offset, size - offset, offset, (err, bytesRead) => {
        if (err) reject(err);
        else if (bytesRead === 0) resolve(buf.subarray(0, offset));
        else next(offset + bytesRead);
      });
    };
    next(0);
  });
}

/**
 * Serve the files under `root`. Every name is checked with {@link resolveSafePath}, then its
 * real path must still be inside the real root; directories and devices are not served.
 *
 * @example
 * ```ts
 * import { createFsHandler, createServer } from '@ptftp/protocol';
 *
 * const server = createServer({ handler: createFsHandler('/srv/tftp') });
 * await server.listen(['0.0.0.0:69', '[::]:69']);
 * ```
 */
export function createFsHandler(root: string, opts: FsHandlerOptions = {}): ReadHandler {
  const followSymlinks = opts.followSymlinks ?? true;
  const maxCached = opts.maxCachedFileBytes ?? 8 << 20;
  const cache = new FileContentCache(opts.cacheBytes ?? 32 << 20);
  const base = path.resolve(root);
  let realRoot: Promise<string> | undefined;
  let realRootAt = 0;

  /** The real path of `full`, checked to stay inside the root (and not behind a symlink if so configured). */
  async function checkedRealPath(full: string, filename: string, rootReal: string): Promise<string> {
    let real: string;
    try {
      real = await realPath(full);
    } catch (err) {
      throw fsErrorToTftp(err, filename);
    }
    if (!isInside(rootReal, real))
      throw new AccessViolationError(filename, `access violation: ${filename} leads outside the root`);
    if (!followSymlinks && real !== path.join(rootReal, path.relative(base, full)))
      throw new AccessViolationError(filename, `access violation: ${filename} is behind a symlink`);
    return real;
  }

  /** Open `filename`, refusing anything that resolves outside the root. */
  async function openChecked(full: string, filename: string): Promise<{ fd: number; st: Stats }> {
    // The root's real path is looked up again once it is a second old: a root that is a symlink
    // repointed to a new folder (a release switch) serves the new folder within a second,
    // while a cold storm still pays one lookup per second, not one per phone.
    const now = performance.now();
    if (realRoot === undefined || now - realRootAt > ROOT_RECHECK_MS) {
      realRootAt = now;
      realRoot = realPath(base).catch((err: unknown) => {
        realRoot = undefined;
        throw err;
      });
    }
    let rootReal: string;
    try {
      rootReal = await realRoot;
    } catch (err) {
      throw fsErrorToTftp(err, filename);
    }
    if (NOFOLLOW !== undefined && !filename.includes('/')) {
      // A name in the root itself (a phone's SEP<MAC>.cnf.xml): its one possible symlink is the
      // last segment, which O_NOFOLLOW refuses. No realpath needed, which saves a cold boot
      // storm a file-system call per phone; a symlink takes the checked path below.
      try {
        return await openFile(path.join(rootReal, filename));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ELOOP' && code !== 'EMLINK') throw fsErrorToTftp(err, filename);
      }
    }
    const real = await checkedRealPath(full, filename, rootReal);
    try {
      // O_NOFOLLOW: a symlink swapped in after the realpath check is refused, not followed.
      return await openFile(real);
    } catch (err) {
      throw fsErrorToTftp(err, filename);
    }
  }

  return async (req): Promise<ReadResult> => {
    const full = resolveSafePath(base, req.filename);
    // Fast path for a warm boot storm: one stat. The cache only holds files that passed the
    // checks below under this very name; the same (dev, ino, size, mtime, ctime) is that same file.
    if (cache.has(full)) {
      const quick = await statFile(full);
      if (quick?.isFile()) {
        const hit = cache.peek(full, fileVersion(quick));
        if (hit !== undefined) return hit;
      }
    }
    const { fd, st } = await openChecked(full, req.filename);
    let streaming = false;
    try {
      if (!st.isFile()) throw new FileNotFoundError(req.filename, `not a regular file: ${req.filename}`);
      if (st.size > maxCached) {
        streaming = true;
        // The stream owns the descriptor from here and closes it when it ends or is destroyed.
        return { stream: fs.createReadStream('', { fd, start: 0, end: st.size - 1 }), size: st.size };
      }
      return await cache.get(full, fileVersion(st), () => readExactly(fd, st.size));
    } finally {
      // Not awaited: the transfer need not wait for the close to start.
      if (!streaming) fs.close(fd, ignore);
    }
  };
}
