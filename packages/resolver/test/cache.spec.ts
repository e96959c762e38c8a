import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TieredCache } from '../src/index.js';
import { runCacheCompliance } from '../src/testing/index.js';

function clocked(opts: { ttlSeconds: number; negativeTtlSeconds: number }, dir: string) {
  let now = 1_000_000;
  const cache = new TieredCache({ ...opts, dir, now: () => now });
  const advance = (ms: number) => {
    now += ms;
  };
  return { cache, advance };
}

runCacheCompliance('TieredCache, memory only', (opts) => clocked(opts, ''), { describe, it, expect });

runCacheCompliance(
  'TieredCache, memory + disk',
  async (opts) => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-cache-compliance-'));
    return { ...clocked(opts, dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { describe, it, expect },
);

describe('TieredCache: the disk tier', () => {
  it("files live in a 0700 folder of their own; a dead process's folder is removed at start-up", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-cache-dir-'));
    try {
      // A folder left by a process that is gone (pid 2^22 + 1 is above Linux's pid_max default).
      const { mkdir, writeFile, stat } = await import('node:fs/promises');
      await mkdir(join(dir, 'run-4194305-dead'));
      await writeFile(join(dir, 'run-4194305-dead', '.partial-1-aa'), 'half');
      const cache = new TieredCache({ dir });
      await cache.ready();
      const names = await readdir(dir);
      expect(names).toEqual([cache.folder!.slice(dir.length + 1)]);
      expect((await stat(cache.folder!)).mode & 0o777).toBe(0o700);
      await cache.close();
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('memory holds hot small files under maxBytes; larger files stay on disk only; disk is LRU-bounded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-cache-tiers-'));
    const cache = new TieredCache({ dir, maxBytes: 8000, diskMaxBytes: 25_000 });
    try {
      const put = async (name: string, size: number) => {
        const fill = cache.fill(name);
        await fill.write(new Uint8Array(size).fill(1));
        await fill.finish({ clusterId: 'B', address: 'a' }, { store: true });
      };
      await put('small.xml', 900); // <= 8000 / 8: memory and disk
      await put('large.bin', 10_000); // > 1000: disk only
      expect(cache.stats()).toMatchObject({ entries: 2, memoryBytes: 900, diskBytes: 10_900, bytes: 10_900 });
      await put('large2.bin', 10_000);
      await put('large3.bin', 10_000); // 30_900 > 25_000: the least recently used go first
      expect(cache.stats()).toMatchObject({ entries: 2, diskBytes: 20_000 });
      expect(await cache.get('small.xml')).toBeUndefined();
      expect(await cache.get('large.bin')).toBeUndefined();
      expect((await readdir(cache.folder!)).length).toBe(2);
    } finally {
      await cache.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
