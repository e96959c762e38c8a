import dgram from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet, tftpGetStream } from '@ptftp/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freeTcpPort, freeUdpPort } from '../../../test-support/peers.js';
import {
  ConfigError,
  createProxyServer,
  effectiveConfig,
  loadConfig,
  type ProxyServer,
  parseConfig,
  planReload,
} from '../src/index.js';
import { type FakeCluster, pattern, sha256, startCluster } from './fixtures.js';

describe('planReload: which changes apply live', () => {
  const base = parseConfig({ listen: ['127.0.0.1:6969'], store: { root: '/srv/a' } });

  it('clusters, cache, store, limits and listen apply live; only limits.ports waits for a restart', () => {
    const next = parseConfig({
      listen: ['127.0.0.1:7000'],
      store: { root: '/srv/b' },
      cache: { ttlSeconds: 60 },
      limits: { maxSessions: 10, ports: 'single' },
      clusters: [{ id: 'cluster-b', tftp: ['127.0.0.2'] }],
    });
    expect(planReload(base, next)).toEqual({
      applied: ['store', 'clusters', 'cache', 'limits', 'listen'],
      restartRequired: ['limits.ports'],
      storeReplaced: true,
    });
  });

  it('limits removed from the file go back to their defaults, live', () => {
    const tuned = parseConfig({ ...base, limits: { maxBlksize: 512, maxSessions: 10 } });
    expect(planReload(tuned, base)).toEqual({
      applied: ['limits'],
      restartRequired: [],
      storeReplaced: false,
    });
  });

  it('a port moving to or from a wildcard address waits for a restart; distinct ports and IPs rebind live', () => {
    const at = (listen: string[]) => parseConfig({ ...base, listen });
    const plan = (from: string[], to: string[]) => planReload(at(from), at(to));
    expect(plan(['127.0.0.1:69'], ['0.0.0.0:69'])).toMatchObject({
      applied: [],
      restartRequired: ['listen'],
    });
    expect(plan(['0.0.0.0:69', '[::]:69'], ['[::]:69']).restartRequired).toEqual(['listen']);
    // [::] beside a kept 0.0.0.0 is IPv6-only, live or at a fresh start: no clash.
    expect(plan(['0.0.0.0:69'], ['0.0.0.0:69', '[::]:69'])).toMatchObject({
      applied: ['listen'],
      restartRequired: [],
    });
    // A dual-stack [::] going away while an IPv4 address takes its port, or arriving beside one.
    expect(plan(['[::]:69'], ['127.0.0.1:69']).restartRequired).toEqual(['listen']);
    expect(plan(['127.0.0.1:69'], ['127.0.0.1:69', '[::]:69']).restartRequired).toEqual(['listen']);
    // Both stacks moving to another port together, and specific addresses of two families.
    expect(plan(['0.0.0.0:69', '[::]:69'], ['0.0.0.0:70', '[::]:70']).restartRequired).toEqual([]);
    expect(plan(['0.0.0.0:69'], ['0.0.0.0:69', '[::1]:69']).restartRequired).toEqual([]);
    expect(plan(['127.0.0.1:69'], ['127.0.0.2:69'])).toMatchObject({
      applied: ['listen'],
      restartRequired: [],
    });
    expect(plan(['0.0.0.0:69'], ['0.0.0.0:6969'])).toMatchObject({
      applied: ['listen'],
      restartRequired: [],
    });
    // One socket, two spellings: no change at all.
    expect(plan(['[::1]:69'], ['[0:0::1]:69'])).toMatchObject({ applied: [], restartRequired: [] });
    // HTTP sockets are IPv6-only: both wildcards of a new port come up live.
    const http = (listen: string[], enabled = true) => parseConfig({ ...base, http: { enabled, listen } });
    expect(
      planReload(http(['127.0.0.1:8080'], false), http(['0.0.0.0:8080', '[::]:8080'])).restartRequired,
    ).toEqual([]);
    const effective = effectiveConfig(at(['127.0.0.1:69']), at(['0.0.0.0:69']));
    expect(effective.listen).toEqual(['127.0.0.1:69']);
  });

  it('limits.ports alone is no live change: only a restart', () => {
    const next = parseConfig({ ...base, limits: { ports: { from: 50000, to: 50999 } } });
    expect(planReload(base, next)).toEqual({
      applied: [],
      restartRequired: ['limits.ports'],
      storeReplaced: false,
    });
  });

  it('an identical configuration changes nothing', () => {
    expect(planReload(base, parseConfig(base))).toEqual({
      applied: [],
      restartRequired: [],
      storeReplaced: false,
    });
  });
});

