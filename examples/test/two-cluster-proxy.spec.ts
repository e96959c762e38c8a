import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freeUdpPort } from '../../test-support/peers.js';
import { CLUSTER_FILES, LOCAL_FILES, main, type TwoClusterHandle } from '../two-cluster-proxy.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('examples/two-cluster-proxy.ts', () => {
  let ex: TwoClusterHandle | undefined;
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
  });

  async function start() {
    const port = await freeUdpPort();
    ex = await main({ listen: [`127.0.0.1:${port}`], httpListen: ['127.0.0.1:0'], upstreamTimeoutMs: 300 });
    const http = ex.addresses.http[0]!.url;
    return { target: { host: '127.0.0.1', port }, http, ex };
  }

  it('serves each remote cluster its own phones over TFTP, byte for byte, from the right cluster', async () => {
    const { target, ex } = await start();
    const b = CLUSTER_FILES['cluster-b']['SEP00AABBCC0B01.cnf.xml']!;
    const c = CLUSTER_FILES['cluster-c']['SEP00AABBCC0C01.cnf.xml']!;
    expect(sha256(await tftpGet(target, 'SEP00AABBCC0B01.cnf.xml'))).toBe(sha256(b));
    expect(sha256(await tftpGet(target, 'SEP00AABBCC0C01.cnf.xml'))).toBe(sha256(c));
    expect(sha256(await tftpGet(target, 'SEP001122334455.cnf.xml'))).toBe(
      sha256(LOCAL_FILES['SEP001122334455.cnf.xml']!),
    );
    await vi.waitFor(() => expect(ex.served).toHaveLength(3), { timeout: 2000, interval: 20 });
    expect(ex.served.map((s) => [s.name, s.source, s.clusterId])).toEqual([
      ['SEP00AABBCC0B01.cnf.xml', 'cluster', 'cluster-b'],
      ['SEP00AABBCC0C01.cnf.xml', 'cluster', 'cluster-c'],
      ['SEP001122334455.cnf.xml', 'local', undefined],
    ]);
  });

  it('answers the second request from the cache: the cluster is asked once, until a flush', async () => {
    const { target, ex } = await start();
    const b = ex.clusters['cluster-b'];
    const name = 'SEP00AABBCC0B02.cnf.xml';
    for (let i = 0; i < 3; i++) await tftpGet(target, name);
    expect(b.requests(name)).toBe(1);
    expect(await ex.proxy.flush({ device: 'SEP00AABBCC0B02' })).toBe(1);
    const again = await tftpGet(target, name);
    expect(b.requests(name)).toBe(2);
    expect(sha256(again)).toBe(sha256(CLUSTER_FILES['cluster-b'][name]!));
  });

  it('serves the common file RingList.xml from its own folder, never a cluster copy, and picks up a replaced file without restart', async () => {
    const { target, http, ex } = await start();
    const got = await tftpGet(target, 'RingList.xml');
    expect(got.toString()).toBe(LOCAL_FILES['RingList.xml']);
    expect(ex.clusters['cluster-b'].requests('RingList.xml')).toBe(0);
    expect(ex.clusters['cluster-c'].requests('RingList.xml')).toBe(0);

    const replaced = '<CiscoIPPhoneRingList><!-- uploaded later --></CiscoIPPhoneRingList>\n';
    await writeFile(join(ex.root, 'RingList.xml'), replaced);
    expect((await tftpGet(target, 'RingList.xml')).toString()).toBe(replaced);
    const res = await fetch(`${http}/RingList.xml`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(replaced);
  });

  it('serves the same bytes over HTTP (port 6970 style) and answers 404 / TFTP error 1 for a file no cluster has', async () => {
    const { target, http } = await start();
    const res = await fetch(`${http}/SEP00AABBCC0C01.cnf.xml`);
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(
      sha256(CLUSTER_FILES['cluster-c']['SEP00AABBCC0C01.cnf.xml']!),
    );
    expect((await fetch(`${http}/SEPFFFFFFFFFFFF.cnf.xml`)).status).toBe(404);
    await expect(tftpGet(target, 'SEPFFFFFFFFFFFF.cnf.xml', { retries: 1 })).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
  });

  it("fails over to a cluster's second TFTP server when the first is down", async () => {
    const { target, ex } = await start();
    const b = ex.clusters['cluster-b'];
    await b.stopServer(0);
    const failovers: string[] = [];
    ex.proxy.on('failover', (f) => failovers.push(`${f.clusterId}:${f.from}->${f.to}`));
    const got = await tftpGet(target, 'SEP00AABBCC0B01.cnf.xml', { retries: 3 });
    expect(sha256(got)).toBe(sha256(CLUSTER_FILES['cluster-b']['SEP00AABBCC0B01.cnf.xml']!));
    expect(failovers).toEqual([`cluster-b:${b.tftp[0]}->${b.tftp[1]}`]);
    // `served` fires when the proxy gets the last ACK, just after the client has its bytes.
    await vi.waitFor(() => expect(ex.served).toHaveLength(1), { timeout: 2000, interval: 20 });
    expect(ex.served.map((s) => [s.clusterId, s.address])).toEqual([['cluster-b', b.tftp[1]]]);
  });
});
