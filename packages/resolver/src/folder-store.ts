import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileNotFoundError, SafeRoot } from '@ptftp/protocol';
import { canonicalFileName } from './file-name.js';
import type { Store, StoreEntry } from './store.js';

/** Options of {@link FolderStore}. */
export interface FolderStoreOptions {
  /**
   * Serve symbolic links whose target lies outside the root. Off by default: a link planted
   * in the TFTP directory must not expose the rest of the disk.
   */
  followSymlinksOutside?: boolean;
  /** Bytes of small files (up to `wholeFileBytes`) kept in memory between requests (default 32 MiB). */
  cacheBytes?: number;
  /** Files up to this size are read whole and kept in memory (default 256 KiB); larger ones are read by offset. */
  wholeFileBytes?: number;
  /** Descriptors of large files held open at most (default 512); beyond it `get` throws `ServerBusyError`. */
  maxOpenFiles?: number;
  /** Bytes of large-file chunks shared between readers (default 16 MiB). */
  chunkCacheBytes?: number;
}

/**
 * The proxy's TFTP directory on disk, on the same safe-folder core as `createFsHandler`
 * (`SafeRoot` from `@ptftp/protocol`).
 *
 * Every `get` checks the file's identity (inode, size, modification time), so a file replaced
 * by an upload, a copy or an atomic rename is served at once without a restart. Names are
 * checked with {@link canonicalFileName} and the real path must stay inside the root (looked
 * up again once a second, so a root that is a symlink to a release folder follows a switch).
 *
 * `get` returns a `content` handle (one reference for the caller, who releases it): small
 * files (up to 256 KiB) are held in memory and also given as `data`; larger ones are read by
 * offset through one descriptor shared by every reader of that version, never loaded whole.
 * It resolves `undefined` only for a missing name; a folder throws `IsDirectoryError`, a
 * refused file `AccessViolationError`, exhausted descriptors `ServerBusyError` — none of them
 * a reason to ask another server for the file.
 *
 * @example
 * ```ts
 * const store = new FolderStore('/var/lib/tftpboot');
 * const entry = await store.get('Desktops/320x196x4/List.xml');
 * entry?.content?.release();
 * const stop = store.watch((name) => console.log('changed', name));
 * ```
 */
export class FolderStore implements Store {
  readonly root: string;
  readonly #opts: FolderStoreOptions;
  readonly #safe: SafeRoot;
  #realRoot: Promise<string> | undefined;
  #watcher: FSWatcher | undefined;
  readonly #listeners = new Set<(name: string) => void>();

  constructor(root: string, opts: FolderStoreOptions = {}) {
    this.root = path.resolve(root);
    this.#opts = opts;
    this.#safe = new SafeRoot(this.root, {
      symlinks: opts.followSymlinksOutside ? 'anywhere' : 'inside',
      resolveName: (base, rel) => path.join(base, ...rel.split('/')),
      ...(opts.cacheBytes !== undefined && { wholeCacheBytes: opts.cacheBytes }),
      ...(opts.wholeFileBytes !== undefined && { wholeFileBytes: opts.wholeFileBytes }),
      ...(opts.maxOpenFiles !== undefined && { maxOpenFiles: opts.maxOpenFiles }),
      ...(opts.chunkCacheBytes !== undefined && { chunkCacheBytes: opts.chunkCacheBytes }),
    });
  }

  /** Descriptors of large files open now, and bytes of their shared chunks (for status pages). */
  get stats(): { openFiles: number; chunkCacheBytes: number } {
    return { openFiles: this.#safe.files.openFiles, chunkCacheBytes: this.#safe.files.cachedBytes };
  }

  async get(name: string, opts?: { signal?: AbortSignal }): Promise<StoreEntry | undefined> {
    const rel = canonicalFileName(name);
    opts?.signal?.throwIfAborted();
    let content: Awaited<ReturnType<SafeRoot['open']>>;
    try {
      content = await this.#safe.open(rel);
    } catch (err) {
      if (err instanceof FileNotFoundError) return undefined;
      throw err;
    }
    const size = content.size ?? 0;
    // A small file is in memory already: its bytes are given as `data` too (a view, no copy).
    const whole = content.peek(0, size);
    return {
      name,
      size,
      version: content.version ?? '',
      content,
      ...(whole !== undefined && whole.byteLength === size && { data: whole }),
    };
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const rel = canonicalFileName(name);
    const full = path.join(this.root, ...rel.split('/'));
    await mkdir(path.dirname(full), { recursive: true });
    // Write beside the target then rename: a reader sees the old file or the new one, never a
    // half-written one. The leading dot keeps the temporary file out of get() and list().
    const tmp = path.join(
      path.dirname(full),
      `.${path.basename(full)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      await writeFile(tmp, data);
      await rename(tmp, full);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(name: string): Promise<boolean> {
    const rel = canonicalFileName(name);
    const full = await this.#inside(rel);
    if (full === undefined) return false;
    try {
      await unlink(full);
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch {
      return [];
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const dir = path.relative(this.root, entry.parentPath ?? entry.path);
      const rel = [...(dir ? dir.split(path.sep) : []), entry.name].join('/');
      if (rel.split('/').some((s) => s.startsWith('.'))) continue;
      if (rel.startsWith(prefix)) names.push(rel);
    }
    return names.sort();
  }

  /**
   * Reports names added, replaced or removed under the root (through `fs.watch`, recursive).
   * Notifications are hints: `get` never depends on them to see a new version.
   */
  watch(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#watcher) {
      this.#watcher = fsWatch(this.root, { recursive: true }, (_event, filename) => {
        if (!filename) return;
        const rel = filename.toString().split(path.sep).join('/');
        if (rel.split('/').some((s) => s.startsWith('.'))) return;
        for (const l of this.#listeners) l(rel);
      });
      this.#watcher.on('error', () => {});
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#watcher?.close();
        this.#watcher = undefined;
      }
    };
  }

  /** Absolute path of `rel` when it exists and its real path lies inside the root. */
  async #inside(rel: string): Promise<string | undefined> {
    const full = path.join(this.root, ...rel.split('/'));
    if (!full.startsWith(this.root + path.sep)) return undefined;
    if (this.#opts.followSymlinksOutside) return full;
    this.#realRoot ??= realpath(this.root).catch(() => this.root);
    const realRoot = await this.#realRoot;
    const real = await realpath(full).catch(() => undefined);
    if (real === undefined || !real.startsWith(realRoot + path.sep)) return undefined;
    return real;
  }
}
