/**
 * File contents shared between transfers. An entry is valid only while the file keeps the same
 * (device, inode, size, mtime, ctime): a file replaced or rewritten on disk is read anew, with
 * no restart. Concurrent reads of one version share one read (a boot storm reads a file once).
 */

interface Entry {
  readonly version: string;
  readonly data: Buffer;
}

/** A byte-bounded LRU of file contents keyed by path and version. */
export class FileContentCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** True when some version of `path` is cached (worth a stat to see if it is still current). */
  has(path: string): boolean {
    return this.entries.has(path);
  }

  /** The cached content of `path` if it is still at `version`. */
  peek(path: string, version: string): Buffer | undefined {
    const hit = this.entries.get(path);
    if (hit === undefined || hit.version !== version) return undefined;
    this.entries.delete(path);
    this.entries.set(path, hit);
    return hit.data;
  }

  /** The content of `path` at `version`, loaded with `load` unless cached or being loaded. */
  async get(path: string, version: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(path);
    if (hit !== undefined && hit.version === version) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit.data;
    }
    const key = `${version}\0${path}`;
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = load().finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
      const data = await pending;
      this.store(path, version, data);
      return data;
    }
    return pending;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  private store(path: string, version: string, data: Buffer): void {
    const old = this.entries.get(path);
    if (old !== undefined) {
      this.entries.delete(path);
      this.bytes -= old.data.length;
    }
    if (data.length > this.maxBytes) return;
    this.entries.set(path, { version, data });
    this.bytes += data.length;
    for (const [p, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(p);
      this.bytes -= e.data.length;
    }
  }
}
