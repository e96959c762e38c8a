import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Content, FileNotFoundError } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { generateSigningCertificate, signSgn, verifySgn } from '@ptftp/security';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DeviceAffinity } from '../src/affinity.js';
import {
  type ClusterConfig,
  MemoryStore,
  Resolver,
  type ResolverComponents,
  type ResolverEvents,
  type ResolverInit,
  TopologyError,
  type Upstream,
} from '../src/index.js';
import { createFaultUpstream, MemoryUpstream } from '../src/testing/index.js';

const body = (r: { content: Content }) => readAll(r.content);

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const text = (d: Uint8Array) => Buffer.from(d).toString();
const cluster = (id: string, n = 1, extra: Partial<ClusterConfig> = {}): ClusterConfig => ({
  id,
  tftp: [`192.0.2.${n}`],
  ...extra,
});
const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Subscribes to any event with an untyped payload (the typed API is exercised by the sources). */
function listen(r: Resolver, type: string, fn: (e: Record<string, unknown>) => void): void {
  (r as unknown as EventEmitter).on(type, fn);
}

const open: Resolver[] = [];
// The disk tier of every resolver made by setup(): a folder of this test file's own.
const cacheRoot = mkdtempSync(join(tmpdir(), 'ptftp-resolver-cache-'));
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));
afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

function setup(
  upstreams: MemoryUpstream[] | Record<string, Upstream>,
  init: ResolverInit = {},
  components: Partial<ResolverComponents> = {},
) {
  const map = new Map<string, Upstream>(
    Array.isArray(upstreams) ? upstreams.map((u) => [u.id, u] as const) : Object.entries(upstreams),
  );
  const clusters = init.clusters ?? [...map.keys()].map((id, i) => cluster(id, i + 1));
  const store = (components.store as MemoryStore | undefined) ?? new MemoryStore();
  const resolver = new Resolver(
    { ...init, clusters, cache: { dir: cacheRoot, ...init.cache } },
    {
      ...components,
      store,
      upstreamFactory: (c) => {
        const u = map.get(c.id);
        if (!u) throw new Error(`no upstream ${c.id}`);
        return u;
      },
    },
  );
  open.push(resolver);
  const events: Array<{ type: keyof ResolverEvents; e: Record<string, unknown> }> = [];
  for (const type of [
    'resolved',
    'cacheHit',
    'cacheMiss',
    'coalesced',
    'upstreamFetch',
    'upstreamError',
    'failover',
    'notFound',
    'loopRefused',
    'affinityMiss',
    'topologyChange',
    'topologyRejected',
    'flushed',
  ] as const) {
    listen(resolver, type, (e) => events.push({ type, e }));
  }
  const of = (type: keyof ResolverEvents) => events.filter((x) => x.type === type).map((x) => x.e);
  return { resolver, store, events, of };
}

