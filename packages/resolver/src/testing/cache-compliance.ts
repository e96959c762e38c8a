import { createHash } from 'node:crypto';
import { bufferContent } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import type { ResolverCache } from '../resolver-cache.js';
import { errorCode, patternBytes, type TestApi } from './test-api.js';

/** What a cache fixture returns: an empty cache, how to move its clock, and how to clean up. */
export interface CacheFixture {
  cache: ResolverCache;
  /** Moves the cache's clock forward (TTL tests run only when given). */
  advance?: (ms: number) => void;
  cleanup?: () => Promise<void> | void;
}

/** Builds an empty cache with these lifetimes. */
export type MakeCache = (opts: {
  ttlSeconds: number;
  negativeTtlSeconds: number;
}) => Promise<CacheFixture> | CacheFixture;

const META = { clusterId: 'B', address: 'memory://B' };
const sha16 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex').slice(0, 16);

/**
 * The contract every {@link ResolverCache} must keep, as a test suite: exact bytes and content
 * hashes, files readable while they arrive, nothing kept of a failed or unkept fetch, "not
 * found" answers, flush by name / pattern / device / cluster, device affinity, lifetimes.
 *
 * @example
 * ```ts
 * import { describe, it, expect } from 'vitest';
 * import { runCacheCompliance } from '@ptftp/resolver/testing';
 * runCacheCompliance('RedisCache', (o) => ({ cache: new RedisCache(o) }), { describe, it, expect });
 * ```
 */
