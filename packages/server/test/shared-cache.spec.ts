import { tftpGet } from '@ptftp/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, haveRedis, RedisServer } from '../../../test-support/redis-server.js';
import { type ProxyServer, parseConfig } from '../src/index.js';
import { type FakeCluster, metricValue, pattern, sha256, startCluster, startProxy } from './fixtures.js';

describe('config: cache.shared', () => {
  it('accepts redis:// and rediss:// with a default prefix, and names the field of a bad URL', () => {
    expect(parseConfig({ cache: { shared: { url: 'rediss://:pw@10.0.0.5:6380' } } }).cache.shared).toEqual({
      url: 'rediss://:pw@10.0.0.5:6380',
      prefix: 'ptftp:',
    });
    expect.assertions(2);
    try {
      parseConfig({ cache: { shared: { url: 'http://10.0.0.5' } } });
    } catch (err) {
      expect(JSON.stringify(err)).toContain('cache.shared.url');
    }
  });
});

describe.skipIf(!haveRedis)('two proxies with cache.shared on one redis-server (issue 17)', () => {
  let redis: RedisServer;
  const servers: ProxyServer[] = [];
  let cluster: FakeCluster | undefined;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close({ graceMs: 0 });
    await cluster?.server.close({ graceMs: 0 });
    cluster = undefined;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a file fetched through one replica is served by the other from Redis; a flush on either reaches both', async () => {
    const file = pattern(20_000, 3);
    cluster = await startCluster('127.0.0.2', { 'SEP001122334455.cnf.xml': file });
    const config = {
      clusters: [{ id: 'cluster-b', tftp: [cluster.address] }],
      cache: { dir: '', shared: { url: redis.url, prefix: 'srv1:' } },
    };
    const [a, b] = [await startProxy(config), await startProxy(config)];
    servers.push(a!, b!);
    const get = (s: ProxyServer) =>
      tftpGet({ host: '127.0.0.1', port: s.addresses.tftp[0]!.port }, 'SEP001122334455.cnf.xml', {
        blksize: 1428,
      });
    expect(sha256(await get(a!))).toBe(sha256(file));
    expect(sha256(await get(b!))).toBe(sha256(file));
    expect(cluster.asked).toEqual(['SEP001122334455.cnf.xml']);
    expect([a!.status().cache.entries, b!.status().cache.entries]).toEqual([1, 1]);
    expect(b!.status().cache.shared).toEqual({ up: true, errors: 0 });
    const metrics = await fetch(`${b!.addresses.admin!.url}/metrics`).then((r) => r.text());
    expect(metricValue(metrics, 'ptftp_shared_cache_up')).toBe(1);
    expect(await b!.flush()).toBe(1);
    await vi.waitFor(() => expect(a!.status().cache.entries).toBe(0), { timeout: 1000 });
    expect(sha256(await get(a!))).toBe(sha256(file));
    expect(cluster.asked).toHaveLength(2);
  });
});

describe.skipIf(!haveRedis)('cache.shared with Redis unreachable (issue 17: degrades, never fails)', () => {
  it('the server starts, serves from the cluster and its own cache, and reports Redis down', async () => {
    const file = pattern(5000, 8);
    const cluster = await startCluster('127.0.0.2', { 'SEP001122334466.cnf.xml': file });
    // A port nothing listens on.
    const url = `redis://127.0.0.1:${await freePort()}`;
    const server = await startProxy({
      clusters: [{ id: 'cluster-b', tftp: [cluster.address] }],
      cache: { dir: '', shared: { url } },
    });
    try {
      const get = () =>
        tftpGet({ host: '127.0.0.1', port: server.addresses.tftp[0]!.port }, 'SEP001122334466.cnf.xml');
      expect(sha256(await get())).toBe(sha256(file));
      expect(sha256(await get())).toBe(sha256(file));
      expect(cluster.asked).toEqual(['SEP001122334466.cnf.xml']);
      expect(server.status().cache.shared).toEqual({ up: false, errors: 0 });
      const metrics = await fetch(`${server.addresses.admin!.url}/metrics`).then((r) => r.text());
      expect(metricValue(metrics, 'ptftp_shared_cache_up')).toBe(0);
    } finally {
      await server.close({ graceMs: 0 });
      await cluster.server.close({ graceMs: 0 });
    }
  });
});
