import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Content } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacking, type RunningPeer, startTftpdHpa } from '../../../test-support/peers.js';
import { MemoryStore, Resolver, type ResolverEvents } from '../src/index.js';
import { seedFolder, writeTftpFile } from './fixtures.js';

const body = (r: { content: Content }) => readAll(r.content);

// Remote clusters played by real tftpd-hpa daemons on loopback addresses 127.0.0.2-5.

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const bytes = (seed: number, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));
const DEVICE = 'SEP00AABBCCDD01';

describe.skipIf(lacking('inTftpd'))('Resolver with remote clusters played by tftpd-hpa', () => {
  const peers: RunningPeer[] = [];
  const roots: string[] = [];
  let rootA: string;
  let rootB: string;
  let rootC: string;
  let a: RunningPeer;
  let b1: RunningPeer;
  let b2: RunningPeer;
  let c: RunningPeer;
  let resolver: Resolver;
  let store: MemoryStore;
  const events: Array<[keyof ResolverEvents, Record<string, unknown>]> = [];

  beforeAll(async () => {
    rootA = await seedFolder({ 'only-a.xml': bytes(1, 100) });
    rootB = await seedFolder({
      'only-b.bin': bytes(2, 5000),
      'second-b.bin': bytes(3, 1024),
      'third-b.bin': bytes(4, 10),
      'RingList.xml': '<remote ring list/>',
      [`${DEVICE}.cnf.xml`]: '<device cluster="B"/>',
    });
    rootC = await seedFolder({});
    roots.push(rootA, rootB, rootC);
    a = await startTftpdHpa({ root: rootA, host: '127.0.0.2' });
    b1 = await startTftpdHpa({ root: rootB, host: '127.0.0.3' });
    b2 = await startTftpdHpa({ root: rootB, host: '127.0.0.4' });
    c = await startTftpdHpa({ root: rootC, host: '127.0.0.5' });
    peers.push(a, b1, b2, c);
    store = new MemoryStore({ 'RingList.xml': '<local ring list/>' });
    resolver = new Resolver(
      {
        clusters: [
          { id: 'A', tftp: [`127.0.0.2:${a.port}`] },
          { id: 'B', tftp: [`127.0.0.3:${b1.port}`, `127.0.0.4:${b2.port}`] },
          { id: 'C', tftp: [`127.0.0.5:${c.port}`] },
        ],
        upstreamTimeoutMs: 200,
        upstreamRetries: 0,
      },
      { store },
    );
    for (const type of ['resolved', 'upstreamError', 'failover', 'affinityMiss'] as const) {
      (resolver as unknown as EventEmitter).on(type, (e: Record<string, unknown>) => events.push([type, e]));
    }
  });

  afterAll(async () => {
    resolver?.close();
    for (const p of peers) await p.stop();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('a file only cluster B has is served from B, byte for byte', async () => {
    const r = await resolver.resolve('only-b.bin');
    expect(r).toMatchObject({
      source: 'cluster',
      clusterId: 'B',
      address: `127.0.0.3:${b1.port}`,
      size: 5000,
    });
    expect(sha(await body(r))).toBe(sha(bytes(2, 5000)));
    const again = await resolver.resolve('only-b.bin');
    expect(again.source).toBe('cache');
  });

  it("a common file present locally and remotely comes from the proxy's local copy", async () => {
    const r = await resolver.resolve('RingList.xml');
    expect(r.source).toBe('local');
    expect(Buffer.from(await body(r)).toString()).toBe('<local ring list/>');
  });

  it("stopping B's first address fails over to its second; the dead address costs one timeout", async () => {
    await b1.stop();
    events.length = 0;
    const r = await resolver.resolve('second-b.bin');
    expect(r).toMatchObject({ source: 'cluster', clusterId: 'B', address: `127.0.0.4:${b2.port}` });
    expect(sha(await body(r))).toBe(sha(bytes(3, 1024)));
    expect(events.filter(([t]) => t === 'failover').map(([, e]) => e)).toEqual([
      { clusterId: 'B', from: `127.0.0.3:${b1.port}`, to: `127.0.0.4:${b2.port}` },
    ]);
    const third = await resolver.resolve('third-b.bin');
    expect(third.address).toBe(`127.0.0.4:${b2.port}`);
    // Only the first request paid for the dead address.
    expect(events.filter(([t]) => t === 'upstreamError').map(([, e]) => e.address)).toEqual([
      `127.0.0.3:${b1.port}`,
    ]);
    const status = resolver.clusterStatus().find((s) => s.id === 'B');
    expect(status?.addresses.map((x) => [x.address, x.healthy])).toEqual([
      [`127.0.0.3:${b1.port}`, false],
      [`127.0.0.4:${b2.port}`, true],
    ]);
  });

  it("a moved phone gets the new cluster's file after a flush (stale until then, as the spec warns)", async () => {
    const first = await resolver.resolve(`${DEVICE}.cnf.xml`);
    expect([first.clusterId, Buffer.from(await body(first)).toString()]).toEqual([
      'B',
      '<device cluster="B"/>',
    ]);
    // Move: add to the destination cluster, delete from the source cluster.
    await writeTftpFile(rootC, `${DEVICE}.cnf.xml`, '<device cluster="C"/>');
    await unlink(path.join(rootB, `${DEVICE}.cnf.xml`));
    const stale = await resolver.resolve(`${DEVICE}.cnf.xml`);
    expect([stale.source, stale.clusterId]).toEqual(['cache', 'B']);

    expect(await resolver.flush({ device: DEVICE })).toBe(1);
    const moved = await resolver.resolve(`${DEVICE}.cnf.xml`);
    expect([moved.source, moved.clusterId, Buffer.from(await body(moved)).toString()]).toEqual([
      'cluster',
      'C',
      '<device cluster="C"/>',
    ]);
  });

  it('a file no cluster has is "file not found"', async () => {
    await expect(resolver.resolve('SEP00AABBCCDD99.cnf.xml')).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
      message: 'file not found: SEP00AABBCCDD99.cnf.xml',
    });
  });
});