export function runCacheCompliance(name: string, make: MakeCache, t: TestApi): void {
  const { describe, it, expect } = t;
  const fixtures: CacheFixture[] = [];
  const open = async (opts = { ttlSeconds: 60, negativeTtlSeconds: 10 }) => {
    const f = await make(opts);
    fixtures.push(f);
    return f;
  };
  const run = (title: string, fn: () => Promise<void>) =>
    it(title, async () => {
      try {
        await fn();
      } finally {
        for (const f of fixtures.splice(0)) {
          await f.cache.close();
          await f.cleanup?.();
        }
      }
    });
  const fillWith = async (cache: ResolverCache, n: string, data: Uint8Array, device?: string) => {
    const fill = cache.fill(n);
    fill.size?.(data.byteLength);
    for (let i = 0; i < data.byteLength; i += 1000) await fill.write(data.subarray(i, i + 1000));
    await fill.finish(META, { store: true, ...(device !== undefined && { device }) });
  };
  const getFile = async (cache: ResolverCache, n: string) => {
    const hit = await cache.get(n);
    return hit?.kind === 'file' ? hit.file : undefined;
  };

  describe(`ResolverCache compliance: ${name}`, () => {
    run(
      'a miss is undefined; a filled file comes back byte-exact with its size, sha-256 version and source',
      async () => {
        const { cache } = await open();
        expect(await cache.get('SEP001122334455.cnf.xml')).toBeUndefined();
        const data = patternBytes(5000, 3);
        await fillWith(cache, 'SEP001122334455.cnf.xml', data);
        const file = await getFile(cache, 'SEP001122334455.cnf.xml');
        expect(file === undefined).toBe(false);
        const bytes = await readAll(file!.content);
        const slice = await file!.content.read(100, 50);
        file!.content.release();
        expect(sha16(slice)).toBe(sha16(data.subarray(100, 150)));
        expect([sha16(bytes), file!.size, file!.version, file!.clusterId, file!.address]).toEqual([
          sha16(data),
          5000,
          sha16(data),
          'B',
          'memory://B',
        ]);
        expect(cache.stats().entries).toBe(1);
        expect(cache.stats().bytes).toBe(5000);
      },
    );

    run('a file is readable while it arrives: bytes written are read before the fill finishes', async () => {
      const { cache } = await open();
      const data = patternBytes(3000, 5);
      const fill = cache.fill('big.bin');
      fill.size?.(3000);
      const reader = fill.content.retain();
      await fill.write(data.subarray(0, 1000));
      const head = await reader.read(0, 1000);
      const tail = reader.read(1000, 2000);
      expect([fill.content.size, fill.content.version, sha16(head)]).toEqual([
        3000,
        undefined,
        sha16(data.subarray(0, 1000)),
      ]);
      // Not visible under its name until complete.
      expect(await cache.get('big.bin')).toBeUndefined();
      await fill.write(data.subarray(1000));
      await fill.finish(META, { store: true });
      expect(sha16(await tail)).toBe(sha16(data.subarray(1000)));
      expect(reader.version).toBe(sha16(data));
      reader.release();
    });

    run('a failed fill rejects every reader, waiting or later, and nothing is kept', async () => {
      const { cache } = await open();
      const fill = cache.fill('broken.bin');
      fill.size?.(4000);
      const reader = fill.content.retain();
      await fill.write(patternBytes(1000));
      const waiting = reader.read(0, 4000).then(
        () => 'resolved',
        (err: unknown) => errorCode(err) ?? 'rejected',
      );
      fill.fail(Object.assign(new Error('cut'), { code: 'TEST_CUT' }));
      expect(await waiting).toBe('TEST_CUT');
      const later = await reader.read(0, 10).then(
        () => 'resolved',
        (err: unknown) => errorCode(err),
      );
      reader.release();
      expect(later).toBe('TEST_CUT');
      expect(await cache.get('broken.bin')).toBeUndefined();
    });

    run('a fill finished with store: false serves its readers and is not kept', async () => {
      const { cache } = await open();
      const data = patternBytes(2000, 9);
      const fill = cache.fill('once.bin');
      const reader = fill.content.retain();
      await fill.write(data);
      await fill.finish(META, { store: false });
      expect(sha16(await readAll(reader))).toBe(sha16(data));
      reader.release();
      expect(await cache.get('once.bin')).toBeUndefined();
    });

    run('set keeps a complete file; the caller keeps its own reference', async () => {
      const { cache } = await open();
      const data = new TextEncoder().encode('<signed/>');
      const content = bufferContent(data, { version: sha16(data) });
      await cache.set('a.sgn', { content, size: data.byteLength, version: sha16(data), ...META });
      content.release();
      const file = await getFile(cache, 'a.sgn');
      expect(new TextDecoder().decode(await readAll(file!.content))).toBe('<signed/>');
      file!.content.release();
    });

    run('"not found" answers are kept, and a file set under the name replaces its "not found"', async () => {
      const { cache } = await open();
      await cache.setNegative('missing.xml');
      expect((await cache.get('missing.xml'))?.kind).toBe('negative');
      await fillWith(cache, 'missing.xml', patternBytes(10));
      const hit = await cache.get('missing.xml');
      if (hit?.kind === 'file') hit.file.content.release();
      expect(hit?.kind).toBe('file');
    });

    run('flush by name, pattern, device and cluster removes what matches and counts it', async () => {
      const { cache } = await open();
      await fillWith(cache, 'SEP001122334455.cnf.xml', patternBytes(10), 'SEP001122334455');
      await fillWith(cache, 'SEP001122334455.tlv', patternBytes(11), 'SEP001122334455');
      await fillWith(cache, 'P003-8-12-00.loads', patternBytes(12));
      await fillWith(cache, 'dial.xml', patternBytes(13));
      await cache.setNegative('gone.xml');
      expect(await cache.flush({ name: 'dial.xml' })).toBe(1);
      expect(await cache.flush({ pattern: '*.loads' })).toBe(1);
      expect(await cache.flush({ device: 'sep001122334455' })).toBe(2);
      expect(await cache.flush({ negativeOnly: true })).toBe(1);
      await fillWith(cache, 'x.xml', patternBytes(14));
      expect(await cache.flush({ clusters: ['C'] })).toBe(0);
      expect(await cache.flush({ clusters: ['B'] })).toBe(1);
      await fillWith(cache, 'y.xml', patternBytes(15));
      expect(await cache.flush()).toBe(1);
      expect(cache.stats().entries).toBe(0);
    });

    run('a file flushed while a transfer reads it stays readable to that transfer', async () => {
      const { cache } = await open();
      const data = patternBytes(50_000, 2);
      await fillWith(cache, 'load.bin', data);
      const file = await getFile(cache, 'load.bin');
      expect(await cache.flush({ name: 'load.bin' })).toBe(1);
      expect(sha16(await readAll(file!.content))).toBe(sha16(data));
      file!.content.release();
    });

    run(
      'device affinity is learned, forgotten, and dropped by a flush of the device or its cluster',
      async () => {
        const { cache } = await open();
        await cache.learnAffinity('SEP001122334455', 'B');
        expect(await cache.affinity('SEP001122334455')).toBe('B');
        await cache.forgetAffinity('SEP001122334455');
        expect(await cache.affinity('SEP001122334455')).toBeUndefined();
        await cache.learnAffinity('SEP001122334455', 'B');
        await cache.flush({ device: 'SEP001122334455' });
        expect(await cache.affinity('SEP001122334455')).toBeUndefined();
        await cache.learnAffinity('SEP00000000000A', 'C');
        await cache.flush({ clusters: ['C'] });
        expect(await cache.affinity('SEP00000000000A')).toBeUndefined();
      },
    );

    run('files and "not found" answers expire after their lifetimes', async () => {
      const f = await open({ ttlSeconds: 60, negativeTtlSeconds: 5 });
      if (!f.advance) return;
      await fillWith(f.cache, 'a.xml', patternBytes(10));
      await f.cache.setNegative('b.xml');
      f.advance(6_000);
      const hit = await f.cache.get('a.xml');
      if (hit?.kind === 'file') hit.file.content.release();
      expect(hit?.kind).toBe('file');
      expect(await f.cache.get('b.xml')).toBeUndefined();
      f.advance(60_000);
      expect(await f.cache.get('a.xml')).toBeUndefined();
    });
  });
}
