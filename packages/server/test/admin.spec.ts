import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyServer } from '../src/index.js';
import { type FakeCluster, metricValue, startCluster, startProxy, untilServed } from './fixtures.js';

describe('admin endpoint (loopback by default)', () => {
  let server: ProxyServer | undefined;
  const clusters: FakeCluster[] = [];
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    await Promise.all(clusters.splice(0).map((c) => c.server.close({ graceMs: 0 })));
  });
  const admin = (path: string) => `${server!.addresses.admin!.url}${path}`;
  const post = (path: string, body: unknown) =>
    fetch(admin(path), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers /health on loopback with {"status":"ok"}', async () => {
    server = await startProxy({ admin: { listen: '127.0.0.1:0' } });
    expect(server.addresses.admin?.address).toBe('127.0.0.1');
    const res = await fetch(admin('/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/metrics moves when files are served (Prometheus text from the server registry)', async () => {
    server = await startProxy({}, { 'RingList.xml': 'ring' });
    const before = await (await fetch(admin('/metrics'))).text();
    const t = server.addresses.tftp[0]!;
    const reported = untilServed(server, 1);
    await tftpGet({ host: t.address, port: t.port }, 'RingList.xml');
    await reported;
    const after = await (await fetch(admin('/metrics'))).text();
    const labels = { transport: 'tftp', source: 'local' };
    expect(metricValue(before, 'ptftp_transfers_total', labels)).toBe(0);
    expect(metricValue(after, 'ptftp_transfers_total', labels)).toBe(1);
    expect(metricValue(after, 'ptftp_bytes_served_total', labels)).toBe(4);
    expect(after).toContain('# TYPE ptftp_active_sessions gauge');
  });

  it('/cache/flush drops all, one name, a pattern or a device, and says how many', async () => {
    const b = await startCluster('127.0.0.2', {
      'SEP00AABBCC0B01.cnf.xml': 'one',
      'SEP00AABBCC0B02.cnf.xml': 'two',
      'SEP00AABBCC0B03.cnf.xml': 'three',
    });
    clusters.push(b);
    server = await startProxy({ clusters: [{ id: 'cluster-b', tftp: [b.address] }] });
    const t = server.addresses.tftp[0]!;
    const fill = async () => {
      for (const n of ['01', '02', '03'])
        await tftpGet({ host: t.address, port: t.port }, `SEP00AABBCC0B${n}.cnf.xml`);
    };
    await fill();
    expect(await (await post('/cache/flush', { name: 'SEP00AABBCC0B01.cnf.xml' })).json()).toEqual({
      flushed: 1,
    });
    expect(await (await post('/cache/flush', { device: ['SEP00AABBCC0B02'] })).json()).toEqual({
      flushed: 1,
    });
    expect(await (await post('/cache/flush', { pattern: 'SEP*.cnf.xml' })).json()).toEqual({ flushed: 1 });
    await fill();
    expect(await (await post('/cache/flush', {})).json()).toEqual({ flushed: 3 });
    // After a flush the next request goes to the cluster again (the phone-moved case).
    await fill();
    expect(b.asked.filter((n) => n === 'SEP00AABBCC0B01.cnf.xml')).toHaveLength(3);
  });

  it('/status reports addresses, cache and cluster health; /clusters the cluster list', async () => {
    const b = await startCluster('127.0.0.2', {});
    clusters.push(b);
    server = await startProxy({ clusters: [{ id: 'cluster-b', tftp: [b.address] }] });
    const status = (await (await fetch(admin('/status'))).json()) as Record<string, unknown>;
    expect(status.state).toBe('running');
    expect(status.clusters).toEqual([
      { id: 'cluster-b', enabled: true, addresses: [{ address: b.address, healthy: true, failures: 0 }] },
    ]);
    const list = (await (await fetch(admin('/clusters'))).json()) as { clusters: { id: string }[] };
    expect(list.clusters.map((c) => c.id)).toEqual(['cluster-b']);
  });

  it('refuses a POST without a JSON content type (415), bad selectors (400), unknown paths (404)', async () => {
    server = await startProxy({});
    const form = await fetch(admin('/cache/flush'), { method: 'POST', body: 'name=x' });
    expect(form.status).toBe(415);
    const two = await post('/cache/flush', { name: 'a', pattern: 'b*' });
    expect(two.status).toBe(400);
    expect(await two.json()).toEqual({
      error: { message: 'give at most one of "name", "pattern", "device"' },
    });
    expect((await fetch(admin('/nope'))).status).toBe(404);
    expect((await fetch(admin('/cache/flush'))).status).toBe(405);
  });

  it('/reload without a configuration source is refused with 409 and a clear message', async () => {
    server = await startProxy({});
    const res = await post('/reload', {});
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: 'PTFTP_ERR_STATE',
        message: 'no configuration file to reload from (the server was started without one)',
      },
    });
  });
});
