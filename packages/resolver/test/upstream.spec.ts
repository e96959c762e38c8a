import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Content } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { describe, expect, it } from 'vitest';
import { freeUdpPort, lacking, startTftpdHpa } from '../../../test-support/peers.js';
import { HttpUpstream, MemoryStore, Resolver, TftpClusterUpstream } from '../src/index.js';
import { MemoryUpstream, runUpstreamCompliance } from '../src/testing/index.js';
import { seedFolder } from './fixtures.js';

const body = (r: { content: Content }) => readAll(r.content);

/** A Cisco-style TFTP-over-HTTP server (GET /<name>) on loopback. */
async function startHttp(
  files: Record<string, Uint8Array>,
  seen?: string[],
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    seen?.push(String(req.headers['x-ptftp-proxied']));
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const data = files[name];
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': data.byteLength }).end(Buffer.from(data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

runUpstreamCompliance(
  'MemoryUpstream',
  (files) => ({ upstream: new MemoryUpstream('mem', files) }),
  { describe, it, expect },
  {
    makeUnreachable: () => {
      const upstream = new MemoryUpstream('mem');
      upstream.setUnreachable(true);
      return { upstream };
    },
  },
);

runUpstreamCompliance(
  'TftpClusterUpstream against tftpd-hpa',
  async (files) => {
    const root = await seedFolder(files);
    const peer = await startTftpdHpa({ root });
    const upstream = new TftpClusterUpstream(
      { id: 'hpa', tftp: [`127.0.0.1:${peer.port}`] },
      { timeoutMs: 300 },
    );
    return {
      upstream,
      cleanup: async () => {
        await peer.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  { describe: describe.skipIf(lacking('inTftpd')), it, expect },
  {
    makeUnreachable: async () => ({
      upstream: new TftpClusterUpstream(
        {
          id: 'dead',
          tftp: [`127.0.0.1:${await freeUdpPort()}`, `127.0.0.2:${await freeUdpPort('127.0.0.2')}`],
        },
        { timeoutMs: 100, retries: 0 },
      ),
    }),
  },
);

runUpstreamCompliance(
  'HttpUpstream (TFTP over HTTP, port 6970 style)',
  async (files) => {
    const { url, server } = await startHttp(files);
    return {
      upstream: new HttpUpstream('http', [url]),
      cleanup: () => new Promise<void>((r) => server.close(() => r())),
    };
  },
  { describe, it, expect },
  {
    makeUnreachable: async () => {
      // A port that was just free: connections are refused.
      const { server, url } = await startHttp({});
      await new Promise<void>((r) => server.close(() => r()));
      return { upstream: new HttpUpstream('dead', [url], { timeoutMs: 300 }) };
    },
  },
);

describe('TftpClusterUpstream: per-address health', () => {
  it.skipIf(lacking('inTftpd'))(
    'a dead first address costs one timeout: later requests go straight to the second address',
    async () => {
      const root = await seedFolder({ 'SEP001122334455.cnf.xml': new TextEncoder().encode('<device/>') });
      const peer = await startTftpdHpa({ root, host: '127.0.0.3' });
      const dead = `127.0.0.2:${await freeUdpPort('127.0.0.2')}`;
      const live = `127.0.0.3:${peer.port}`;
      try {
        const upstream = new TftpClusterUpstream(
          { id: 'B', tftp: [dead, live] },
          { timeoutMs: 150, retries: 0, backoffMs: 60_000 },
        );
        const errors: string[] = [];
        const failovers: string[] = [];
        const reporter = {
          error: (a: string) => errors.push(a),
          failover: (f: string, t: string) => failovers.push(`${f}>${t}`),
        };
        for (let i = 0; i < 5; i++) {
          const r = await upstream.fetch('SEP001122334455.cnf.xml', {
            signal: AbortSignal.timeout(5000),
            reporter,
          });
          expect(Buffer.from(r.data!).toString()).toBe('<device/>');
          expect(r.address).toBe(live);
        }
        expect(errors).toEqual([dead]);
        expect(failovers).toEqual([`${dead}>${live}`]);
        const [deadStatus, liveStatus] = upstream.status();
        expect(deadStatus).toMatchObject({ address: dead, healthy: false, failures: 1 });
        expect(deadStatus?.nextRetryAt).toBeGreaterThan(Date.now());
        expect(liveStatus).toEqual({ address: live, healthy: true, failures: 0 });
      } finally {
        await peer.stop();
        await rm(root, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(lacking('inTftpd'))(
    '"file not found" from the first address is the cluster\'s answer: the second is not asked',
    async () => {
      const root = await seedFolder({});
      const peer = await startTftpdHpa({ root });
      try {
        let calls = 0;
        const upstream = new TftpClusterUpstream(
          { id: 'B', tftp: [`127.0.0.1:${peer.port}`, '127.0.0.2:9'] },
          {
            get: async (target, name, opts) => {
              calls++;
              const { tftpGet } = await import('@ptftp/protocol');
              return tftpGet(target, name, opts);
            },
          },
        );
        const err = await upstream
          .fetch('none.xml', { signal: AbortSignal.timeout(5000) })
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'PTFTP_ERR_NOT_FOUND', message: 'file not found: none.xml' });
        expect(calls).toBe(1);
      } finally {
        await peer.stop();
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});

describe('HttpUpstream', () => {
  it('marks its requests with X-Ptftp-Proxied: 1 so a ptftp peer does not forward them', async () => {
    const seen: string[] = [];
    const { url, server } = await startHttp({ 'a.xml': new Uint8Array([1, 2, 3]) }, seen);
    try {
      const r = await new HttpUpstream('B', [url]).fetch('a.xml', { signal: AbortSignal.timeout(5000) });
      expect([...r.data!]).toEqual([1, 2, 3]);
      expect(seen).toEqual(['1']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('accepts a bare address and implies port 6970', () => {
    expect(new HttpUpstream('B', ['10.0.0.1']).status()).toEqual([
      { address: 'http://10.0.0.1:6970', healthy: true, failures: 0 },
    ]);
  });

  it('fails over from a refused base URL to the next, and marks the first down', async () => {
    const dead = await startHttp({});
    await new Promise<void>((r) => dead.server.close(() => r()));
    const live = await startHttp({ 'a.xml': new Uint8Array([9]) });
    try {
      const upstream = new HttpUpstream('B', [dead.url, live.url]);
      const failovers: string[] = [];
      const r = await upstream.fetch('a.xml', {
        signal: AbortSignal.timeout(5000),
        reporter: { failover: (from, to) => failovers.push(`${from}>${to}`) },
      });
      expect([r.address, [...r.data!]]).toEqual([live.url, [9]]);
      expect(failovers).toEqual([`${dead.url}>${live.url}`]);
      expect(upstream.status().map((s) => s.healthy)).toEqual([false, true]);
    } finally {
      await new Promise<void>((r) => live.server.close(() => r()));
    }
  });

  it('a Resolver uses it for a cluster that lists only HTTP addresses', async () => {
    const { url, server } = await startHttp({
      'SEP001122334455.cnf.xml': new TextEncoder().encode('<http/>'),
    });
    const resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: [], http: [url] }] },
      { store: new MemoryStore() },
    );
    try {
      const r = await resolver.resolve('SEP001122334455.cnf.xml');
      expect([r.source, r.clusterId, r.address, Buffer.from(await body(r)).toString()]).toEqual([
        'cluster',
        'B',
        url,
        '<http/>',
      ]);
    } finally {
      resolver.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
