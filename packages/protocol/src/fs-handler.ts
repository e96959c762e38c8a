/**
 * A read handler that serves files from a root folder through {@link SafeRoot}: names checked
 * by `resolveSafePath`, symlinks followed only while they stay inside the root, small files
 * shared in memory, large ones read by offset through one shared descriptor, and a file
 * changed on disk served anew at once.
 */
import type { ReadHandler, ReadResult } from './handler.js';
import { SafeRoot, type SafeRootOptions } from './safe-root.js';

export { resolveSafePath } from './safe-path.js';

/** Options of {@link createFsHandler}. */
export interface FsHandlerOptions extends Omit<SafeRootOptions, 'symlinks' | 'resolveName'> {
  /** Follow symlinks that stay inside the root (default true); false refuses any symlink. */
  followSymlinks?: boolean;
  /** Bytes of small file contents kept in memory across transfers (default 32 MiB). */
  cacheBytes?: number;
  /**
   * Files up to this size are read whole and kept in memory (default 256 KiB); larger ones are
   * read by offset from a shared descriptor.
   */
  maxCachedFileBytes?: number;
}

/**
 * Serve the files under `root`. Every name is checked with `resolveSafePath`, then its real
 * path must still be inside the real root; a folder is answered ERROR 0 "Is a directory" (as
 * tftpd-hpa), exhausted descriptors ERROR 0 "server busy". Files of any size are served,
 * past 4 GiB too (with the `rollover` block numbering a client asks for).
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
  const safe = new SafeRoot(root, {
    ...opts,
    symlinks: (opts.followSymlinks ?? true) ? 'inside' : 'never',
    ...(opts.cacheBytes !== undefined && { wholeCacheBytes: opts.cacheBytes }),
    ...(opts.maxCachedFileBytes !== undefined && { wholeFileBytes: opts.maxCachedFileBytes }),
  });
  return async (req): Promise<ReadResult> => ({ content: await safe.open(req.filename) });
}
