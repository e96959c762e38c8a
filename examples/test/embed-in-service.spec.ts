import { createHash } from 'node:crypto';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freeUdpPort } from '../../test-support/peers.js';
import { type EmbedHandle, type LogLine, main } from '../embed-in-service.js';
import { CLUSTER_FILES, LOCAL_FILES } from '../two-cluster-proxy.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const B1 = 'SEP00AABBCC0B01.cnf.xml';

describe('examples/embed-in-service.ts', () => {
  let ex: EmbedHandle | undefined;
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
  });

  async function start() {
    const lines: LogLine[] = [];
    const port = await freeUdpPort();
    ex = await main({
      port: 0,
      tftpListen: [`127.0.0.1:${port}`],
      httpListen: ['127.0.0.1:0'],
      log: (l) => lines.push(l),
    });
    return { ex, lines, tftp: { host: '127.0.0.1', port } };
  }
  /** Wait until `ok` holds; past 2 s the test fails, naming the condition. */
  const until = (ok: () => boolean) =>
    vi.waitFor(() => expect(ok(), String(ok)).toBe(true), { timeout: 2000, interval: 20 });

  it("keeps the service's own routes and adds status and resolve routes backed by the proxy", async () => {
    const { ex } = await start();
    expect(await (await fetch(`${ex.url}/healthz`)).json()).toEqual({ ok: true, proxy: 'running' });
    const status = (await (await fetch(`${ex.url}/api/tftp/status`)).json()) as {
      clusters: { id: string }[];
    };
    expect(status.clusters.map((c) => c.id)).toEqual(['cluster-b']);

    const res = await fetch(`${ex.url}/api/tftp/resolve?name=${B1}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { size: number; sha256: string; source: string; clusterId: string };
    expect(body.sha256).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
    expect([body.source, body.clusterId]).toEqual(['cluster', 'cluster-b']);
    const again = (await (await fetch(`${ex.url}/api/tftp/resolve?name=${B1}`)).json()) as { source: string };
    expect(again.source).toBe('cache');
    expect(body.size).toBe(Buffer.byteLength(CLUSTER_FILES['cluster-b'][B1]!));
    expect((await fetch(`${ex.url}/api/tftp/resolve?name=SEPFFFFFFFFFFFF.cnf.xml`)).status).toBe(404);
  });

  it('phones fetching over TFTP show up in the service log with their source; a flush route makes the cluster asked again', async () => {
    const { ex, lines, tftp } = await start();
    expect(sha256(await tftpGet(tftp, B1))).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
    expect(sha256(await tftpGet(tftp, B1))).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
    expect((await tftpGet(tftp, 'RingList.xml')).toString()).toBe(LOCAL_FILES['RingList.xml']);
    await until(() => lines.filter((l) => l.msg === 'tftp file served').length >= 3);
    expect(
      lines.filter((l) => l.msg === 'tftp file served').map((l) => [l.file, l.source, l.cluster]),
    ).toEqual([
      [B1, 'cluster', 'cluster-b'],
      [B1, 'cache', 'cluster-b'],
      ['RingList.xml', 'local', undefined],
    ]);
    expect(ex.cluster.requests(B1)).toBe(1);

    const flush = await fetch(`${ex.url}/api/tftp/flush`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ device: 'SEP00AABBCC0B01' }),
    });
    expect(await flush.json()).toEqual({ flushed: 1 });
    await tftpGet(tftp, B1);
    expect(ex.cluster.requests(B1)).toBe(2);
    expect(lines.some((l) => l.msg === 'tftp cache flushed' && l.flushed === 1)).toBe(true);
  });

  it('close() stops the service and the proxy together', async () => {
    const { ex: handle, lines, tftp } = await start();
    ex = undefined;
    await handle.close();
    expect(handle.proxy.status().state).toBe('closed');
    await expect(fetch(`${handle.url}/healthz`)).rejects.toThrow();
    await expect(tftpGet(tftp, B1, { retries: 0, retransmitTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'PTFTP_ERR_TIMEOUT',
    });
    expect(lines.at(-1)?.msg).toBe('service stopped');
  });
});
