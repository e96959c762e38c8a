import { createHash } from 'node:crypto';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../test-support/peers.js';
import { type DiscoveryHandle, main } from '../discovery-source.js';
import { CLUSTER_FILES } from '../two-cluster-proxy.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const B1 = 'SEP00AABBCC0B01.cnf.xml';
const C1 = 'SEP00AABBCC0C01.cnf.xml';

describe('examples/discovery-source.ts', () => {
  let ex: DiscoveryHandle | undefined;
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
  });

  async function start() {
    const port = await freeUdpPort();
    ex = await main({ listen: [`127.0.0.1:${port}`] });
    return { target: { host: '127.0.0.1', port }, ex };
  }
  const ids = (h: DiscoveryHandle) => h.proxy.status().clusters.map((c) => c.id);

  it('starts with the clusters the inventory lists, and serves a cluster added to it after a refresh', async () => {
    const { target, ex } = await start();
    expect(ids(ex)).toEqual(['cluster-b']);
    expect(sha256(await tftpGet(target, B1))).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
    await expect(tftpGet(target, C1, { retries: 1 })).rejects.toMatchObject({ code: 'PTFTP_ERR_NOT_FOUND' });
    expect(ex.clusters['cluster-c'].requests(C1)).toBe(0);

    ex.inventory.publish([ex.entries['cluster-b'], ex.entries['cluster-c']]);
    expect(await ex.refresh()).toEqual({ ok: true });
    expect(ids(ex)).toEqual(['cluster-b', 'cluster-c']);
    // The "not found" answered before the refresh is dropped with the topology change.
    expect(sha256(await tftpGet(target, C1))).toBe(sha256(CLUSTER_FILES['cluster-c'][C1]!));
  });

  it('rejects an invalid result with every violation by path, and keeps serving the last good topology', async () => {
    const { target, ex } = await start();
    ex.inventory.publish([ex.entries['cluster-b'], ex.entries['cluster-c']]);
    expect((await ex.refresh()).ok).toBe(true);

    ex.inventory.publish([
      {
        ...ex.entries['cluster-b'],
        tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
        peers: ['proxy-a', 'cluster-c'],
      },
      { ...ex.entries['cluster-c'], peers: ['proxy-a', 'cluster-b'] },
    ]);
    const result = await ex.refresh();
    expect(result.ok).toBe(false);
    const lines = (result.violations ?? []).map((v) => `${v.path}: ${v.message}`);
    expect(lines).toContain('clusters[0].tftp[3]: at most 3 TFTP addresses per cluster');
    expect(lines.some((l) => l.startsWith('clusters[0].peers[1]: peers form a loop'))).toBe(true);
    expect(lines.some((l) => l.startsWith('clusters[1].peers[1]: peers form a loop'))).toBe(true);

    expect(ids(ex)).toEqual(['cluster-b', 'cluster-c']);
    expect(sha256(await tftpGet(target, B1))).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
    expect(sha256(await tftpGet(target, C1))).toBe(sha256(CLUSTER_FILES['cluster-c'][C1]!));
  });

  it('a failing inventory (HTTP 503) also keeps the last good topology', async () => {
    const { target, ex } = await start();
    ex.inventory.failWith(503);
    const result = await ex.refresh();
    expect(result.ok).toBe(false);
    expect(result.violations?.[0]?.message).toContain('HTTP 503');
    expect(ids(ex)).toEqual(['cluster-b']);
    expect(sha256(await tftpGet(target, B1))).toBe(sha256(CLUSTER_FILES['cluster-b'][B1]!));
  });
});
