import type { Content } from '@ptftp/protocol';

/**
 * One file as a store holds it: its bytes in memory (`data`), or a {@link Content} handle read
 * by offset (`content`, for files too large to hold whole). A store gives one of the two; a
 * `content` it returns carries one reference for the caller, who releases it.
 */
export interface StoreEntry {
  /** The name it was asked for. */
  name: string;
  /** Its length in bytes (equals `data.byteLength` or `content.size`). */
  size: number;
  /**
   * A tag that changes whenever the content changes (a content hash, or mtime/size/inode for a
   * folder), so callers can tell a replaced file from the one they saw before.
   */
  version: string;
  /** The whole file, for small files held in memory. */
  data?: Uint8Array;
  /** The file as a handle read by offset (one reference for the caller). */
  content?: Content;
}

/**
 * Where the proxy's own files live. Only `get` is required; the optional methods let operators
 * upload, remove, list and watch files through the same object.
 *
 * Implement it for your own storage (a database, an object store) and prove it with
 * `runStoreCompliance` from `@ptftp/resolver/testing`.
 *
 * @example
 * ```ts
 * const store: Store = {
 *   async get(name) {
 *     const data = await myDb.read(name);
 *     return data && { name, size: data.byteLength, version: String(data.byteLength), data };
 *   },
 * };
 * ```
 */
export interface Store {
  /** The file, or `undefined` when the store does not hold it. Never throws for a missing name. */
  get(name: string, opts?: { signal?: AbortSignal }): Promise<StoreEntry | undefined>;
  /** Add or replace a file. */
  put?(name: string, data: Uint8Array): Promise<void>;
  /** Remove a file; `true` when it existed. */
  delete?(name: string): Promise<boolean>;
  /** Names held, optionally only those that start with `prefix`. */
  list?(prefix?: string): AsyncIterable<string> | Promise<string[]>;
  /** Calls `listener(name)` when a file is added, replaced or removed; returns an unsubscribe. */
  watch?(listener: (name: string) => void): () => void;
}

/** Collects `store.list()` whichever shape it returns. */
export async function listStore(store: Store, prefix?: string): Promise<string[]> {
  if (!store.list) return [];
  const listed = store.list(prefix);
  if (Array.isArray(listed) || listed instanceof Promise) return [...(await listed)];
  const names: string[] = [];
  for await (const name of listed as AsyncIterable<string>) names.push(name);
  return names;
}
