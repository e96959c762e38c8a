import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileNotFoundError } from '@ptftp/protocol';
import { MemoryStore } from '@ptftp/resolver';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyServer, type ProxyServer } from '../src/index.js';
import { type FakeCluster, metricValue, startCluster } from './fixtures.js';

describe('metrics subscribe to diagnostics_channel (ptftp:resolver:cache-lookup)', () => {
  const open: ProxyServer[] = [];
  let cluster: FakeCluster | undefined;
  let dirs: string[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close({ graceMs: 0 });
    await cluster?.server.close({ graceMs: 0 });
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    dirs = [];
  });

  const lookups = async (server: ProxyServer) => {
    const text = await server.metrics.registry.metrics();
    return {
      hit: metricValue(text, 'ptftp_cache_lookups_total', { result: 'hit' }),
      negative: metricValue(text, 'ptftp_cache_lookups_total', { result: 'negative' }),
      miss: metricValue(text, 'ptftp_cache_lookups_total', { result: 'miss' }),
    };
  };

  /** One miss (fetched), one hit; one miss (not found), one negative hit. */
  const askTwice = async (server: ProxyServer) => {
    for (let i = 0; i < 2; i++) {
      const file = await server.resolve('SEP001122334455.cnf.xml');
      expect(Buffer.from(await file.content.read(0, 16)).toString()).toBe('<device>A</devic');
      file.content.release();
      await expect(server.resolve('absent.xml')).rejects.toBeInstanceOf(FileNotFoundError);
    }
  };

  it('a reload that swaps the resolver (new store) keeps counting, once per lookup, and never counts another server', async () => {
    cluster = await startCluster('127.0.0.1', { 'SEP001122334455.cnf.xml': '<device>A</device>' });
    dirs = [await mkdtemp(join(tmpdir(), 'ptftp-dc-a-')), await mkdtemp(join(tmpdir(), 'ptftp-dc-b-'))];
    const config = (root: string) => ({
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root },
      clusters: [{ id: 'remote', tftp: [cluster!.address] }],
    });
    const stores = new Map<string, MemoryStore>();
    const server = createProxyServer(config(dirs[0]!), {
      createStore: (c) => {
        const store = new MemoryStore({});
        stores.set(c.store!.root, store);
        return store;
      },
    });
    open.push(server);
    const other = createProxyServer(config(dirs[0]!), { createStore: () => new MemoryStore({}) });
    open.push(other);

    await askTwice(server);
    expect(await lookups(server)).toEqual({ hit: 1, negative: 1, miss: 2 });

    const result = await server.reload(config(dirs[1]!));
    expect(result.storeReplaced).toBe(true);
    expect(stores.size).toBe(2);
    // The new resolver has a cache of its own: the same names miss again, then hit.
    await askTwice(server);
    expect(await lookups(server)).toEqual({ hit: 2, negative: 2, miss: 4 });
    const status = server.status().cache;
    expect([status.hits, status.misses]).toEqual([4, 4]);
    expect(cluster.asked.filter((n) => n === 'SEP001122334455.cnf.xml')).toHaveLength(2);

    // Another server in the process: its lookups are its own.
    await askTwice(other);
    expect(await lookups(other)).toEqual({ hit: 1, negative: 1, miss: 2 });
    expect(await lookups(server)).toEqual({ hit: 2, negative: 2, miss: 4 });
  });
});
