/**
 * A read handler that serves files from a root folder: names checked by `resolveSafePath`,
 * symlinks followed only while they stay inside the root, contents shared between transfers
 * and refreshed when the file changes on disk.
 */
import { constants, promises as fs } from 'node:fs';
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

async function readExactly(handle: fs.FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let offset = 0;
  while (offset < size) {
    const { bytesRead } = await handle.read(buf, offset, size - offset, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  // A file truncated while being read is served as it was read, never with stale bytes.
  return offset === size ? buf : buf.subarray(0, offset);
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

  return async (req): Promise<ReadResult> => {
    const full = resolveSafePath(base, req.filename);
    // Fast path for a boot storm: one stat. The cache only holds files that passed the checks
    // below under this very name; the same (dev, ino, size, mtime, ctime) is that same file.
    const quick = await fs.stat(full).catch(() => undefined);
    if (quick?.isFile()) {
      const hit = cache.peek(full, fileVersion(quick));
      if (hit !== undefined) return hit;
    }
    realRoot ??= fs.realpath(base).catch((err: unknown) => {
      realRoot = undefined;
      throw err;
    });
    let real: string;
    let rootReal: string;
    try {
      rootReal = await realRoot;
      real = await fs.realpath(full);
    } catch (err) {
      throw fsErrorToTftp(err, req.filename);
    }
    if (!isInside(rootReal, real))
      throw new AccessViolationError(
        req.filename,
        `access violation: ${req.filename} leads outside the root`,
      );
    if (!followSymlinks && real !== path.join(rootReal, path.relative(base, full)))
      throw new AccessViolationError(req.filename, `access violation: ${req.filename} is behind a symlink`);
    let handle: fs.FileHandle;
    try {
      // O_NOFOLLOW: a symlink swapped in after the realpath check is refused, not followed.
      handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      throw fsErrorToTftp(err, req.filename);
    }
    let streaming = false;
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new FileNotFoundError(req.filename, `not a regular file: ${req.filename}`);
      if (st.size > maxCached) {
        streaming = true;
        return { stream: handle.createReadStream({ start: 0, end: st.size - 1 }), size: st.size };
      }
      return await cache.get(full, fileVersion(st), () => readExactly(handle, st.size));
    } finally {
      if (!streaming) await handle.close();
    }
  };
}
