import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tftpGet } from '@ptftp/protocol';
import { HttpUpstream } from '@ptftp/resolver';
import { runUpstreamCompliance } from '@ptftp/resolver/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freeUdpPort } from '../../test-support/peers.js';
import { CLUSTER_D_FILES, type HttpUpstreamHandle, main, startHttpCluster } from '../http-upstream.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A TCP port nothing listens on (bound, then released). */
async function closedTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// The example's node:http cluster, read through the resolver's HttpUpstream, keeps the
// contract of every upstream (exact bytes, 404 = not found, refused = unreachable, abort).
runUpstreamCompliance(
  'HttpUpstream against the node:http cluster of examples/http-upstream.ts',
  async (files) => {
    const cluster = await startHttpCluster(files, '127.0.0.1', 0);
    return { upstream: new HttpUpstream('cluster-d', [cluster.url]), cleanup: () => cluster.close() };
  },
  { describe, it, expect },
  {
    makeUnreachable: async () => ({
      upstream: new HttpUpstream('cluster-d', [`http://127.0.0.1:${await closedTcpPort()}`], {
        timeoutMs: 1000,
      }),
    }),
  },
);

describe('examples/http-upstream.ts', () => {
  let ex: HttpUpstreamHandle | undefined;
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
  });

  it('a phone fetching over TFTP gets the bytes the cluster serves over HTTP, asked once with X-Ptftp-Proxied: 1', async () => {
    const port = await freeUdpPort();
    ex = await main({ listen: [`127.0.0.1:${port}`], clusterPort: 0 });
    const target = { host: '127.0.0.1', port };
    for (const [name, text] of Object.entries(CLUSTER_D_FILES)) {
      expect(sha256(await tftpGet(target, name)), name).toBe(sha256(text));
      expect(sha256(await tftpGet(target, name)), `${name} (cached)`).toBe(sha256(text));
    }
    expect(ex.cluster.requests).toEqual([
      { method: 'GET', path: '/SEP00AABBCC0D01.cnf.xml', status: 200, proxied: '1' },
      { method: 'GET', path: '/Desktops/320x196x4/List.xml', status: 200, proxied: '1' },
    ]);
    await vi.waitFor(() => expect(ex!.served).toHaveLength(4), { timeout: 2000, interval: 20 });
    expect(ex.served.map((s) => `${s.source}:${s.clusterId}:${s.address}`)).toEqual([
      `cluster:cluster-d:${ex.cluster.url}`,
      `cache:cluster-d:${ex.cluster.url}`,
      `cluster:cluster-d:${ex.cluster.url}`,
      `cache:cluster-d:${ex.cluster.url}`,
    ]);
  });

  it('a 404 from the cluster is TFTP error 1 for the phone; a file added later is served after a flush', async () => {
    const port = await freeUdpPort();
    ex = await main({ listen: [`127.0.0.1:${port}`], clusterPort: 0 });
    const target = { host: '127.0.0.1', port };
    await expect(tftpGet(target, 'SEP00AABBCC0D02.cnf.xml', { retries: 1 })).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
    expect(ex.cluster.requests.map((r) => r.status)).toEqual([404]);

    ex.cluster.set('SEP00AABBCC0D02.cnf.xml', '<device>new phone</device>');
    await ex.proxy.flush({ name: 'SEP00AABBCC0D02.cnf.xml' });
    expect((await tftpGet(target, 'SEP00AABBCC0D02.cnf.xml')).toString()).toBe('<device>new phone</device>');
  });
});