describe('Resolver: lookup order (proxy-tftp.md "Serving rules")', () => {
  it('local store first: a name held locally is served without asking any cluster', async () => {
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': '<remote/>' });
    const { resolver, store, of } = setup([b]);
    await store.put('SEP001122334455.cnf.xml', '<local/>');
    const r = await resolver.resolve('SEP001122334455.cnf.xml');
    expect(r).toMatchObject({ source: 'local', size: 8, name: 'SEP001122334455.cnf.xml' });
    expect(text(await body(r))).toBe('<local/>');
    expect(b.fetchCount()).toBe(0);
    expect(of('resolved')).toMatchObject([{ name: 'SEP001122334455.cnf.xml', source: 'local', bytes: 8 }]);
  });

  it('then the remote clusters; the answer is cached and the next request is a cache hit', async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': '<b/>' });
    const { resolver, of } = setup([a, b]);
    const first = await resolver.resolve('SEP001122334455.cnf.xml');
    expect(first).toMatchObject({ source: 'cluster', clusterId: 'B', address: 'memory://B', size: 4 });
    const second = await resolver.resolve('/SEP001122334455.cnf.xml');
    expect(second).toMatchObject({
      source: 'cache',
      clusterId: 'B',
      address: 'memory://B',
      version: first.version,
    });
    expect(text(await body(second))).toBe('<b/>');
    expect(b.fetchCount()).toBe(1);
    expect(of('resolved').map((e) => e.source)).toEqual(['cluster', 'cache']);
    expect(of('cacheMiss')).toEqual([{ name: 'SEP001122334455.cnf.xml' }]);
    expect(of('cacheHit')).toEqual([{ name: 'SEP001122334455.cnf.xml' }]);
    expect(resolver.cacheStats).toMatchObject({ entries: 1, bytes: 4, hits: 1, misses: 1 });
  });

  it('common files (RingList.xml[.sgn], locale files, configured patterns) come from the local copy', async () => {
    const b = new MemoryUpstream('B', {
      'RingList.xml.sgn': 'remote',
      'English_United_States/g3-tones.xml': 'remote',
      'Desktops/320x196x4/List.xml': 'remote',
    });
    const { resolver, store, of } = setup([b], { commonFiles: ['Desktops/**'] });
    await store.put('RingList.xml.sgn', 'local');
    await store.put('English_United_States/g3-tones.xml', 'local');
    await store.put('Desktops/320x196x4/List.xml', 'local');
    for (const name of [
      'RingList.xml.sgn',
      'English_United_States/g3-tones.xml',
      'Desktops/320x196x4/List.xml',
    ]) {
      const r = await resolver.resolve(name);
      expect([r.source, text(await body(r))]).toEqual(['local', 'local']);
    }
    expect(b.fetchCount()).toBe(0);
    expect(of('resolved').every((e) => e.common === true)).toBe(true);
  });

  it('a common file with no local copy is still fetched from a cluster', async () => {
    const b = new MemoryUpstream('B', { 'RingList.xml': 'remote' });
    const { resolver } = setup([b]);
    expect(await resolver.resolve('RingList.xml')).toMatchObject({ source: 'cluster', clusterId: 'B' });
  });

  it('an unsafe name is refused before any store or cluster sees it', async () => {
    const b = new MemoryUpstream('B', {});
    const { resolver } = setup([b]);
    const err = await resolver.resolve('../../etc/passwd').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'PTFTP_ERR_ACCESS_VIOLATION',
      message: 'access violation: "../../etc/passwd" has a dot or hidden path segment',
    });
    expect(b.fetchCount()).toBe(0);
  });
});

describe('Resolver: single level at run time (no forwarding of requests from other proxies)', () => {
  it('a request marked proxied is answered from the local store only and never forwarded', async () => {
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': '<b/>' });
    const { resolver, store, of } = setup([b]);
    await store.put('RingList.xml', 'local');
    expect((await resolver.resolve('RingList.xml', { proxied: true })).source).toBe('local');
    const err = await resolver.resolve('SEP001122334455.cnf.xml', { proxied: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'LoopRefusedError',
      code: 'PTFTP_ERR_NOT_FOUND',
      tftpCode: 1,
      message:
        'file not found: SEP001122334455.cnf.xml (request from a peer proxy is served from the local store only)',
    });
    expect(b.fetchCount()).toBe(0);
    expect(of('notFound')).toEqual([{ name: 'SEP001122334455.cnf.xml', reason: 'proxied' }]);
  });

  it('a request from a configured peer address (IPv4-mapped IPv6 too) is not forwarded', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver, of } = setup([b], { peerAddresses: ['10.0.0.7', '2001:db8::7'] });
    for (const remoteAddress of ['10.0.0.7', '::ffff:10.0.0.7', '2001:db8:0::7']) {
      await expect(resolver.resolve('x.xml', { remoteAddress })).rejects.toMatchObject({
        name: 'LoopRefusedError',
      });
    }
    expect(of('loopRefused').map((e) => e.remoteAddress)).toEqual([
      '10.0.0.7',
      '::ffff:10.0.0.7',
      '2001:db8:0::7',
    ]);
    expect(b.fetchCount()).toBe(0);
    expect((await resolver.resolve('x.xml', { remoteAddress: '10.0.0.8' })).source).toBe('cluster');
  });

  it("a cluster address that is this proxy's own listen address is refused at construction and reconfigure", () => {
    const make = () =>
      new Resolver(
        { listen: ['127.0.0.1:6969'], clusters: [{ id: 'B', tftp: ['127.0.0.1:6969'] }] },
        { store: new MemoryStore() },
      );
    expect(make).toThrow(TopologyError);
    expect(make).toThrow(
      "invalid topology (1 violation): clusters[0].tftp[0]: TFTP address is this proxy's own listen address (the proxy would ask itself)",
    );
    const { resolver } = setup([new MemoryUpstream('B', {})], {
      clusters: [{ id: 'B', tftp: ['127.0.0.1:6969'] }],
    });
    expect(() => resolver.reconfigure({ listen: ['127.0.0.1:6969'] })).toThrow(TopologyError);
  });
});

