import { createHash } from 'node:crypto';
import type { Store, StoreEntry } from './store.js';

/**
 * A store held in memory: for tests, for files generated at start-up, and as the simplest
 * example of the {@link Store} contract.
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ 'RingList.xml': '<CiscoIPPhoneRingList/>' });
 * const entry = await store.get('RingList.xml'); // { name, size: 23, version, data }
 * ```
 */
export class MemoryStore implements Store {
  readonly #files = new Map<string, StoreEntry>();
  readonly #listeners = new Set<(name: string) => void>();

  constructor(files: Record<string, Uint8Array | string> = {}) {
    for (const [name, data] of Object.entries(files)) this.#set(name, toBytes(data));
  }

  async get(name: string, opts?: { signal?: AbortSignal }): Promise<StoreEntry | undefined> {
    opts?.signal?.throwIfAborted();
    return this.#files.get(name);
  }

  async put(name: string, data: Uint8Array | string): Promise<void> {
    this.#set(name, toBytes(data));
    this.#notify(name);
  }

  async delete(name: string): Promise<boolean> {
    const existed = this.#files.delete(name);
    if (existed) this.#notify(name);
    return existed;
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.#files.keys()].filter((n) => n.startsWith(prefix)).sort();
  }

  watch(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(name: string, data: Uint8Array): void {
    // A private copy: a caller that reuses its buffer must not change what is served.
    const copy = new Uint8Array(data);
    const version = createHash('sha256').update(copy).digest('hex').slice(0, 16);
    this.#files.set(name, { name, size: copy.byteLength, version, data: copy });
  }

  #notify(name: string): void {
    for (const listener of this.#listeners) listener(name);
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}
