import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, FileNotFoundError, type TftpServer, tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProxyServer } from '../src/index.js';
import { type FakeCluster, pattern, sha256, startCluster, startProxy } from './fixtures.js';

/** Every file under `dir`, at any depth (the cache works in a folder of its own inside it). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('the streaming data plane on the composed server (issue 12)', () => {
  let server: ProxyServer | undefined;
  const clusters: Array<FakeCluster | { server: TftpServer }> = [];
  let dir = '';
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    for (const c of clusters.splice(0)) await c.server.close({ graceMs: 0 });
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = '';
  });
  const tftpTarget = () => ({ host: '127.0.0.1', port: server!.addresses.tftp[0]!.port });
  const httpUrl = (name: string) => `${server!.addresses.http[0]!.url}/${name}`;

  it('a remote file larger than the memory tier is served from disk over TFTP and HTTP (ranges too), byte-exact, one fetch', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-server-cache-'));
    const file = pattern(3 * 1024 * 1024 + 5, 11);
    const b = await startCluster('127.0.0.2', { 'P0030801SR02.loads': file });
    clusters.push(b);
    server = await startProxy({
      clusters: [{ id: 'cluster-b', tftp: [b.address] }],
      cache: { dir, maxBytes: 1024 * 1024 },
    });
    const [overTftp, whole, part] = await Promise.all([
      tftpGet(tftpTarget(), 'P0030801SR02.loads', { blksize: 1468, windowsize: 16 }),
      fetch(httpUrl('P0030801SR02.loads')).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetch(httpUrl('P0030801SR02.loads'), { headers: { Range: 'bytes=1000000-1999999' } }).then(
        async (r) => [r.status, new Uint8Array(await r.arrayBuffer())] as const,
      ),
    ]);
    expect([sha256(overTftp), sha256(whole)]).toEqual([sha256(file), sha256(file)]);
    expect([part[0], sha256(part[1])]).toEqual([206, sha256(file.subarray(1_000_000, 2_000_000))]);
    expect(b.asked).toEqual(['P0030801SR02.loads']);
    expect(server.status().cache).toMatchObject({ entries: 1, diskBytes: file.byteLength, memoryBytes: 0 });
    const etag = (await fetch(httpUrl('P0030801SR02.loads'), { method: 'HEAD' })).headers.get('etag');
    expect(etag).toBe(`"${sha256(file).slice(0, 16)}"`);
    // Every transfer gave its reference back: once flushed, the file leaves the disk.
    expect(await server.flush()).toBe(1);
    await vi.waitFor(async () => expect(await filesUnder(dir)).toEqual([]));
  });

  it('an HTTP client that stops reading keeps its file until it goes, then its reference is released', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-server-cache-'));
    const file = pattern(8 * 1024 * 1024, 12);
    const b = await startCluster('127.0.0.2', { 'P0030801SR02.loads': file });
    clusters.push(b);
    server = await startProxy({
      clusters: [{ id: 'cluster-b', tftp: [b.address] }],
      cache: { dir, maxBytes: 1024 * 1024 },
    });
    // Fill the cache first, so the test below is about the response alone.
    await tftpGet(tftpTarget(), 'P0030801SR02.loads', { blksize: 1468, windowsize: 16 });
    const sent: number[] = [];
    server.on('failed', () => sent.push(-1));
    const req = request(httpUrl('P0030801SR02.loads'));
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end();
    });
    res.pause(); // a phone that never reads
    expect(res.statusCode).toBe(200);
    await vi.waitFor(() => expect(server!.status().activeSessions.http).toBe(1));
    await server.flush();
    // Still held by the stalled response: the file stays until it goes.
    expect((await filesUnder(dir)).length).toBe(1);
    res.destroy();
    req.destroy();
    await vi.waitFor(async () => expect(await filesUnder(dir)).toEqual([]));
    await vi.waitFor(() => expect(sent).toEqual([-1]));
  });

  it('beyond the fetch budget a phone gets TFTP ERROR 0 "server busy" (never "not found"), HTTP 503', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-server-cache-'));
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // A cluster that holds its answer for one name, so that fetch keeps the only slot.
    const cluster = createServer({
      handler: async (req) => {
        if (req.filename === 'slow.loads') await gate;
        if (req.filename === 'FileNotThere') throw new FileNotFoundError(req.filename);
        return new TextEncoder().encode(`<${req.filename}/>`);
      },
    });
    const [bound] = await cluster.listen(['127.0.0.2:0']);
    clusters.push({ server: cluster });
    server = await startProxy({
      clusters: [{ id: 'cluster-b', tftp: [`127.0.0.2:${bound!.port}`] }],
      cache: { dir, maxFetches: 1, budgetWaitMs: 0 },
      upstream: { timeoutMs: 5000 },
    });
    const slow = tftpGet(tftpTarget(), 'slow.loads');
    await vi.waitFor(() => expect(server!.status().cache.inflightFetches).toBe(1));
    const refused = await tftpGet(tftpTarget(), 'SEP001122334455.cnf.xml').then(
      () => undefined,
      (err: unknown) => err as { code?: string; message?: string; errorCode?: number },
    );
    expect(refused?.message).toBe('peer sent ERROR 0: server busy');
    const overHttp = await fetch(httpUrl('SEP001122334455.cnf.xml'));
    expect([overHttp.status, await overHttp.text()]).toEqual([503, 'server busy\n']);
    expect(server.status().cache.budgetRefusals).toBe(2);
    open();
    expect(new TextDecoder().decode(await slow)).toBe('<slow.loads/>');
    const metrics = await (await fetch(`${server.addresses.admin!.url}/metrics`)).text();
    expect(metrics).toContain('ptftp_budget_refusals_total 2');
    expect(metrics).toContain('ptftp_upstream_fetches_total{cluster="cluster-b"} 1');
  });
});