describe('Resolver: coalescing (boot storms)', () => {
  it('500 concurrent requests for one uncached remote name cause exactly one upstream fetch', async () => {
    const data = new Uint8Array(20_000).map((_, i) => (i * 31) & 0xff);
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': data }, { delayMs: 5 });
    const { resolver, of } = setup([b]);
    const all = await Promise.all(
      Array.from({ length: 500 }, () => resolver.resolve('SEP001122334455.cnf.xml')),
    );
    expect(b.fetchCount('SEP001122334455.cnf.xml')).toBe(1);
    expect(new Set(await Promise.all(all.map(async (r) => sha(await body(r)))))).toEqual(
      new Set([sha(data)]),
    );
    expect(all.every((r) => r.source === 'cluster' && r.clusterId === 'B')).toBe(true);
    expect(of('coalesced')).toHaveLength(499);
    expect(of('upstreamFetch')).toHaveLength(1);
  });

  it('one requester giving up does not cancel the fetch the others wait for; all giving up does', async () => {
    const b = new MemoryUpstream('B', { 'a.xml': 'a', 'b.xml': 'b' });
    const { resolver } = setup([b]);
    const release = b.pause();
    const quitter = new AbortController();
    const p1 = resolver.resolve('a.xml', { signal: quitter.signal });
    const p2 = resolver.resolve('a.xml');
    await ticks();
    quitter.abort();
    await expect(p1).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    release();
    expect(text(await body(await p2))).toBe('a');
    expect(b.aborted).toBe(0);

    const only = new AbortController();
    b.pause();
    const p3 = resolver.resolve('b.xml', { signal: only.signal });
    await ticks();
    only.abort();
    await expect(p3).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    await ticks();
    expect(b.aborted).toBe(1);
    expect(resolver.cacheStats.entries).toBe(1);
  });
});

