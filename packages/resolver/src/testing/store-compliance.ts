import type { Store } from '../store.js';
import { listStore } from '../store.js';
import { errorCode, patternBytes, type TestApi } from './test-api.js';

/** What a store fixture returns: the store, seeded with the given files, and how to clean up. */
export interface StoreFixture {
  store: Store;
  cleanup?: () => Promise<void> | void;
}

/** Builds a store that holds exactly `files` (for a read-only store, seed it any way you like). */
export type MakeStore = (files: Record<string, Uint8Array>) => Promise<StoreFixture> | StoreFixture;

const SEED = {
  'SEP001122334455.cnf.xml': patternBytes(1500, 1),
  'RingList.xml': new TextEncoder().encode('<CiscoIPPhoneRingList></CiscoIPPhoneRingList>'),
  'Desktops/320x196x4/List.xml': patternBytes(700, 3),
  'empty.txt': new Uint8Array(0),
  'all-bytes.bin': patternBytes(512, 0),
};

/**
 * The contract every {@link Store} must keep, as a test suite. Run it in your own tests with
 * your test framework's functions; optional methods are tested only when the store has them.
 *
 * @example
 * ```ts
 * import { describe, it, expect } from 'vitest';
 * import { runStoreCompliance } from '@ptftp/resolver/testing';
 * runStoreCompliance('MyStore', (files) => ({ store: new MyStore(files) }), { describe, it, expect });
 * ```
 */
export function runStoreCompliance(name: string, make: MakeStore, t: TestApi): void {
  const { describe, it, expect } = t;
  const fixtures: StoreFixture[] = [];
  const open = async (files: Record<string, Uint8Array> = SEED) => {
    const seeded: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(files)) seeded[k] = new Uint8Array(v);
    const f = await make(seeded);
    fixtures.push(f);
    return f.store;
  };
  const cleanupAll = async () => {
    for (const f of fixtures.splice(0)) await f.cleanup?.();
  };
  const run = (title: string, fn: () => Promise<void>) =>
    it(title, async () => {
      try {
        await fn();
      } finally {
        await cleanupAll();
      }
    });

  describe(`Store compliance: ${name}`, () => {
    run('get returns the exact bytes, size and a version for every seeded file', async () => {
      const store = await open();
      for (const [n, data] of Object.entries(SEED)) {
        const entry = await store.get(n);
        expect(entry?.name).toBe(n);
        expect(entry?.size).toBe(data.byteLength);
        expect(Buffer.from(entry?.data ?? []).equals(Buffer.from(data))).toBe(true);
        expect(typeof entry?.version).toBe('string');
        expect((entry?.version ?? '').length).toBeGreaterThan(0);
      }
    });

    run('get resolves undefined (does not throw) for a missing name', async () => {
      const store = await open();
      expect(await store.get('SEPFFFFFFFFFFFF.cnf.xml')).toBeUndefined();
      expect(await store.get('Desktops/none.xml')).toBeUndefined();
    });

    run('traversal names never return data (undefined or an access violation)', async () => {
      const store = await open();
      for (const bad of ['../RingList.xml', 'a/../../RingList.xml', '..\\RingList.xml', '/../etc/passwd']) {
        let outcome: unknown;
        let error: unknown;
        try {
          outcome = await store.get(bad);
        } catch (err) {
          error = err;
        }
        expect(outcome).toBeUndefined();
        if (error !== undefined) expect(errorCode(error)).toBe('PTFTP_ERR_ACCESS_VIOLATION');
      }
    });

    run('concurrent gets of one name return identical bytes', async () => {
      const store = await open();
      const all = await Promise.all(Array.from({ length: 20 }, () => store.get('SEP001122334455.cnf.xml')));
      for (const e of all)
        expect(Buffer.from(e?.data ?? []).equals(Buffer.from(SEED['SEP001122334455.cnf.xml']))).toBe(true);
    });

    run('put adds and replaces a file; the version changes with the content', async () => {
      const store = await open();
      if (!store.put) return;
      await store.put('new/file.bin', patternBytes(100, 9));
      const first = await store.get('new/file.bin');
      expect(Buffer.from(first?.data ?? []).equals(Buffer.from(patternBytes(100, 9)))).toBe(true);
      await store.put('new/file.bin', patternBytes(101, 4));
      const second = await store.get('new/file.bin');
      expect(second?.size).toBe(101);
      expect(Buffer.from(second?.data ?? []).equals(Buffer.from(patternBytes(101, 4)))).toBe(true);
      expect(second?.version).not.toBe(first?.version);
    });

    run('delete removes a file and reports whether it existed', async () => {
      const store = await open();
      if (!store.delete) return;
      expect(await store.delete('RingList.xml')).toBe(true);
      expect(await store.get('RingList.xml')).toBeUndefined();
      expect(await store.delete('RingList.xml')).toBe(false);
    });

    run('list returns the seeded names, filtered by prefix', async () => {
      const store = await open();
      if (!store.list) return;
      expect((await listStore(store)).sort()).toEqual(Object.keys(SEED).sort());
      expect(await listStore(store, 'Desktops/')).toEqual(['Desktops/320x196x4/List.xml']);
    });

    run('watch reports a put name, and stops after unsubscribe', async () => {
      const store = await open();
      if (!store.watch || !store.put) return;
      const seen: string[] = [];
      const stop = store.watch((n) => seen.push(n));
      try {
        // Some stores watch through the OS (fs.watch): give it a moment to arm, bounded.
        await new Promise((r) => setTimeout(r, 50));
        await store.put('watched.xml', patternBytes(10));
        for (let i = 0; i < 100 && !seen.includes('watched.xml'); i++)
          await new Promise((r) => setTimeout(r, 20));
        expect(seen.includes('watched.xml')).toBe(true);
      } finally {
        stop();
      }
      seen.length = 0;
      await store.put('after.xml', patternBytes(10));
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.includes('after.xml')).toBe(false);
    });
  });
}
