import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLossyLink,
  createTraversalFixture,
  instrumentedGet,
  rawReadRequest,
  type TraversalFixture,
} from '@ptftp/protocol/testing';
import { createProxyServer, type ProxyConfigInput } from '@ptftp/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../support/servers.js';
import { describeReply, openProbe } from '../support/udp.js';

const config = (root: string): ProxyConfigInput => ({
  listen: ['127.0.0.1:0'],
  http: { enabled: false },
  admin: { enabled: false },
  store: { root },
  clusters: [],
});

describe('the composed proxy server (createProxyServer)', () => {
  let root: string;
  const file = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 11 + 7) & 0xff));
  const sha = createHash('sha256').update(file).digest('hex');
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ptftp-proxy-'));
    writeFileSync(join(root, 'English_United_States.jar'), file);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reload() while 30 transfers are in flight loses none of them', async () => {
    const server = createProxyServer(config(root));
    const { tftp } = await server.start();
    const link = await createLossyLink({
      target: { address: '127.0.0.1', port: tftp[0]!.port },
      delayMs: [1, 4],
    });
    try {
      const transfers = Array.from({ length: 30 }, () =>
        instrumentedGet({
          target: { address: link.address, port: link.port },
          name: 'English_United_States.jar',
          keepData: false,
        }),
      );
      await settle(() => server.status().activeSessions.tftp === 30);
      expect(server.status().activeSessions.tftp).toBe(30);
      const reloaded = await server.reload({ ...config(root), cache: { ttlSeconds: 60 } });
      expect(reloaded).toBeDefined();
      const outcomes = await Promise.all(transfers);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(outcomes.every((o) => o.sha256 === sha)).toBe(true);
      expect(server.status().reloads.applied).toBe(1);
      // And after the reload the server still serves.
      const after = await instrumentedGet({
        target: { address: '127.0.0.1', port: tftp[0]!.port },
        name: 'English_United_States.jar',
      });
      expect(after.sha256).toBe(sha);
    } finally {
      await link.close();
      await server.close();
    }
  });

  describe('path traversal through the whole stack', () => {
    let fx: TraversalFixture;
    beforeAll(() => {
      fx = createTraversalFixture();
    });
    afterAll(() => fx.cleanup());

    it('refuses every hostile name and serves the legitimate one', async () => {
      const server = createProxyServer(config(fx.root));
      const { tftp } = await server.start();
      const target = { address: '127.0.0.1', port: tftp[0]!.port };
      const probes = await Promise.all(fx.names.map(() => openProbe()));
      try {
        const ok = await instrumentedGet({ target, name: fx.allowedName });
        expect(ok.data).toEqual(fx.allowedContent);
        await Promise.all(fx.names.map((t, i) => probes[i]!.send(rawReadRequest(t.bytes), target)));
        await settle(() => probes.every((p) => p.received.length > 0), 3000);
        const bad = fx.names
          .map((t, i) => ({
            label: t.label,
            replies: probes[i]!.received.map((r) => describeReply(r.msg)),
            leaked: probes[i]!.received.some((r) => r.msg.includes(fx.secretContent.subarray(0, 20))),
          }))
          .filter((o) => o.leaked || o.replies.some((r) => !r.startsWith('ERROR')));
        expect(bad).toEqual([]);
      } finally {
        for (const p of probes) await p.close();
        await server.close();
      }
    });
  });
});