describe('Resolver: remote lookup across clusters', () => {
  it('parallel: the first cluster that has the file wins and the slower ones are aborted', async () => {
    const slow = new MemoryUpstream('A', { 'x.xml': 'a' });
    slow.pause();
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver } = setup([slow, b]);
    const r = await resolver.resolve('x.xml');
    expect([r.clusterId, text(await body(r))]).toEqual(['B', 'b']);
    await ticks();
    expect(slow.aborted).toBe(1);
  });

  it('parallel: answers arriving together are ranked by the configured preference', async () => {
    const a = new MemoryUpstream('A', { 'x.xml': 'a' });
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const c = new MemoryUpstream('C', { 'x.xml': 'c' });
    const releases = [a, b, c].map((u) => u.pause());
    const { resolver } = setup([a, b, c], { preference: ['C', 'B'] });
    const p = resolver.resolve('x.xml');
    await ticks();
    // All three answer in the same turn of the event loop, A first: the preference decides.
    for (const r of releases) r();
    expect((await p).clusterId).toBe('C');
  });

  it('parallel: at most `fanout` clusters are asked at once; the next starts when one says "not found"', async () => {
    const ups = ['A', 'B', 'C', 'D', 'E'].map(
      (id) => new MemoryUpstream(id, id === 'E' ? { 'x.xml': 'e' } : {}),
    );
    const releases = ups.map((u) => u.pause());
    const { resolver } = setup(ups, { fanout: 2 });
    const p = resolver.resolve('x.xml');
    await ticks();
    expect(ups.map((u) => u.fetchCount())).toEqual([1, 1, 0, 0, 0]);
    for (const r of releases) r();
    expect((await p).clusterId).toBe('E');
    expect(ups.map((u) => u.fetchCount())).toEqual([1, 1, 1, 1, 1]);
  });

  it('sequential: clusters are asked one after another in preference order', async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const c = new MemoryUpstream('C', { 'x.xml': 'c' });
    const { resolver, of } = setup([a, b, c], { lookup: 'sequential', preference: ['A'] });
    expect((await resolver.resolve('x.xml')).clusterId).toBe('B');
    expect(of('upstreamFetch').map((e) => e.clusterId)).toEqual(['A', 'B']);
    expect(c.fetchCount()).toBe(0);
  });

  it('disabled clusters are never asked', async () => {
    const a = new MemoryUpstream('A', { 'x.xml': 'a' });
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver } = setup([a, b], { clusters: [cluster('A', 1, { enabled: false }), cluster('B', 2)] });
    expect((await resolver.resolve('x.xml')).clusterId).toBe('B');
    expect(a.fetchCount()).toBe(0);
  });

  it('"not found" everywhere is FileNotFoundError, cached negatively: the next request asks no cluster', async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', {});
    const { resolver, of } = setup([a, b]);
    await expect(resolver.resolve('SEPFFFFFFFFFFFF.cnf.xml')).rejects.toMatchObject({
      name: 'FileNotFoundError',
      message: 'file not found: SEPFFFFFFFFFFFF.cnf.xml',
    });
    await expect(resolver.resolve('SEPFFFFFFFFFFFF.cnf.xml')).rejects.toMatchObject({
      name: 'FileNotFoundError',
    });
    expect([a.fetchCount(), b.fetchCount()]).toEqual([1, 1]);
    expect(of('notFound').map((e) => e.reason)).toEqual(['nowhere', 'negative-cache']);
    expect(await resolver.flush({ name: 'SEPFFFFFFFFFFFF.cnf.xml' })).toBe(1);
    b.set('SEPFFFFFFFFFFFF.cnf.xml', 'now');
    expect((await resolver.resolve('SEPFFFFFFFFFFFF.cnf.xml')).clusterId).toBe('B');
  });

  it('a cluster added by reconfigure or discovery clears the negative cache: its phones are found at once', async () => {
    const a = new MemoryUpstream('A', {});
    const c = new MemoryUpstream('C', { 'SEP00000000C0C1.cnf.xml': 'on C' });
    const { resolver } = setup({ A: a, C: c }, { clusters: [cluster('A', 1)] });
    await expect(resolver.resolve('SEP00000000C0C1.cnf.xml')).rejects.toMatchObject({
      name: 'FileNotFoundError',
    });
    await expect(resolver.resolve('SEP00000000C0C1.cnf.xml')).rejects.toMatchObject({
      name: 'FileNotFoundError',
    });
    expect(a.fetchCount()).toBe(1); // the second answer came from the negative cache
    resolver.reconfigure({ clusters: [cluster('A', 1), cluster('C', 3)] });
    const r = await resolver.resolve('SEP00000000C0C1.cnf.xml');
    expect([r.clusterId, text(await body(r))]).toEqual(['C', 'on C']);
  });

  it('no cluster had it and one could not be asked: "unreachable", never "not found", and not cached', async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    b.setUnreachable(true);
    const { resolver, of } = setup([a, b]);
    const err = await resolver.resolve('x.xml').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE', tftpCode: 0 });
    expect(err).not.toBeInstanceOf(FileNotFoundError);
    expect(of('notFound')).toEqual([]);
    expect(of('upstreamError')).toMatchObject([{ clusterId: 'B', address: 'memory://B' }]);
    b.setUnreachable(false);
    expect((await resolver.resolve('x.xml')).clusterId).toBe('B');
  });

  it('a partial or failed upstream transfer is never cached or served as if complete', async () => {
    const flaky = createFaultUpstream({
      id: 'B',
      files: { 'big.bin': new Uint8Array(4096).fill(7) },
      fault: (_n, attempt) => (attempt === 0 ? 'cut' : 'none'),
      delayMs: 1,
    });
    const { resolver } = setup({ B: flaky });
    await expect(resolver.resolve('big.bin')).rejects.toMatchObject({
      code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE',
    });
    expect(resolver.cacheStats.entries).toBe(0);
    const r = await resolver.resolve('big.bin');
    expect([r.source, r.size, sha(await body(r))]).toEqual([
      'cluster',
      4096,
      sha(new Uint8Array(4096).fill(7)),
    ]);
    expect(flaky.calls).toEqual(['big.bin', 'big.bin']);
  });
});

