import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { canonicalFileName } from './file-name.js';
import type { Store, StoreEntry } from './store.js';

/** Options of {@link FolderStore}. */
export interface FolderStoreOptions {
  /**
   * Serve symbolic links whose target lies outside the root. Off by default: a link planted
   * in the TFTP directory must not expose the rest of the disk.
   */
  followSymlinksOutside?: boolean;
  /** Bytes of file content kept in memory between requests (default 64 MiB; 0 disables). */
  cacheBytes?: number;
}

/**
 * The proxy's TFTP directory on disk.
 *
 * Every `get` checks the file's identity (inode, size, modification time), so a file replaced
 * by an upload, a copy or an atomic rename is served at once without a restart; unchanged
 * files are served from memory. Names are checked with {@link canonicalFileName} and the real
 * path must stay inside the root, so `..`, absolute paths, backslashes and symlinks out of the
 * root are refused.
 *
 * @example
 * ```ts
 * const store = new FolderStore('/var/lib/tftpboot');
 * const entry = await store.get('Desktops/320x196x4/List.xml');
 * const stop = store.watch((name) => console.log('changed', name));
 * ```
 */
export class FolderStore implements Store {
  readonly root: string;
  readonly #opts: FolderStoreOptions;
  readonly #content: LRUCache<string, StoreEntry> | undefined;
  #realRoot: Promise<string> | undefined;
  #watcher: FSWatcher | undefined;
  readonly #listeners = new Set<(name: string) => void>();

  constructor(root: string, opts: FolderStoreOptions = {}) {
    this.root = path.resolve(root);
    this.#opts = opts;
    const cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
    this.#content =
      cacheBytes > 0
        ? new LRUCache<string, StoreEntry>({
            maxSize: cacheBytes,
            sizeCalculation: (e) => Math.max(1, e.size),
          })
        : undefined;
  }

  async get(name: string, opts?: { signal?: AbortSignal }): Promise<StoreEntry | undefined> {
    const rel = canonicalFileName(name);
    // A cached file costs one stat, not a realpath too: the entry passed the root check when it
    // was read, and a file swapped since (for a symlink out of the root, say) has another
    // identity, so it misses here and takes the checked path below.
    const cached = this.#content?.get(rel);
    if (cached !== undefined) {
      opts?.signal?.throwIfAborted();
      if ((await statFile(path.join(this.root, ...rel.split('/')))) === cached.version)
        return { ...cached, name };
    }
    const full = await this.#inside(rel);
    if (full === undefined) return undefined;
    // Bounded: a file rewritten faster than we can read it twice in a row is reported missing
    // rather than served half-old, half-new.
    for (let attempt = 0; attempt < 3; attempt++) {
      opts?.signal?.throwIfAborted();
      const before = await statFile(full);
      if (before === undefined) return undefined;
      const data = await readFile(full).catch(() => undefined);
      if (data === undefined) return undefined;
      const after = await statFile(full);
      if (after !== before) continue;
      const entry: StoreEntry = { name: rel, size: data.byteLength, version: before, data };
      if (this.#content && data.byteLength <= (this.#content.maxSize ?? 0)) this.#content.set(rel, entry);
      return { ...entry, name };
    }
    return undefined;
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
    this.#content?.delete(rel);
  }

  async delete(name: string): Promise<boolean> {
    const rel = canonicalFileName(name);
    const full = await this.#inside(rel);
    if (full === undefined) return false;
    this.#content?.delete(rel);
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

/** A fingerprint that changes when the file is replaced or rewritten, or undefined. */
async function statFile(full: string): Promise<string | undefined> {
  try {
    const s = await stat(full, { bigint: true });
    if (!s.isFile()) return undefined;
    return `${s.dev}-${s.ino}-${s.size}-${s.mtimeNs}-${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}
