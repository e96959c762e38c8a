/**
 * A write handler that stores uploads under a root folder. Uploads go to a temporary file in
 * the target folder and appear under their name only when complete, so a reader never sees a
 * partial file; nothing is ever written outside the root.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AccessViolationError, DiskFullError, FileExistsError } from './errors.js';
import { fsErrorToTftp } from './fs-errors.js';
import type { WriteHandler, WriteSink } from './handler.js';
import { isInside, resolveSafePath } from './safe-path.js';

/** Options of {@link createFsWriteHandler}. */
export interface FsWriteHandlerOptions {
  /** Replace existing files (default false: ERROR 6 "file exists"). */
  overwrite?: boolean;
  /** Largest upload accepted, in bytes (default 64 MiB): beyond it ERROR 3 "disk full". */
  maxBytes?: number;
  /** Permissions of created files (default 0o644). */
  fileMode?: number;
}

function tooLarge(filename: string, maxBytes: number): DiskFullError {
  return new DiskFullError(filename, `${filename}: upload over ${maxBytes} bytes`);
}

/**
 * Store uploads under `root`, in existing folders only.
 *
 * @example
 * ```ts
 * import { createFsHandler, createFsWriteHandler, createServer } from '@ptftp/protocol';
 *
 * const server = createServer({
 *   handler: createFsHandler('/srv/tftp'),
 *   writeHandler: createFsWriteHandler('/srv/tftp/uploads', { maxBytes: 1 << 20 }),
 * });
 * ```
 */
export function createFsWriteHandler(root: string, opts: FsWriteHandlerOptions = {}): WriteHandler {
  const overwrite = opts.overwrite ?? false;
  const maxBytes = opts.maxBytes ?? 64 << 20;
  const fileMode = opts.fileMode ?? 0o644;
  const base = path.resolve(root);

  return async (req): Promise<WriteSink> => {
    const full = resolveSafePath(base, req.filename);
    if (req.size !== undefined && req.size > maxBytes) throw tooLarge(req.filename, maxBytes);
    let folder: string;
    let rootReal: string;
    try {
      rootReal = await fs.realpath(base);
      folder = await fs.realpath(path.dirname(full));
    } catch (err) {
      throw fsErrorToTftp(err, req.filename);
    }
    if (!isInside(rootReal, folder))
      throw new AccessViolationError(
        req.filename,
        `access violation: ${req.filename} leads outside the root`,
      );
    const target = path.join(folder, path.basename(full));
    const existing = await fs.lstat(target).catch(() => undefined);
    if (existing !== undefined) {
      if (!existing.isFile())
        throw new AccessViolationError(
          req.filename,
          `access violation: ${req.filename} is not a regular file`,
        );
      if (!overwrite) throw new FileExistsError(req.filename);
    }
    // Loaded on first use: node:crypto costs every process about 2 MiB of RSS, and a server
    // without uploads never needs it.
    const { randomBytes } = await import('node:crypto');
    const temp = path.join(folder, `.${path.basename(full)}.${randomBytes(6).toString('hex')}.part`);
    const handle = await fs.open(temp, 'wx', fileMode).catch((err: unknown) => {
      throw fsErrorToTftp(err, req.filename);
    });
    let written = 0;
    let closed = false;
    const discard = (): void => {
      if (!closed) {
        closed = true;
        handle.close().catch(() => {});
      }
      fs.unlink(temp).catch(() => {});
    };
    return {
      async write(chunk) {
        written += chunk.length;
        if (written > maxBytes) throw tooLarge(req.filename, maxBytes);
        await handle.write(chunk);
      },
      async end() {
        closed = true;
        await handle.close();
        if (overwrite) {
          await fs.rename(temp, target);
          return;
        }
        // link() fails if the name appeared meanwhile: no upload silently replaces another.
        try {
          await fs.link(temp, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(req.filename);
          throw err;
        } finally {
          await fs.unlink(temp).catch(() => {});
        }
      },
      abort() {
        discard();
      },
    };
  };
}
