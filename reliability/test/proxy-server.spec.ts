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
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
  let rootB: string;
  const NAME = 'English_United_States.jar';
  // Over the store's 256 KiB in-memory limit: the file is read by offset from one shared
  // descriptor while it is sent, so the reload lands while bytes are still being read from disk.
  const SIZE = 300_000;
  const BLKSIZE = 1428;
  const file = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 11 + 7) & 0xff));
  const fileB = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 13 + 5) & 0xff));
  const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const sha = hash(file);
  const blocksPerTransfer = Math.ceil((file.length + 1) / BLKSIZE);
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ptftp-proxy-'));
    writeFileSync(join(root, NAME), file);
    rootB = mkdtempSync(join(tmpdir(), 'ptftp-proxy-b-'));
    writeFileSync(join(rootB, NAME), fileB);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(rootB, { recursive: true, force: true });
  });

  it('reload() to another store and address while 30 transfers are mid-way loses none; each keeps the version it started with', async () => {
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
          name: NAME,
          options: { blksize: String(BLKSIZE) },
          keepData: false,
        }),
      );
      // The reload lands once a tenth of all blocks has crossed, while all 30 are still going.
      await vi.waitFor(
        () => expect(link.stats.dataBlocksToClient).toBeGreaterThanOrEqual((30 * blocksPerTransfer) / 10),
        { timeout: 20_000, interval: 5 },
      );
      expect(server.status().activeSessions.tftp).toBe(30);
      // A new store root holding another file under the same name (the resolver is replaced),
      // and a new listening address (the socket these requests came in on is closed).
      const reloaded = await server.reload({ ...config(rootB), listen: ['127.0.0.2:0'] });
      expect(reloaded.applied).toEqual(expect.arrayContaining(['store', 'listen']));
      expect(reloaded.storeReplaced).toBe(true);
      expect(server.addresses.tftp.map((b) => b.url)).toEqual([
        expect.stringMatching(/^tftp:\/\/127\.0\.0\.2:/),
      ]);
      const blocksAtReload = link.stats.dataBlocksToClient;
      expect(server.status().activeSessions.tftp).toBe(30);
      const outcomes = await Promise.all(transfers);
      // Most of every transfer crossed after the reload: it did land mid-way.
      expect(link.stats.dataBlocksToClient).toBe(30 * blocksPerTransfer);
      expect(blocksAtReload).toBeLessThan(30 * blocksPerTransfer * 0.6);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(outcomes.map((o) => o.sha256)).toEqual(Array(30).fill(sha));
      expect(server.status().reloads.applied).toBe(1);
      // A request after the reload reads the new store, on the new address.
      const moved = server.addresses.tftp[0]!;
      const after = await instrumentedGet({ target: { address: '127.0.0.2', port: moved.port }, name: NAME });
      expect(after.sha256).toBe(hash(fileB));
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
        await vi.waitFor(() => expect(probes.filter((p) => p.received.length === 0)).toEqual([]), {
          timeout: 5000,
          interval: 20,
        });
        const outcome = fx.names.map((t, i) => ({
          label: t.label,
          replies: probes[i]!.received.map((r) => describeReply(r.msg)),
          leaked: probes[i]!.received.some((r) => r.msg.includes(fx.secretContent.subarray(0, 20))),
        }));
        expect(outcome).toHaveLength(fx.names.length);
        expect(fx.names.length).toBeGreaterThanOrEqual(60);
        // One ERROR 1 (not found inside the root) or ERROR 2 (refused) each; no leak.
        const bad = outcome.filter(
          (o) => o.leaked || o.replies.length !== 1 || !/^ERROR [12]$/.test(o.replies[0]!),
        );
        expect(bad).toEqual([]);
      } finally {
        for (const p of probes) await p.close();
        await server.close();
      }
    });
  });
});