describe('Resolver: learned device affinity', () => {
  it("once SEP<MAC> was found in B, that device's next names ask B first (and only B when it has them)", async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', {
      'SEP001122334455.cnf.xml': 'cfg',
      'SEP001122334455.cnf.xml.sgn': 'sgn',
    });
    const { resolver } = setup([a, b]);
    await resolver.resolve('SEP001122334455.cnf.xml');
    expect(a.fetchCount()).toBe(1);
    await resolver.resolve('SEP001122334455.cnf.xml.sgn');
    expect([a.fetchCount(), b.fetchCount()]).toEqual([1, 2]);
  });

  it('a miss in the learned cluster falls back to the full search (the phone moved)', async () => {
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': 'old' });
    const c = new MemoryUpstream('C', { 'ITLSEP001122334455.tlv': 'itl' });
    const { resolver, of } = setup([b, c], { lookup: 'sequential' });
    await resolver.resolve('SEP001122334455.cnf.xml');
    const r = await resolver.resolve('ITLSEP001122334455.tlv');
    expect(r.clusterId).toBe('C');
    expect(of('affinityMiss')).toEqual([{ device: 'SEP001122334455', clusterId: 'B' }]);
    expect(of('upstreamFetch').map((e) => e.clusterId)).toEqual(['B', 'B', 'C']);
  });
});

describe('Resolver: affinity follows the cache lifetime', () => {
  it('a shorter cache.ttlSeconds on reconfigure shortens learned affinity too', async () => {
    const a = new MemoryUpstream('A', {});
    const b = new MemoryUpstream('B', {
      'SEP001122334455.cnf.xml': 'cfg',
      'SEP001122334455.cnf.xml.sgn': 'sgn',
    });
    const { resolver } = setup([a, b], { lookup: 'sequential' });
    await resolver.resolve('SEP001122334455.cnf.xml');
    expect([a.fetchCount(), b.fetchCount()]).toEqual([1, 1]);
    resolver.reconfigure({ lookup: 'sequential', cache: { ttlSeconds: 0 } });
    // Affinity to B has expired with the new lifetime: the full search asks A first again.
    await resolver.resolve('SEP001122334455.cnf.xml.sgn');
    expect([a.fetchCount(), b.fetchCount()]).toEqual([2, 2]);
  });

  it('DeviceAffinity: ttl 0 expires at once (never "forever"); withTtl keeps entries, cut to the new lifetime', async () => {
    // A clock that stands still: "expired" cannot come from time passing meanwhile.
    let clock = 1000;
    const zero = new DeviceAffinity({ ttlMs: 0, now: () => clock });
    zero.learn('SEP001122334455', 'B');
    expect(zero.clusterFor('SEP001122334455')).toBeUndefined();

    const long = new DeviceAffinity({ ttlMs: 60_000, now: () => clock });
    long.learn('SEP000000000001', 'A');
    long.learn('SEP000000000002', 'B');
    const kept = long.withTtl(30_000);
    expect(kept.ttlMs).toBe(30_000);
    expect([kept.clusterFor('SEP000000000001'), kept.clusterFor('SEP000000000002')]).toEqual(['A', 'B']);
    // No caching, no affinity: not even for the millisecond a 1 ms lifetime would leave.
    const none = long.withTtl(0);
    expect([none.ttlMs, none.size, none.clusterFor('SEP000000000001')]).toEqual([0, 0, undefined]);
    const short = long.withTtl(5);
    clock += 5;
    expect(short.clusterFor('SEP000000000001')).toBe('A');
    clock += 1;
    expect(short.clusterFor('SEP000000000001')).toBeUndefined();
    expect(short.clusterFor('SEP000000000002')).toBeUndefined();
  });
});

