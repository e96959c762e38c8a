import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Content } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Resolver, type ResolverInit, TieredCache } from '../src/index.js';
import { type MemoryStreamOptions, MemoryUpstream, patternBytes } from '../src/testing/index.js';

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const NAME = 'P0030801SR02.loads';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  files: Record<string, Uint8Array>,
  stream: MemoryStreamOptions,
  init: ResolverInit = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'ptftp-stream-'));
  const cache = new TieredCache({ dir, ...init.cache });
  await cache.ready();
  const b = new MemoryUpstream('B', files, { stream });
  const resolver = new Resolver(
    { ...init, clusters: [{ id: 'B', tftp: ['192.0.2.1'] }] },
    { store: new MemoryStore(), upstreamFactory: () => b, cache },
  );
  cleanups.push(async () => {
    resolver.close();
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { b, resolver, cache, folder: cache.folder! };
}

/** Reads a content to its end in 64 KiB steps, as a transfer would; resolves with its sha-256. */
async function drain(content: Content, onChunk?: () => void): Promise<string> {
  const hash = createHash('sha256');
  let offset = 0;
  for (;;) {
    const chunk = await content.read(offset, 65536);
    if (chunk.byteLength === 0) break;
    hash.update(chunk);
    offset += chunk.byteLength;
    onChunk?.();
  }
  content.release();
  return hash.digest('hex');
}

describe('Resolver: remote files stream to every phone while they arrive (issue 12)', () => {
  it('100 concurrent requests for a remote file cause one upstream fetch, and all get the exact bytes', async () => {
    const data = patternBytes(3 * 1024 * 1024 + 17, 4);
    const { b, resolver } = await setup({ [NAME]: data }, { chunkBytes: 32 * 1024 });
    const release = b.holdAfter(256 * 1024);
    const early = Array.from({ length: 50 }, () => resolver.resolve(NAME));
    await vi.waitFor(() => expect(b.bytesStreamed).toBe(256 * 1024));
    // Later requests, while the file is half-arrived, join the same fetch.
    const late = Array.from({ length: 50 }, () => resolver.resolve(NAME));
    const all = await Promise.all([...early, ...late]);
    release();
    const hashes = await Promise.all(all.map((r) => drain(r.content)));
    expect(all).toHaveLength(100);
    expect(b.fetchCount(NAME)).toBe(1);
    expect(new Set(hashes)).toEqual(new Set([sha(data)]));
    expect(all.every((r) => r.source === 'cluster' && r.size === data.byteLength)).toBe(true);
    // Complete and cached: the next request is a hit with the content hash as version.
    const hit = await resolver.resolve(NAME);
    expect([hit.source, hit.version, b.fetchCount(NAME)]).toEqual(['cache', sha(data).slice(0, 16), 1]);
    hit.content.release();
  });

  it('the first bytes are readable before the upstream fetch completes', async () => {
    const data = patternBytes(2 * 1024 * 1024, 6);
    const { b, resolver } = await setup({ [NAME]: data }, { chunkBytes: 16 * 1024 });
    const release = b.holdAfter(64 * 1024);
    const r = await resolver.resolve(NAME);
    const first = await r.content.read(0, 512);
    expect([sha(first), r.version, r.content.version]).toEqual([
      sha(data.subarray(0, 512)),
      undefined,
      undefined,
    ]);
    // Served from the part that has arrived: the upstream is held at 64 KiB of 2 MiB.
    expect(b.bytesStreamed).toBeLessThanOrEqual(64 * 1024);
    release();
    expect(await drain(r.content)).toBe(sha(data));
  });

  it('a fetch failing mid-way rejects every reader and leaves no file in cache.dir; the next request fetches again', async () => {
    const data = patternBytes(1024 * 1024, 8);
    const { b, resolver, folder } = await setup(
      { [NAME]: data },
      { chunkBytes: 16 * 1024, failAfterBytes: 300_000 },
    );
    const release = b.holdAfter(100_000);
    const all = await Promise.all(Array.from({ length: 20 }, () => resolver.resolve(NAME)));
    expect(b.fetchCount(NAME)).toBe(1);
    const outcomes = all.map((r) =>
      drain(r.content).then(
        () => 'complete',
        (err: unknown) => (err as { code?: string }).code,
      ),
    );
    release();
    expect(await Promise.all(outcomes)).toEqual(Array(20).fill('PTFTP_ERR_UPSTREAM_UNREACHABLE'));
    await vi.waitFor(async () => expect(await readdir(folder)).toEqual([]));
    expect(resolver.cacheStats).toMatchObject({ entries: 0, inflight: 0, inflightBytes: 0 });
    const again = await resolver.resolve(NAME);
    expect(b.fetchCount(NAME)).toBe(2);
    again.content.release();
  });

  it('beyond the fetch budget a request gets PTFTP_ERR_BUSY ("server busy"), never "not found"', async () => {
    expect.assertions(3);
    const { b, resolver } = await setup(
      { [NAME]: patternBytes(400_000), 'other.loads': patternBytes(10) },
      { chunkBytes: 16 * 1024 },
      { cache: { maxFetches: 1, budgetWaitMs: 50 } },
    );
    const release = b.holdAfter(32 * 1024);
    const first = await resolver.resolve(NAME);
    try {
      await resolver.resolve('other.loads');
    } catch (err) {
      expect([(err as { code?: string }).code, (err as Error).message]).toEqual([
        'PTFTP_ERR_BUSY',
        'server busy',
      ]);
    }
    expect(resolver.cacheStats).toMatchObject({ inflight: 1, refusals: 1 });
    release();
    await drain(first.content);
    // Room again once the first fetch is complete.
    const other = await resolver.resolve('other.loads');
    expect(Buffer.from(await readAll(other.content))).toEqual(Buffer.from(patternBytes(10)));
  });

  it('a request waiting for room is admitted when a fetch completes within budgetWaitMs', async () => {
    const { b, resolver } = await setup(
      { [NAME]: patternBytes(300_000), 'other.loads': patternBytes(10) },
      { chunkBytes: 16 * 1024 },
      { cache: { maxFetches: 1, budgetWaitMs: 10_000 } },
    );
    const release = b.holdAfter(32 * 1024);
    const first = await resolver.resolve(NAME);
    const waiting = resolver.resolve('other.loads');
    await vi.waitFor(() => expect(resolver.cacheStats.waiting).toBe(1));
    release();
    await drain(first.content);
    const other = await waiting;
    expect([sha(await readAll(other.content)), resolver.cacheStats.refusals]).toEqual([
      sha(patternBytes(10)),
      0,
    ]);
  });

  it('memory stays bounded while a 100 MB file streams to 10 readers (the file lives on disk)', async () => {
    const size = 100 * 1024 * 1024;
    const data = patternBytes(size, 1);
    const { b, resolver } = await setup({ [NAME]: data }, { chunkBytes: 64 * 1024 });
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    };
    const all = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve(NAME)));
    let n = 0;
    const hashes = await Promise.all(all.map((r) => drain(r.content, () => ++n % 64 === 0 && sample())));
    sample();
    expect(new Set(hashes)).toEqual(new Set([sha(data)]));
    expect(b.fetchCount(NAME)).toBe(1);
    // A whole copy of the file would be 100 MiB; ten of them a gigabyte. (Stream buffers grew
    // from 16 to 64 KiB in Node 22: 48 MiB on Node 20, 54 MiB on Node 24.)
    expect(peak).toBeLessThan(80 * 1024 * 1024);
    expect(resolver.cacheStats).toMatchObject({ diskBytes: size, memoryBytes: 0 });
  });
});
