import { createHash } from 'node:crypto';
import { readAll } from '@ptftp/protocol/internal';
import { createFaultyTftpServer, createLossyLink, type FaultyTftpServer } from '@ptftp/protocol/testing';
import { MemoryStore, type Resolution, Resolver, TftpClusterUpstream } from '@ptftp/resolver';
import { createFaultUpstream } from '@ptftp/resolver/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settledHeap } from '../support/heap.js';

const body = (r: Resolution) => readAll(r.content);

const file = Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 13 + 5) & 0xff));
const name = 'SEP00AABBCCDDEE.cnf.xml';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const servers: FaultyTftpServer[] = [];
const resolvers: Resolver[] = [];
afterEach(async () => {
  for (const r of resolvers.splice(0)) r.close();
  for (const s of servers.splice(0)) await s.close();
});

async function tftpPeer(fault: Parameters<typeof createFaultyTftpServer>[0]['fault']) {
  const s = await createFaultyTftpServer({
    files: { [name]: file },
    fault,
    cutAfterBlocks: 3,
    retransmitTimeoutMs: 100,
  });
  servers.push(s);
  return s;
}
const addr = (s: FaultyTftpServer) => `127.0.0.1:${s.port}`;

describe('TFTP upstream against misbehaving cluster addresses', () => {
  it('a dead first address costs one timeout, then is skipped while it backs off', async () => {
    const dead = await tftpPeer('silent');
    const good = await tftpPeer('none');
    const upstream = new TftpClusterUpstream(
      { id: 'B', tftp: [addr(dead), addr(good)] },
      { timeoutMs: 200, retries: 1 },
    );
    const first = await upstream.fetch(name, { signal: AbortSignal.timeout(30_000) });
    expect(sha(first.data!)).toBe(sha(file));
    expect(first.address).toBe(addr(good));
    // One timeout's worth of asking: the RRQ and its one retransmission, no more.
    expect(dead.requests).toBe(2);
    const second = await upstream.fetch(name, { signal: AbortSignal.timeout(30_000) });
    expect(second.address).toBe(addr(good));
    expect(dead.requests).toBe(2);
    expect(upstream.status().find((s) => s.address === addr(dead))?.healthy).toBe(false);
  });

  it('a transfer cut in the middle fails the phones reading it (never a short file), is not cached, and the next request is served by the next address', async () => {
    const cutter = await tftpPeer('cut-after-blocks');
    const good = await tftpPeer('none');
    const resolver = new Resolver(
      {
        clusters: [{ id: 'B', tftp: [addr(cutter), addr(good)] }],
        upstreamTimeoutMs: 200,
        upstreamRetries: 1,
      },
      { store: new MemoryStore() },
    );
    resolvers.push(resolver);
    // Streamed: the phone is answered from the first bytes, so the cut reaches it as a failed
    // read (a TFTP ERROR 0, an HTTP connection reset), never as a complete short file.
    const cut = await resolver.resolve(name);
    expect(cut.address).toBe(addr(cutter));
    await expect(body(cut)).rejects.toMatchObject({ code: expect.stringMatching(/^PTFTP_ERR_/) });
    cut.content.release();
    expect(cutter.dataSent).toBeGreaterThanOrEqual(3); // the cut really happened mid-file
    // The address that went silent mid-transfer is down: the next request goes to the next one.
    const r = await resolver.resolve(name);
    expect(r.source).toBe('cluster');
    expect(r.address).toBe(addr(good));
    expect(sha(await body(r))).toBe(sha(file));
    const again = await resolver.resolve(name);
    expect(again.source).toBe('cache');
    expect(sha(await body(again))).toBe(sha(file));
  });

  it('a cluster whose only address cuts every transfer fails every reader, and nothing is cached', async () => {
    const cutter = await tftpPeer('cut-after-blocks');
    const resolver = new Resolver(
      {
        clusters: [{ id: 'B', tftp: [addr(cutter)] }],
        upstreamTimeoutMs: 200,
        upstreamRetries: 1,
        cache: { negativeTtlSeconds: 0 },
      },
      { store: new MemoryStore() },
    );
    resolvers.push(resolver);
    const cut = await resolver.resolve(name);
    await expect(body(cut)).rejects.toMatchObject({ code: expect.stringMatching(/^PTFTP_ERR_/) });
    cut.content.release();
    expect(resolver.cacheStats.entries).toBe(0);
    // The cluster recovers: the next request fetches the whole file, not a cached half.
    cutter.setFault('none');
    await resolver.flush();
    await vi.waitFor(
      async () => {
        const r = await resolver.resolve(name);
        expect(r.source).toBe('cluster');
        expect(sha(await body(r))).toBe(sha(file));
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

describe('the upstream link to a remote cluster through loss', () => {
  it('fetches 30 files whole through 5% drop and 1% duplication on the proxy-to-cluster link', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [
        `SEP0000000000${String(i).padStart(2, '0')}.cnf.xml`,
        file.subarray(i * 100),
      ]),
    );
    const cluster = await createFaultyTftpServer({ files, retransmitTimeoutMs: 100, retries: 8 });
    servers.push(cluster);
    const link = await createLossyLink({
      target: { address: cluster.address, port: cluster.port },
      seed: 12,
      drop: 0.05,
      duplicate: 0.01,
    });
    try {
      const upstream = new TftpClusterUpstream(
        { id: 'B', tftp: [`127.0.0.1:${link.port}`] },
        { timeoutMs: 200, retries: 6, backoffMs: 10 },
      );
      for (const [n, data] of Object.entries(files)) {
        const got = await upstream.fetch(n, { signal: AbortSignal.timeout(30_000) });
        expect(sha(got.data!)).toBe(sha(data));
      }
      expect(link.stats.dropped).toBeGreaterThan(0);
    } finally {
      await link.close();
    }
  });
});

describe('resolver against fault-injecting upstreams', () => {
  it('a slow upstream does not block requests for other names', async () => {
    const upstream = createFaultUpstream({
      id: 'B',
      files: { 'slow.cnf.xml': 'slow', 'fast.cnf.xml': 'fast' },
      fault: (n) => (n === 'slow.cnf.xml' ? 'slow' : 'none'),
      delayMs: 3000,
    });
    const resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: ['127.0.0.1:9'] }] },
      {
        store: new MemoryStore(),
        upstreamFactory: () => upstream,
      },
    );
    resolvers.push(resolver);
    const slow = resolver.resolve('slow.cnf.xml');
    const fast = await resolver.resolve('fast.cnf.xml');
    expect(Buffer.from(await body(fast)).toString()).toBe('fast');
    // The fast answer came while the slow fetch was still running.
    expect(upstream.inFlight).toBe(1);
    expect(Buffer.from(await body(await slow)).toString()).toBe('slow');
  });

  it('the size-mismatch fault really returns a different size (for compliance suites to catch)', async () => {
    const upstream = createFaultUpstream({
      id: 'B',
      files: { [name]: file },
      fault: 'size-mismatch',
      sizeDelta: -10,
    });
    const got = await upstream.fetch(name, { signal: AbortSignal.timeout(1000) });
    expect(got.data!.length).toBe(file.length - 10);
  });

  it('many requests against a dead cluster do not grow memory', async () => {
    const upstream = createFaultUpstream({
      id: 'B',
      files: {},
      fault: 'dead',
      delayMs: 1,
      recordCalls: false,
    });
    const resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: ['127.0.0.1:9'] }], cache: { negativeTtlSeconds: 0 } },
      { store: new MemoryStore(), upstreamFactory: () => upstream },
    );
    resolvers.push(resolver);
    const round = async (n: number, offset: number) => {
      for (let i = 0; i < n; i += 50)
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            resolver.resolve(`SEP${(offset + i + j).toString(16).padStart(12, '0')}.cnf.xml`).catch(() => {}),
          ),
        );
    };
    await round(2000, 0); // warm up: code, caches and pools reach their working size
    const before = await settledHeap();
    await round(10_000, 1_000_000);
    const after = await settledHeap();
    expect(upstream.callCount).toBe(12_000);
    expect(upstream.inFlight).toBe(0);
    // A leak of even 100 bytes per request would show as 1 MB.
    expect(after - before).toBeLessThan(1024 * 1024);
  });
});

describe('createFaultUpstream (the harness itself)', () => {
  const files = { [name]: file };
  it("'error' and 'cut' reject with UpstreamUnreachableError and never hand out data", async () => {
    for (const fault of ['error', 'cut'] as const) {
      const u = createFaultUpstream({ id: 'B', files, fault, delayMs: 5 });
      await expect(u.fetch(name, { signal: AbortSignal.timeout(5000) })).rejects.toMatchObject({
        code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE',
      });
      expect(u.served).toBe(0);
    }
  });

  it("'dead' gives up when the caller aborts, and unknown names are FileNotFoundError", async () => {
    const dead = createFaultUpstream({ id: 'B', files, fault: 'dead', delayMs: 60_000 });
    const ac = new AbortController();
    const pending = dead.fetch(name, { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    expect(dead.inFlight).toBe(0);
    const ok = createFaultUpstream({ id: 'B', files });
    await expect(ok.fetch('nope', { signal: AbortSignal.timeout(1000) })).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
    expect(sha((await ok.fetch(name, { signal: AbortSignal.timeout(1000) })).data!)).toBe(sha(file));
  });
});