describe('Resolver: cache lifetime and flush', () => {
  it('positive answers live 30 minutes by default (the spec) and negative ones a short time', () => {
    const { resolver } = setup([new MemoryUpstream('B', {})], { cache: { dir: cacheRoot } });
    expect(resolver.cacheOptions).toEqual({
      ttlSeconds: 1800,
      negativeTtlSeconds: 10,
      maxBytes: 64 * 1024 * 1024,
      dir: cacheRoot,
      diskMaxBytes: 4 * 1024 * 1024 * 1024,
      maxFetches: 128,
      maxInflightBytes: 256 * 1024 * 1024,
      budgetWaitMs: 2000,
    });
  });

  it('an expired per-device answer is fetched again (ttlSeconds)', async () => {
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': 'v1' });
    const { resolver } = setup([b], { cache: { ttlSeconds: 0.05 } });
    await resolver.resolve('SEP001122334455.cnf.xml');
    b.set('SEP001122334455.cnf.xml', 'v2');
    await new Promise((r) => setTimeout(r, 120));
    expect(text(await body(await resolver.resolve('SEP001122334455.cnf.xml')))).toBe('v2');
    expect(b.fetchCount()).toBe(2);
  });

  it('a memory-only cache is bounded in bytes: a file larger than an eighth of the bound is served but not kept', async () => {
    const b = new MemoryUpstream('B', { 'small.bin': new Uint8Array(100), 'big.bin': new Uint8Array(5000) });
    const { resolver } = setup([b], { cache: { maxBytes: 1000, dir: '' } });
    await resolver.resolve('small.bin');
    expect((await resolver.resolve('big.bin')).size).toBe(5000);
    expect(resolver.cacheStats).toMatchObject({ entries: 1, bytes: 100, memoryBytes: 100, diskBytes: 0 });
  });

  it('operators flush one name, one pattern, one device, or everything, at once', async () => {
    const names = [
      'SEP001122334455.cnf.xml',
      'SEP001122334455.cnf.xml.sgn',
      'SEPAABBCCDDEEFF.cnf.xml',
      'dial.xml',
      'b.loads',
    ];
    const b = new MemoryUpstream('B', Object.fromEntries(names.map((n) => [n, n])));
    const { resolver, of } = setup([b]);
    const fill = () => Promise.all(names.map((n) => resolver.resolve(n)));
    await fill();
    expect(await resolver.flush({ name: 'dial.xml' })).toBe(1);
    expect(await resolver.flush({ device: 'sep001122334455' })).toBe(2);
    expect(await resolver.flush({ pattern: '*.loads' })).toBe(1);
    expect(resolver.cacheStats.entries).toBe(1);
    expect(await resolver.flush()).toBe(1);
    expect(of('flushed')).toEqual([
      { scope: { name: 'dial.xml' }, removed: 1 },
      { scope: { device: 'sep001122334455' }, removed: 2 },
      { scope: { pattern: '*.loads' }, removed: 1 },
      { scope: {}, removed: 1 },
    ]);
    await fill();
    expect(b.fetchCount()).toBe(names.length * 2);
  });
});