describe('reload without a restart', () => {
  let dir: string;
  let server: ProxyServer | undefined;
  const clusters: FakeCluster[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-reload-'));
  });
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    await Promise.all(clusters.splice(0).map((c) => c.server.close({ graceMs: 0 })));
    await rm(dir, { recursive: true, force: true });
  });

  async function start(config: Record<string, unknown>): Promise<string> {
    const file = join(dir, 'ptftp.config.json');
    await writeFile(file, JSON.stringify(config));
    server = createProxyServer(await loadConfig(file), { configSource: () => loadConfig(file) });
    const causes: string[] = [];
    server.on('listening', (_a, cause) => causes.push(cause));
    await server.start();
    // start() announces its sockets once, as 'start': a log can tell them from a reload's.
    expect(causes).toEqual(['start']);
    return file;
  }

  it('applies a new valid configuration: a cluster added by reload is asked from then on', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': 'from b' });
    clusters.push(b);
    const base = {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root: '.' },
    };
    const file = await start(base);
    const t = server!.addresses.tftp[0]!;
    await expect(tftpGet({ host: t.address, port: t.port }, 'SEP00AABBCC0B01.cnf.xml')).rejects.toMatchObject(
      {
        code: 'PTFTP_ERR_NOT_FOUND',
      },
    );
    await writeFile(file, JSON.stringify({ ...base, clusters: [{ id: 'cluster-b', tftp: [b.address] }] }));
    // The "file not found" answer above may be held by the negative cache: flush, as an operator would.
    const result = await server!.reload();
    await server!.flush();
    expect(result.applied).toEqual(['clusters']);
    const data = await tftpGet({ host: t.address, port: t.port }, 'SEP00AABBCC0B01.cnf.xml');
    expect(new TextDecoder().decode(data)).toBe('from b');
    expect(server!.status().reloads).toEqual({ applied: 1, rejected: 0 });
  });

  it('cache hits and misses in status survive a reload that replaces the store (and so the resolver)', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': 'from b' });
    clusters.push(b);
    await mkdir(join(dir, 'v2'));
    const base = {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root: '.' },
      clusters: [{ id: 'cluster-b', tftp: [b.address] }],
    };
    const file = await start(base);
    const t = server!.addresses.tftp[0]!;
    await tftpGet({ host: t.address, port: t.port }, 'SEP00AABBCC0B01.cnf.xml');
    await tftpGet({ host: t.address, port: t.port }, 'SEP00AABBCC0B01.cnf.xml');
    const before = server!.status().cache;
    expect(before.hits).toBeGreaterThanOrEqual(1);
    expect(before.misses).toBeGreaterThanOrEqual(1);
    await writeFile(file, JSON.stringify({ ...base, store: { root: './v2' } }));
    expect((await server!.reload()).storeReplaced).toBe(true);
    const after = server!.status().cache;
    expect([after.hits, after.misses]).toEqual([before.hits, before.misses]);
    // The new resolver starts with an empty cache: entries are not history.
    expect(after.entries).toBe(0);
    const metrics = await server!.metrics.registry.metrics();
    expect(metrics).toContain('ptftp_cache_entries 0');
  });

  it('new TFTP, HTTP and admin addresses are bound live; the old ones close; a transfer in flight finishes', async () => {
    const big = pattern(2 * 1024 * 1024, 9);
    await writeFile(join(dir, 'big.bin'), big);
    // Port 0 on two loopback addresses: the OS picks every port, so no port can be taken
    // between choosing it and binding it; the move from 127.0.0.1 to 127.0.0.2 is the change.
    const config = (ip: string) => ({
      listen: [`${ip}:0`],
      http: { listen: [`${ip}:0`] },
      admin: { listen: `${ip}:0` },
      store: { root: '.' },
    });
    const file = await start(config('127.0.0.1'));
    const old = server!.status().addresses;
    const [t1, h1, a1] = [old.tftp[0]!.port, old.http[0]!.port, old.admin!.port];
    // A slow download (lockstep, 512-byte blocks: 4,097 round trips) that the reload must not cut.
    let received = 0;
    const inFlight = tftpGet({ host: '127.0.0.1', port: t1 }, 'big.bin', {
      onProgress: (bytes) => {
        received = bytes;
      },
    });
    await vi.waitFor(() => expect(received).toBeGreaterThan(0), { interval: 2 });
    const announced: Array<[string, string[]]> = [];
    server!.on('listening', (a, cause) => announced.push([cause, a.tftp.map((t) => t.address)]));
    await writeFile(file, JSON.stringify(config('127.0.0.2')));
    const result = await server!.reload();
    expect(announced).toEqual([['reload', ['127.0.0.2']]]);
    // Still running when the old address closed.
    expect(received).toBeLessThan(big.length);
    expect(result.applied).toEqual(['listen', 'http', 'admin']);
    expect(result.restartRequired).toEqual([]);
    const now = server!.status().addresses;
    expect([now.tftp.map((a) => a.address), now.http.map((a) => a.address), now.admin?.address]).toEqual([
      ['127.0.0.2'],
      ['127.0.0.2'],
      '127.0.0.2',
    ]);
    const [t2, h2, a2] = [now.tftp[0]!.port, now.http[0]!.port, now.admin!.port];
    expect(sha256(await inFlight)).toBe(sha256(big));
    const quick = { retransmitTimeoutMs: 100, retries: 1 };
    expect(sha256(await tftpGet({ host: '127.0.0.2', port: t2 }, 'big.bin', { blksize: 8192 }))).toBe(
      sha256(big),
    );
    await expect(tftpGet({ host: '127.0.0.1', port: t1 }, 'big.bin', quick)).rejects.toMatchObject({
      code: 'PTFTP_ERR_TIMEOUT',
    });
    expect(
      (await fetch(`http://127.0.0.2:${h2}/big.bin`, { method: 'HEAD' })).headers.get('content-length'),
    ).toBe(String(big.length));
    await expect(fetch(`http://127.0.0.1:${h1}/big.bin`)).rejects.toThrow();
    expect(await (await fetch(`http://127.0.0.2:${a2}/health`)).json()).toEqual({ status: 'ok' });
    // The old admin endpoint finishes the request that may have asked for the reload, then closes.
    await vi.waitFor(() => expect(fetch(`http://127.0.0.1:${a1}/health`)).rejects.toThrow());
  });

  it('a close() during the reload wins: the reload is refused and the sockets it bound are released', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const [h1, h2] = [await freeTcpPort(), await freeTcpPort()];
    const base = {
      listen: ['127.0.0.1:0'],
      http: { listen: [`127.0.0.1:${h1}`] },
      admin: { enabled: false },
    };
    server = createProxyServer(base, {
      discovery: {
        discover: async () => {
          if (calls++ > 0) await gate;
          return [];
        },
      },
    });
    await server.start();
    const reloading = server.reload({ ...base, http: { listen: [`127.0.0.1:${h2}`] } });
    await vi.waitFor(() => expect(calls).toBe(2));
    const closing = server.close({ graceMs: 0 });
    release();
    await expect(reloading).rejects.toMatchObject({ code: 'PTFTP_ERR_STATE' });
    await closing;
    await expect(fetch(`http://127.0.0.1:${h2}/x`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${h1}/x`)).rejects.toThrow();
  });

  it('a reload before start() applies to what start() then binds; close() leaves nothing listening', async () => {
    const [h1, h2] = [await freeTcpPort(), await freeTcpPort()];
    const base = {
      listen: ['127.0.0.1:0'],
      http: { listen: [`127.0.0.1:${h1}`] },
      admin: { enabled: false },
    };
    server = createProxyServer(base);
    const reloaded = server.reload({ ...base, http: { listen: [`127.0.0.1:${h2}`] } });
    const started = server.start();
    expect((await reloaded).applied).toEqual(['http']);
    expect((await started).http.map((a) => a.port)).toEqual([h2]);
    await server.close({ graceMs: 0 });
    await expect(fetch(`http://127.0.0.1:${h1}/x`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${h2}/x`)).rejects.toThrow();
  });

  it('a close() while start() binds: start() rejects and no socket stays bound', async () => {
    const h = await freeTcpPort();
    server = createProxyServer({
      listen: ['127.0.0.1:0'],
      http: { listen: [`127.0.0.1:${h}`] },
      admin: { enabled: false },
    });
    const started = server.start();
    const closed = server.close({ graceMs: 0 });
    await expect(started).rejects.toMatchObject({ code: 'PTFTP_ERR_STATE' });
    await closed;
    await expect(fetch(`http://127.0.0.1:${h}/x`)).rejects.toThrow();
  });

  it('a kept-alive HTTP connection idle on a removed address is closed by the reload', async () => {
    await writeFile(join(dir, 'a.cfg'), 'A');
    const [h1, h2] = [await freeTcpPort(), await freeTcpPort()];
    const base = { listen: ['127.0.0.1:0'], admin: { enabled: false }, store: { root: '.' } };
    const file = await start({ ...base, http: { listen: [`127.0.0.1:${h1}`] } });
    const sock = connect({ host: '127.0.0.1', port: h1 });
    let received = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      received += d;
    });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.write('GET /a.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await vi.waitFor(() => expect(received).toMatch(/\r\n\r\nA$/));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).not.toMatch(/connection: close/i);
    await writeFile(file, JSON.stringify({ ...base, http: { listen: [`127.0.0.1:${h2}`] } }));
    await server!.reload();
    // Without this, Node would go on answering this connection on the removed address.
    await closed;
    expect((await fetch(`http://127.0.0.1:${h2}/a.cfg`)).status).toBe(200);
  });

  it('an address that cannot be bound rejects the reload with nothing changed', async () => {
    const [t1, h1, h2] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
    try {
      const base = {
        listen: [`127.0.0.1:${t1}`],
        http: { listen: [`127.0.0.1:${h1}`] },
        admin: { enabled: false },
      };
      const file = await start({ ...base, cache: { ttlSeconds: 60 } });
      await writeFile(
        file,
        JSON.stringify({
          ...base,
          listen: [`127.0.0.1:${t1}`, `127.0.0.1:${taken.address().port}`],
          http: { listen: [`127.0.0.1:${h2}`] },
          cache: { ttlSeconds: 30 },
        }),
      );
      const err = await server!.reload().catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'PTFTP_ERR_LISTEN',
        message: expect.stringContaining(`127.0.0.1:${taken.address().port}`),
      });
      expect(server!.config.cache.ttlSeconds).toBe(60);
      expect(server!.status().addresses.http.map((a) => a.port)).toEqual([h1]);
      await expect(fetch(`http://127.0.0.1:${h2}/x`)).rejects.toThrow();
      expect((await fetch(`http://127.0.0.1:${h1}/x`)).status).toBe(404);
    } finally {
      taken.close();
    }
  });

  it('limits apply to the next transfers: a lowered maxBlksize is what the next OACK grants', async () => {
    await writeFile(join(dir, 'f.bin'), pattern(5000, 3));
    const base = {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root: '.' },
      limits: { maxBlksize: 1468 },
    };
    const file = await start(base);
    const t = server!.addresses.tftp[0]!;
    const granted = async () => {
      let blksize = 0;
      const data = await tftpGet({ host: t.address, port: t.port }, 'f.bin', {
        blksize: 1468,
        onNegotiated: (n) => {
          blksize = n.blksize;
        },
      });
      expect(sha256(data)).toBe(sha256(pattern(5000, 3)));
      return blksize;
    };
    expect(await granted()).toBe(1468);
    await writeFile(file, JSON.stringify({ ...base, limits: { maxBlksize: 512 } }));
    const result = await server!.reload();
    expect(result.applied).toEqual(['limits']);
    expect(server!.config.limits.maxBlksize).toBe(512);
    expect(await granted()).toBe(512);
  });

  it('refuses an invalid configuration with every problem and keeps the running one', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': 'from b' });
    clusters.push(b);
    const base = {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      clusters: [{ id: 'cluster-b', tftp: [b.address] }],
    };
    const file = await start(base);
    await writeFile(
      file,
      JSON.stringify({
        ...base,
        clusters: [{ id: 'cluster-b', tftp: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'] }],
      }),
    );
    const rejected: string[] = [];
    server!.on('reloadRejected', (e) => rejected.push(e.message));
    const err = await server!.reload().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      { path: 'clusters[0].tftp[3]', message: 'at most 3 TFTP addresses per cluster' },
    ]);
    expect(rejected).toHaveLength(1);
    expect(server!.config.clusters[0]?.tftp).toEqual([b.address]);
    const t = server!.addresses.tftp[0]!;
    const data = await tftpGet({ host: t.address, port: t.port }, 'SEP00AABBCC0B01.cnf.xml');
    expect(new TextDecoder().decode(data)).toBe('from b');
  });

  it('loses no transfer: 50 concurrent 1 MiB TFTP reads complete with the right SHA-256 while reloads apply', async () => {
    const big = pattern(1024 * 1024, 42);
    await writeFile(join(dir, 'load.bin'), big);
    await mkdir(join(dir, 'v2'));
    await writeFile(join(dir, 'v2', 'load.bin'), big);
    const base = {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root: '.' },
    };
    const file = await start(base);
    const t = server!.addresses.tftp[0]!;
    // Held mid-file (nobody reads, so the client holds its ACKs): every transfer is certainly
    // in progress while both reloads run.
    const downloads = await Promise.all(
      Array.from({ length: 50 }, () =>
        tftpGetStream({ host: t.address, port: t.port }, 'load.bin', { blksize: 1428 }),
      ),
    );
    await writeFile(file, JSON.stringify({ ...base, cache: { ttlSeconds: 60 } }));
    const r1 = await server!.reload();
    await writeFile(file, JSON.stringify({ ...base, store: { root: './v2' } }));
    const r2 = await server!.reload();
    const endedBeforeReloads = downloads.filter((d) => d.stream.readableEnded).length;
    const results = await Promise.all(
      downloads.map(async ({ stream }) => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      }),
    );
    expect(r1.applied).toEqual(['cache']);
    expect(r2.storeReplaced).toBe(true);
    expect(endedBeforeReloads).toBe(0);
    expect(results.map((r) => sha256(r))).toEqual(Array(50).fill(sha256(big)));
    // And the new store serves new requests.
    expect(sha256(await tftpGet({ host: t.address, port: t.port }, 'load.bin'))).toBe(sha256(big));
  });
});
