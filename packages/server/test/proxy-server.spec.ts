import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '@ptftp/protocol';
import { instrumentedGet } from '@ptftp/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createProxyServer, type ProxyServer } from '../src/index.js';
import {
  type FakeCluster,
  metricValue,
  pattern,
  sha256,
  startCluster,
  startProxy,
  untilServed,
} from './fixtures.js';

describe('createProxyServer', () => {
  let server: ProxyServer | undefined;
  const clusters: FakeCluster[] = [];
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    await Promise.all(clusters.splice(0).map((c) => c.server.close({ graceMs: 0 })));
  });

  const tftpTarget = () => {
    const a = server!.addresses.tftp[0]!;
    return { host: a.address, port: a.port };
  };

  it('TFTP and HTTP share the cache: one upstream fetch serves both, with identical bytes', async () => {
    const file = pattern(40_000, 7);
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': file });
    clusters.push(b);
    server = await startProxy({ clusters: [{ id: 'cluster-b', tftp: [b.address] }] });
    const sources: string[] = [];
    server.on('served', (s) => sources.push(`${s.transport}:${s.source}`));
    const reported = untilServed(server, 2);

    const overTftp = await tftpGet(tftpTarget(), 'SEP00AABBCC0B01.cnf.xml');
    const res = await fetch(`${server.addresses.http[0]!.url}/SEP00AABBCC0B01.cnf.xml`);
    const overHttp = new Uint8Array(await res.arrayBuffer());

    expect(sha256(overTftp)).toBe(sha256(file));
    expect(sha256(overHttp)).toBe(sha256(file));
    expect(b.asked).toEqual(['SEP00AABBCC0B01.cnf.xml']);
    await reported;
    expect(sources).toEqual(['tftp:cluster', 'http:cache']);
  });

  it('common files are served from the local copy even when the home cluster has its own', async () => {
    const b = await startCluster('127.0.0.2', { 'RingList.xml': '<cluster copy/>' });
    clusters.push(b);
    server = await startProxy(
      { clusters: [{ id: 'cluster-b', tftp: [b.address] }] },
      { 'RingList.xml': '<proxy copy/>' },
    );
    const data = await tftpGet(tftpTarget(), 'RingList.xml');
    expect(new TextDecoder().decode(data)).toBe('<proxy copy/>');
    expect(b.asked).toEqual([]);
  });

  it('metrics count requests, bytes and transfers by source in a Registry of its own', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': pattern(3000) });
    clusters.push(b);
    server = await startProxy(
      { clusters: [{ id: 'cluster-b', tftp: [b.address] }] },
      { 'RingList.xml': 'ring' },
    );
    const reported = untilServed(server, 3);
    await tftpGet(tftpTarget(), 'SEP00AABBCC0B01.cnf.xml');
    await tftpGet(tftpTarget(), 'SEP00AABBCC0B01.cnf.xml');
    await tftpGet(tftpTarget(), 'RingList.xml');
    await expect(tftpGet(tftpTarget(), 'SEP000000000000.cnf.xml')).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
    await reported;
    const text = await server.metrics.registry.metrics();
    expect(metricValue(text, 'ptftp_transfers_total', { transport: 'tftp', source: 'cluster' })).toBe(1);
    expect(metricValue(text, 'ptftp_transfers_total', { transport: 'tftp', source: 'cache' })).toBe(1);
    expect(metricValue(text, 'ptftp_transfers_total', { transport: 'tftp', source: 'local' })).toBe(1);
    expect(metricValue(text, 'ptftp_bytes_served_total', { transport: 'tftp', source: 'cache' })).toBe(3000);
    expect(metricValue(text, 'ptftp_requests_total', { transport: 'tftp', result: 'not_found' })).toBe(1);
    expect(metricValue(text, 'ptftp_cache_entries')).toBe(1);
    expect(metricValue(text, 'ptftp_cache_bytes')).toBeGreaterThanOrEqual(3000);
  });

  it('upstream errors and failovers are counted per cluster', async () => {
    const b = await startCluster('127.0.0.3', { 'SEP00AABBCC0B01.cnf.xml': 'x' });
    clusters.push(b);
    // 127.0.0.2 on a port nobody listens on: the first address fails, the second answers.
    const dead = await startCluster('127.0.0.2', {});
    const deadAddress = dead.address;
    await dead.server.close({ graceMs: 0 });
    server = await startProxy({
      clusters: [{ id: 'cluster-b', tftp: [deadAddress, b.address] }],
      upstream: { timeoutMs: 200, retries: 0 },
    });
    const data = await tftpGet(tftpTarget(), 'SEP00AABBCC0B01.cnf.xml');
    expect(new TextDecoder().decode(data)).toBe('x');
    const text = await server.metrics.registry.metrics();
    expect(metricValue(text, 'ptftp_upstream_errors_total', { cluster: 'cluster-b' })).toBe(1);
    expect(metricValue(text, 'ptftp_failovers_total', { cluster: 'cluster-b' })).toBe(1);
  });

  it('the TFTP option "ptftp-proxied 1" marks a request from another proxy: local store only, never forwarded', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': 'x' });
    clusters.push(b);
    server = await startProxy({ clusters: [{ id: 'cluster-b', tftp: [b.address] }] });
    const t = tftpTarget();
    const out = await instrumentedGet({
      target: { address: t.host, port: t.port },
      name: 'SEP00AABBCC0B01.cnf.xml',
      options: { 'ptftp-proxied': '1' },
      deadlineMs: 5000,
    });
    expect(out.errorCode).toBe(1);
    const res = await fetch(`${server.addresses.http[0]!.url}/SEP00AABBCC0B01.cnf.xml`, {
      headers: { 'X-Ptftp-Proxied': '1' },
    });
    expect(res.status).toBe(404);
    expect(b.asked).toEqual([]);
  });

  it('discovery.file: remote clusters come from a file, validated with the same topology rules', async () => {
    const b = await startCluster('127.0.0.2', { 'SEP00AABBCC0B01.cnf.xml': 'discovered' });
    clusters.push(b);
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-discovery-'));
    try {
      const file = join(dir, 'clusters.json');
      await writeFile(file, JSON.stringify({ clusters: [{ id: 'cluster-b', tftp: [b.address] }] }));
      const results: boolean[] = [];
      server = createProxyServer({
        listen: ['127.0.0.1:0'],
        http: { enabled: false },
        admin: { enabled: false },
        discovery: { file },
      });
      server.on('discovery', (r) => results.push(r.ok));
      await server.start();
      expect(new TextDecoder().decode(await tftpGet(tftpTarget(), 'SEP00AABBCC0B01.cnf.xml'))).toBe(
        'discovered',
      );
      // A refresh with a broken topology is refused and the discovered clusters stay.
      await writeFile(
        file,
        JSON.stringify({
          clusters: [{ id: 'cluster-b', tftp: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'] }],
        }),
      );
      const refused = await server.refreshDiscovery();
      expect(refused.ok).toBe(false);
      expect(refused.violations?.map((v) => `${v.path}: ${v.message}`)).toEqual([
        'clusters[0].tftp[3]: at most 3 TFTP addresses per cluster',
      ]);
      expect(server.status().clusters.map((c) => c.id)).toEqual(['cluster-b']);
      expect(results).toEqual([true, false]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('signing mode "resign" without key and certificate is refused by path', () => {
    expect(() => createProxyServer({ signing: { mode: 'resign' } })).toThrow(
      /signing: mode "resign" needs "key" and "certificate"/,
    );
  });

  it('an invalid configuration throws ConfigError (PTFTP_ERR_CONFIG) before binding anything', () => {
    expect(() => createProxyServer({ listen: [], clusters: [{ id: 'x', tftp: [] }] })).toThrow(ConfigError);
    expect(() => createProxyServer({ listen: [] })).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_CONFIG',
        issues: [{ path: 'listen', message: 'Too small: expected array to have >=1 items' }],
      }),
    );
  });

  it('a busy port is a ListenError naming the address, and nothing stays bound', async () => {
    server = await startProxy({});
    const taken = server.addresses.tftp[0]!.url.replace('tftp://', '');
    const second = createProxyServer({
      listen: [taken],
      http: { enabled: false },
      admin: { enabled: false },
    });
    await expect(second.start()).rejects.toMatchObject({ code: 'PTFTP_ERR_LISTEN', address: taken });
    expect(second.status().state).toBe('closed');
  });
});