describe('Resolver: configuration at run time', () => {
  it('an invalid reconfigure throws TopologyError listing every violation, and the old topology stays', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver, of } = setup([b]);
    let err: unknown;
    try {
      resolver.reconfigure({ clusters: [{ id: 'B!', tftp: ['1.2.3.4', '1.2.3.5', '1.2.3.6', '1.2.3.7'] }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as TopologyError).violations.map((v) => v.rule)).toEqual([
      'cluster-id-characters',
      'max-tftp-addresses',
    ]);
    expect(of('topologyRejected')).toHaveLength(1);
    expect((await resolver.resolve('x.xml')).clusterId).toBe('B');
    expect(resolver.clusters.map((c) => c.id)).toEqual(['B']);
  });

  it('a new topology applies to new requests while a transfer in progress finishes on the old one', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'from B' });
    const c = new MemoryUpstream('C', { 'x.xml': 'from C', 'y.xml': 'y' });
    const { resolver, of } = setup({ B: b, C: c }, { clusters: [cluster('B', 1)] });
    const release = b.pause();
    const inflight = resolver.resolve('x.xml');
    await ticks();
    resolver.reconfigure({ clusters: [cluster('C', 2)] });
    expect(of('topologyChange')).toMatchObject([{ source: 'reconfigure', clusters: [{ id: 'C' }] }]);
    expect((await resolver.resolve('y.xml')).clusterId).toBe('C');
    release();
    const r = await inflight;
    expect([r.clusterId, text(await body(r))]).toEqual(['B', 'from B']);
    // The file from a removed cluster is not kept.
    expect((await resolver.resolve('x.xml')).clusterId).toBe('C');
  });

  it('discovery: a valid result is applied atomically; an invalid one keeps the last good topology', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const c = new MemoryUpstream('C', { 'x.xml': 'c' });
    let next: unknown[] = [cluster('C', 2)];
    const { resolver, of } = setup(
      { B: b, C: c },
      { clusters: [cluster('B', 1)] },
      {
        discovery: { discover: async () => next },
      },
    );
    expect(await resolver.refreshDiscovery()).toEqual({ ok: true });
    expect(resolver.clusters.map((x) => x.id)).toEqual(['C']);
    next = [
      { id: 'D', tftp: [] },
      { id: 'E', tftp: ['10.0.0.1'], peers: ['primary', 'E'] },
    ];
    const bad = await resolver.refreshDiscovery();
    expect(bad).toEqual({
      ok: false,
      violations: [
        {
          path: 'clusters[0].tftp',
          entry: 'D',
          rule: 'tftp-addresses-required',
          message: 'at least one TFTP address is required when TFTP is enabled',
        },
        {
          path: 'clusters[1].peers[1]',
          entry: 'E',
          rule: 'peer-self',
          message: 'a cluster must not peer with itself',
        },
      ],
    });
    expect(resolver.clusters.map((x) => x.id)).toEqual(['C']);
    expect((await resolver.resolve('x.xml')).clusterId).toBe('C');
    expect(of('topologyRejected')).toMatchObject([{ source: 'discovery' }]);
  });

  it('discovery: a failing source keeps the last good topology and says why', async () => {
    const { resolver } = setup(
      [new MemoryUpstream('B', {})],
      {},
      {
        discovery: {
          discover: async () => {
            throw new Error('lookup service down');
          },
        },
      },
    );
    expect(await resolver.refreshDiscovery()).toEqual({
      ok: false,
      violations: [
        {
          path: 'discovery',
          rule: 'discovery-failed',
          message: 'discovery source failed: lookup service down',
        },
      ],
    });
    expect(resolver.clusters.map((x) => x.id)).toEqual(['B']);
  });

  it('clusterStatus reports per-address health of every cluster', () => {
    const { resolver } = setup([new MemoryUpstream('B', {})]);
    expect(resolver.clusterStatus()).toEqual([
      { id: 'B', enabled: true, addresses: [{ address: '192.0.2.1', healthy: true, failures: 0 }] },
    ]);
  });

  it('close aborts fetches in flight; later requests are refused', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver } = setup([b]);
    b.pause();
    const p = resolver.resolve('x.xml');
    await ticks();
    resolver.close();
    await expect(p).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    await expect(resolver.resolve('x.xml')).rejects.toMatchObject({ code: 'PTFTP_ERR_CLOSED' });
  });
});

describe('Resolver: signed files', () => {
  // A minimal .sgn: VERSION 1.0, HEADER_LENGTH 12 (5 + 5 + 2 bytes of padding), then the body.
  const sgn = (body: string) =>
    Buffer.concat([Buffer.from([1, 0, 2, 1, 0, 2, 0, 2, 0, 12, 13, 13]), Buffer.from(body)]);

  it('a .sgn from a remote cluster is passed through byte-identical by default', async () => {
    const signed = sgn('<device/>');
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml.sgn': signed });
    const { resolver } = setup([b]);
    expect(sha(await body(await resolver.resolve('SEP001122334455.cnf.xml.sgn')))).toBe(sha(signed));
  });

  it('re-signing is explicit: the body is re-signed with the proxy key; .enc.sgn is never touched', async () => {
    const calls: Array<[string, string]> = [];
    const b = new MemoryUpstream('B', {
      'SEP001122334455.cnf.xml.sgn': sgn('<device/>'),
      'SEP001122334455.cnf.xml.enc.sgn': sgn('enc'),
    });
    const { resolver } = setup(
      [b],
      { resign: { keyPem: 'k', certPem: 'c' } },
      {
        signer: (body, name) => {
          calls.push([text(body), name]);
          return Buffer.from(`resigned:${text(body)}`);
        },
      },
    );
    const r = await resolver.resolve('SEP001122334455.cnf.xml.sgn');
    expect(text(await body(r))).toBe('resigned:<device/>');
    expect(text(await body(await resolver.resolve('SEP001122334455.cnf.xml.sgn')))).toBe(
      'resigned:<device/>',
    );
    expect(sha(await body(await resolver.resolve('SEP001122334455.cnf.xml.enc.sgn')))).toBe(sha(sgn('enc')));
    expect(calls).toEqual([['<device/>', 'SEP001122334455.cnf.xml.sgn']]);
  });

  it('with resign set, @ptftp/security re-signs with the proxy key: the proxy certificate verifies, the home one no longer does', async () => {
    const home = generateSigningCertificate({ subject: { commonName: 'cucm-b.example' }, keyBits: 1024 });
    const proxy = generateSigningCertificate({ subject: { commonName: 'proxy.example' }, keyBits: 1024 });
    const original = Buffer.from('<device><fullConfig>true</fullConfig></device>');
    const signed = signSgn(original, {
      filename: 'SEP001122334455.cnf.xml',
      keyPem: home.keyPem,
      certPem: home.certPem,
    });
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml.sgn': signed });

    const passthrough = setup([b]).resolver;
    const same = await passthrough.resolve('SEP001122334455.cnf.xml.sgn');
    expect(verifySgn(await body(same), { certPem: home.certPem }).valid).toBe(true);

    const { resolver } = setup([b], {
      resign: { keyPem: proxy.keyPem, certPem: proxy.certPem, hash: 'sha256' },
    });
    const r = await resolver.resolve('SEP001122334455.cnf.xml.sgn');
    const check = verifySgn(await body(r), { certPem: proxy.certPem });
    expect([check.valid, check.filename, check.hash, check.payload.equals(original)]).toEqual([
      true,
      'SEP001122334455.cnf.xml.sgn',
      'sha256',
      true,
    ]);
    expect(verifySgn(await body(r), { certPem: home.certPem }).valid).toBe(false);
  });
});

