import { createHash } from 'node:crypto';
import { readAll } from '@ptftp/protocol/internal';
import { MemoryStore, Resolver } from '@ptftp/resolver';
import { MemoryUpstream, patternBytes } from '@ptftp/resolver/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { haveRedis, RedisServer } from '../../../test-support/redis-server.js';
import { RedisCache, type RedisCacheOptions } from '../src/index.js';

const META = { clusterId: 'B', address: 'memory://B' };
const sha16 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex').slice(0, 16);

describe.skipIf(!haveRedis)('RedisCache: a fleet of replicas on one redis-server', () => {
  let server: RedisServer;
  let n = 0;
  const open: RedisCache[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** `count` replicas sharing one fresh prefix. */
  const fleet = async (count: number, opts: Partial<RedisCacheOptions> = {}) => {
    const prefix = `t${++n}:`;
    const caches = Array.from(
      { length: count },
      () => new RedisCache({ url: server.url, prefix, local: { dir: '' }, ...opts }),
    );
    open.push(...caches);
    await Promise.all(caches.map((c) => c.ready()));
    return caches;
  };
  const fillWith = async (cache: RedisCache, name: string, data: Uint8Array) => {
    const fill = cache.fill(name);
    fill.size?.(data.byteLength);
    await fill.write(data);
    await fill.finish(META, { store: true });
  };
  const bytesOf = async (cache: RedisCache, name: string) => {
    const hit = await cache.get(name);
    if (hit?.kind !== 'file') return hit?.kind;
    const bytes = await readAll(hit.file.content);
    hit.file.content.release();
    return sha16(bytes);
  };

  it('a small file one replica fetched is served byte-exact by another from Redis', async () => {
    const [a, b] = await fleet(2);
    const data = patternBytes(40_000, 1);
    await fillWith(a!, 'SEP001122334455.cnf.xml', data);
    expect(await bytesOf(b!, 'SEP001122334455.cnf.xml')).toBe(sha16(data));
    expect(b!.sharedStats().sharedHits).toBe(1);
    // Now in b's own tier: the next hit does not ask Redis.
    expect(await bytesOf(b!, 'SEP001122334455.cnf.xml')).toBe(sha16(data));
    expect(b!.sharedStats().sharedHits).toBe(1);
  });

  it('an empty file is a hit through Redis (0 bytes), not taken for a large file without bytes', async () => {
    const [a, b] = await fleet(2);
    await fillWith(a!, 'empty.cfg', new Uint8Array(0));
    const hit = await b!.get('empty.cfg');
    expect(hit?.kind).toBe('file');
    if (hit?.kind !== 'file') return;
    expect(hit.file.size).toBe(0);
    expect(hit.file.clusterId).toBe('B');
    expect((await readAll(hit.file.content)).byteLength).toBe(0);
    hit.file.content.release();
    expect(b!.sharedStats().sharedHits).toBe(1);
  });

  it("a hit through Redis carries the entry's remaining lifetime, never a longer one", async () => {
    const [a, b] = await fleet(2, { ttlSeconds: 60 });
    await fillWith(a!, 'SEP0A0B0C0D0E0F.cnf.xml', patternBytes(100, 3));
    const raw = new Redis(server.url);
    try {
      const key = (await raw.keys('*f:SEP0A0B0C0D0E0F.cnf.xml'))[0] as string;
      await raw.pexpire(key, 150);
      expect(await bytesOf(b!, 'SEP0A0B0C0D0E0F.cnf.xml')).toBe(sha16(patternBytes(100, 3)));
      // b adopted it for the 150 ms Redis had left: gone from b's own tier once they pass.
      await vi.waitFor(async () => expect(await b!.local.get('SEP0A0B0C0D0E0F.cnf.xml')).toBeUndefined(), {
        timeout: 5000,
        interval: 50,
      });
    } finally {
      raw.disconnect();
    }
  });

  it('a file above inlineMaxBytes is indexed but not copied to Redis: another replica misses', async () => {
    const [a, b] = await fleet(2, { inlineMaxBytes: 1000 });
    await fillWith(a!, 'P003-8-12-00.loads', patternBytes(5000));
    expect(await bytesOf(a!, 'P003-8-12-00.loads')).toBe(sha16(patternBytes(5000)));
    expect(await b!.get('P003-8-12-00.loads')).toBeUndefined();
  });

  it('"not found" answers and device affinity are shared', async () => {
    const [a, b] = await fleet(2);
    await a!.setNegative('missing.xml');
    await a!.learnAffinity('SEP001122334455', 'C');
    expect((await b!.get('missing.xml'))?.kind).toBe('negative');
    expect(await b!.affinity('SEP001122334455')).toBe('C');
    await b!.forgetAffinity('SEP001122334455');
    expect(await a!.affinity('SEP001122334455')).toBeUndefined();
  });

  it('a flush on one replica reaches every replica within a second', async () => {
    const [a, b, c] = await fleet(3);
    await fillWith(a!, 'dial.xml', patternBytes(100));
    for (const r of [b!, c!]) expect(await bytesOf(r, 'dial.xml')).toBe(sha16(patternBytes(100)));
    expect([b!.local.stats().entries, c!.local.stats().entries]).toEqual([1, 1]);
    const t0 = Date.now();
    expect(await a!.flush({ name: 'dial.xml' })).toBe(1);
    await vi.waitFor(() => expect([b!.local.stats().entries, c!.local.stats().entries]).toEqual([0, 0]), {
      timeout: 1000,
      interval: 5,
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(b!.sharedStats().remoteFlushes).toBe(1);
    expect(await c!.get('dial.xml')).toBeUndefined();
  });

  it('nothing partial is published: a failed fetch, or one that a flush overtook, leaves Redis empty', async () => {
    const [a, b] = await fleet(2);
    const raw = new Redis(server.port, '127.0.0.1');
    try {
      const broken = a!.fill('broken.xml');
      await broken.write(patternBytes(3000));
      broken.fail(new Error('cut mid-way'));
      // A fetch under way on a while b flushes the fleet: its answer may be what the flush meant to drop.
      const overtaken = a!.fill('stale.xml');
      await overtaken.write(patternBytes(100));
      await b!.flush();
      await vi.waitFor(() => expect(a!.sharedStats().remoteFlushes).toBe(1));
      await overtaken.finish(META, { store: true });
      expect(await raw.keys(`t${n}:f:*`)).toEqual([]);
      expect(a!.local.stats().entries).toBe(0);
      expect([await b!.get('broken.xml'), await b!.get('stale.xml')]).toEqual([undefined, undefined]);
    } finally {
      raw.disconnect();
    }
  });

  it('fleet-wide single flight: one replica holds the lease, the others wait and get its file', async () => {
    const [a, b, c] = await fleet(3);
    const data = patternBytes(20_000, 4);
    // a misses and takes the lease (it will fetch).
    expect(await a!.get('SEP0011223344AA.cnf.xml')).toBeUndefined();
    expect(a!.sharedStats().leases).toBe(1);
    const waiting = [b!, c!].map((r) => bytesOf(r, 'SEP0011223344AA.cnf.xml'));
    await vi.waitFor(() => expect(b!.sharedStats().waits + c!.sharedStats().waits).toBe(2));
    await fillWith(a!, 'SEP0011223344AA.cnf.xml', data);
    expect(await Promise.all(waiting)).toEqual([sha16(data), sha16(data)]);
    expect([a!.sharedStats().leases, b!.sharedStats().leases, c!.sharedStats().leases]).toEqual([0, 0, 0]);
  });

  it('a replica that dies mid-fetch loses its lease, and a waiting replica takes over', async () => {
    const [a, b] = await fleet(2, { leaseMs: 300 });
    expect(await a!.get('late.xml')).toBeUndefined();
    a!.fill('late.xml'); // a fetch under way, renewing the lease...
    await a!.close(); // ...until the process is gone (nothing released).
    const t0 = Date.now();
    // b waits, then finds the lease expired and takes it: it is b's to fetch now.
    expect(await b!.get('late.xml')).toBeUndefined();
    expect(b!.sharedStats()).toMatchObject({ waits: 1, leases: 1 });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('three resolvers on one shared cache fetch each file once from the cluster', async () => {
    const caches = await fleet(3);
    const files = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [
        `SEP0000000000${i.toString(16).padStart(2, '0')}.cnf.xml`,
        patternBytes(3000 + i, i),
      ]),
    );
    const upstream = new MemoryUpstream('B', files, { stream: { chunkDelayMs: 2, chunkBytes: 512 } });
    const resolvers = caches.map(
      (cache) =>
        new Resolver(
          { clusters: [{ id: 'B', tftp: ['192.0.2.1'] }] },
          { store: new MemoryStore(), upstreamFactory: () => upstream, cache },
        ),
    );
    const names = Object.keys(files);
    const results = await Promise.all(
      Array.from({ length: 90 }, async (_, i) => {
        const r = await resolvers[i % 3]!.resolve(names[i % names.length]!);
        const bytes = await readAll(r.content);
        r.content.release();
        return [names[i % names.length], sha16(bytes)];
      }),
    );
    expect(results).toHaveLength(90);
    for (const [name, hash] of results) expect(hash).toBe(sha16(files[name!]!));
    expect(names.map((name) => upstream.fetchCount(name))).toEqual(names.map(() => 1));
    for (const r of resolvers) r.close();
  });
});

describe.skipIf(!haveRedis)('RedisCache: Redis unreachable degrades, never fails', () => {
  it('serves from the local tier and the cluster while Redis is down, counts it, and rejoins', async () => {
    const server = await RedisServer.start();
    const a = new RedisCache({ url: server.url, prefix: 'd:', local: { dir: '' }, commandTimeoutMs: 200 });
    const b = new RedisCache({ url: server.url, prefix: 'd:', local: { dir: '' }, commandTimeoutMs: 200 });
    const states: boolean[] = [];
    a.on('state', ({ up }) => states.push(up));
    try {
      await Promise.all([a.ready(), b.ready()]);
      await a.fill('kept.xml').finish(META, { store: true });
      const data = patternBytes(500, 7);
      const fill = a.fill('x.xml');
      await fill.write(data);
      await fill.finish(META, { store: true });
      await server.kill();
      await vi.waitFor(() => expect(a.up).toBe(false));
      // Local hits still served; a miss is a miss (the resolver asks the clusters); a new fill is kept locally.
      expect(await bytesOf(a, 'x.xml')).toBe(sha16(data));
      expect(await a.get('other.xml')).toBeUndefined();
      const during = a.fill('during.xml');
      await during.write(data);
      await during.finish(META, { store: true });
      expect(await bytesOf(a, 'during.xml')).toBe(sha16(data));
      await a.setNegative('gone.xml');
      expect(await a.flush({ name: 'kept.xml' })).toBe(1);
      await server.restart();
      await vi.waitFor(() => expect([a.up, b.up]).toEqual([true, true]), { timeout: 10_000 });
      expect(states).toEqual([true, false, true]);
      // Back in the fleet: what a fills now reaches b.
      const after = a.fill('after.xml');
      await after.write(data);
      await after.finish(META, { store: true });
      expect(await bytesOf(b, 'after.xml')).toBe(sha16(data));
    } finally {
      await a.close();
      await b.close();
      await server.stop();
    }
  });

  it('a flush made while a replica was away empties its tier when it rejoins (flush epoch)', async () => {
    const server = await RedisServer.start();
    const b = new RedisCache({ url: server.url, prefix: 'e:', local: { dir: '' } });
    const raw = new Redis(server.port, '127.0.0.1');
    try {
      await b.ready();
      await fillWith2(b, 'x.xml');
      expect(b.local.stats().entries).toBe(1);
      // A flush elsewhere whose message b never heard: only the epoch moved.
      await raw.incr('e:epoch');
      expect(b.local.stats().entries).toBe(1);
      // b's connections drop and come back.
      await raw.client('KILL', 'SKIPME', 'yes');
      await vi.waitFor(() => expect(b.local.stats().entries).toBe(0), { timeout: 10_000 });
      expect(b.up).toBe(true);
    } finally {
      raw.disconnect();
      await b.close();
      await server.stop();
    }
  });

  async function fillWith2(cache: RedisCache, name: string) {
    const fill = cache.fill(name);
    await fill.write(patternBytes(10));
    await fill.finish(META, { store: true });
  }
  async function bytesOf(cache: RedisCache, name: string) {
    const hit = await cache.get(name);
    if (hit?.kind !== 'file') return hit?.kind;
    const bytes = await readAll(hit.file.content);
    hit.file.content.release();
    return sha16(bytes);
  }
});
