/**
 * Issue 13, resolver side: a bound on remote searches per source and in total, "unreachable"
 * never turned into "not found", and a busy store (descriptors exhausted) never forwarded
 * upstream nor cached.
 */
import { FileNotFoundError, ServerBusyError } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore, Resolver, type Store, type Upstream, type UpstreamFetchOptions } from '../src/index.js';
import { SearchLimiter } from '../src/search-limit.js';

/** An upstream with every name, that answers when `release()` is called and counts what runs at once. */
function gatedUpstream(id: string) {
  let running = 0;
  let peak = 0;
  let fetches = 0;
  const waiting: Array<() => void> = [];
  const upstream: Upstream = {
    id,
    async fetch(name: string, { signal }: UpstreamFetchOptions) {
      fetches++;
      running++;
      peak = Math.max(peak, running);
      try {
        await new Promise<void>((resolve, reject) => {
          waiting.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
        return { data: new TextEncoder().encode(`${id}:${name}`), address: `${id}:69` };
      } finally {
        running--;
      }
    },
  };
  return {
    upstream,
    peak: () => peak,
    fetches: () => fetches,
    pending: () => waiting.length,
    release: () => {
      for (const w of waiting.splice(0)) w();
    },
  };
}

function resolverWith(
  ups: Upstream[],
  init: ConstructorParameters<typeof Resolver>[0] = {},
  store: Store = new MemoryStore(),
) {
  const map = new Map(ups.map((u) => [u.id, u]));
  return new Resolver(
    { ...init, clusters: ups.map((u, i) => ({ id: u.id, tftp: [`192.0.2.${i + 1}`] })) },
    { store, upstreamFactory: (c) => map.get(c.id)! },
  );
}

describe('a bound on upstream fan-out per source and in total', () => {
  it('3,000 unique names from one host against 3 clusters do not become 9,000 upstream requests at once', async () => {
    const clusters = ['A', 'B', 'C'].map(gatedUpstream);
    const resolver = resolverWith(
      clusters.map((c) => c.upstream),
      { searchLimits: { maxSearchesPerSource: 32, maxSearches: 256, queueMs: 60_000 } },
    );
    const all = Array.from({ length: 3000 }, (_, i) =>
      resolver.resolve(`SEP${String(i).padStart(12, '0')}.cnf.xml`, { remoteAddress: '198.51.100.7' }),
    );
    await expect.poll(() => clusters.reduce((n, c) => n + c.pending(), 0)).toBe(32 * 3);
    // One host: 32 searches at a time, each asking the 3 clusters: 96 upstream requests, not 9,000.
    expect(clusters.map((c) => c.fetches())).toEqual([32, 32, 32]);
    // Another host is not held back by the first one's queue.
    const other = resolver.resolve('SEP999999999999.cnf.xml', { remoteAddress: '198.51.100.8' });
    await expect.poll(() => clusters[0]!.pending()).toBe(33);
    let settled = 0;
    const tracked = [...all, other].map((p) => p.finally(() => settled++));
    // Release what the clusters hold, round after round, until every search has settled.
    await vi.waitFor(
      () => {
        for (const c of clusters) c.release();
        expect(settled).toBe(tracked.length);
      },
      { timeout: 20_000, interval: 1 },
    );
    const results = await Promise.all(tracked);
    expect(results).toHaveLength(3001);
    expect(Math.max(...clusters.map((c) => c.peak()))).toBeLessThanOrEqual(33);
    resolver.close();
  });

  it('a search that waits longer than queueMs is refused as busy (ERROR 0), never "not found"', async () => {
    const a = gatedUpstream('A');
    const resolver = resolverWith([a.upstream], { searchLimits: { maxSearches: 1, queueMs: 50 } });
    const first = resolver.resolve('one.xml', { remoteAddress: '198.51.100.7' });
    const err = await resolver.resolve('two.xml', { remoteAddress: '198.51.100.9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerBusyError);
    expect(err).toMatchObject({ code: 'PTFTP_ERR_BUSY', tftpCode: 0 });
    a.release();
    await expect(first).resolves.toMatchObject({ clusterId: 'A' });
    resolver.close();
  });

  it('SearchLimiter admits queued searches first come first served as slots free', async () => {
    const limit = new SearchLimiter({ maxSearches: 1, queueMs: 10_000 });
    const order: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const signal = new AbortController().signal;
    const runs = [0, 1, 2].map((i) =>
      limit.run('x', signal, async () => {
        order.push(i);
        if (i === 0) await gate;
      }),
    );
    expect(limit.queued).toBe(2);
    open();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2]);
    expect(limit.running).toBe(0);
  });
});

describe('busy is not "not found"', () => {
  it('a store out of descriptors (ServerBusyError) is neither forwarded upstream nor cached as missing', async () => {
    const a = gatedUpstream('A');
    let busy = true;
    const files = new MemoryStore({ 'SEP001122334455.cnf.xml': '<local/>' });
    const store: Store = {
      get: (name, opts) =>
        busy ? Promise.reject(new ServerBusyError('descriptors')) : files.get(name, opts),
    } as Store;
    const resolver = resolverWith([a.upstream], {}, store);
    const err = await resolver.resolve('SEP001122334455.cnf.xml').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PTFTP_ERR_BUSY' });
    expect(err).not.toBeInstanceOf(FileNotFoundError);
    expect(a.fetches()).toBe(0);
    busy = false;
    const r = await resolver.resolve('SEP001122334455.cnf.xml');
    expect([r.source, new TextDecoder().decode(await readAll(r.content))]).toEqual(['local', '<local/>']);
    r.content.release();
    expect(resolver.cacheStats.entries).toBe(0);
    resolver.close();
  });
});