describe('Resolver: flush during a lookup', () => {
  it('a lookup that started before a flush serves its requester but does not re-fill the cache', async () => {
    const b = new MemoryUpstream('B', { 'SEP001122334455.cnf.xml': 'old' });
    const { resolver } = setup([b]);
    const release = b.pause();
    const p = resolver.resolve('SEP001122334455.cnf.xml');
    await ticks();
    await resolver.flush({ device: 'SEP001122334455' });
    release();
    expect(text(await body(await p))).toBe('old');
    expect(resolver.cacheStats.entries).toBe(0);
    b.set('SEP001122334455.cnf.xml', 'new');
    expect(text(await body(await resolver.resolve('SEP001122334455.cnf.xml')))).toBe('new');
  });
});

describe('Resolver: events cost nothing unless someone listens', () => {
  it('listeners added after removeAllListeners() still receive resolved and cacheHit', async () => {
    const b = new MemoryUpstream('B', { 'x.xml': 'b' });
    const { resolver } = setup([b]);
    await resolver.resolve('x.xml');
    resolver.removeAllListeners();
    const seen: string[] = [];
    resolver.on('cacheHit', ({ name }) => seen.push(`hit:${name}`));
    resolver.on('resolved', ({ source }) => seen.push(`resolved:${source}`));
    await resolver.resolve('x.xml');
    resolver.removeAllListeners('cacheHit');
    await resolver.resolve('x.xml');
    expect(seen).toEqual(['hit:x.xml', 'resolved:cache', 'resolved:cache']);
  });
});

describe('Resolver: cache settings changed at run time', () => {
  it('live entries move into the new cache, and an upstream factory that throws keeps the old configuration', async () => {
    const b = new MemoryUpstream('B', { 'a.xml': 'a', 'b.xml': 'b' });
    const { resolver } = setup([b]);
    await resolver.resolve('a.xml');
    await resolver.resolve('b.xml');
    resolver.reconfigure({ clusters: [cluster('B', 1)], cache: { ttlSeconds: 60, maxBytes: 1 << 20 } });
    expect(resolver.cacheOptions).toMatchObject({
      ttlSeconds: 60,
      negativeTtlSeconds: 10,
      maxBytes: 1 << 20,
    });
    expect((await resolver.resolve('a.xml')).source).toBe('cache');
    expect(resolver.cacheStats.entries).toBe(2);
    expect(b.fetchCount()).toBe(2);

    const broken = new Resolver(
      { clusters: [] },
      {
        store: new MemoryStore(),
        upstreamFactory: () => {
          throw new Error('factory failed');
        },
      },
    );
    open.push(broken);
    expect(() => broken.reconfigure({ clusters: [cluster('X', 9)], lookup: 'sequential' })).toThrow(
      'factory failed',
    );
    expect(broken.clusters).toEqual([]);
  });
});
