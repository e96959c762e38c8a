import { bootStormFixture, createLossyLink, runBootStorm } from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startMapServer } from '../support/servers.js';

// CI size; bench/reliability.bench.mjs runs 1000 phones.
const PHONES = 100;
const fx = bootStormFixture({ phones: PHONES, seed: 2026, sizes: { localeJar: 20_000 } });

let srv: RunningServer;
beforeAll(async () => {
  srv = await startMapServer(fx.files, { retransmitTimeoutMs: 250, retries: 8, maxSessions: 4096 });
});
afterAll(async () => {
  await srv.close();
});

describe('boot storm over a lossy phone link (5% drop, 1% duplicate, 1% reorder)', () => {
  it(`${PHONES} phones get every file with the right SHA-256, without Sorcerer's Apprentice`, async () => {
    const link = await createLossyLink({
      target: srv.target,
      seed: 5,
      drop: 0.05,
      duplicate: 0.01,
      reorder: 0.01,
    });
    try {
      const r = await runBootStorm({
        target: { address: link.address, port: link.port },
        phones: PHONES,
        seed: 2026,
        verify: fx.sha256,
        retransmitTimeoutMs: 400,
        retries: 8,
        portPerTransfer: true,
        // Phones ask again after a failed transfer. With the default firstAckRetries (2) a
        // transfer whose DATA 1 / ACK 1 exchange is lost three times in a row is dropped by
        // the server (its reflection guard): about 1 in 2,000 at this loss rate.
        attempts: 2,
      });
      const failed = r.phones.flatMap((p) =>
        p.transfers.filter((t) => !t.ok).map((t) => ({ mac: p.mac, ...t })),
      );
      expect(failed).toEqual([]);
      expect(r.failures).toBe(0);
      expect(r.retriedTransfers).toBeLessThanOrEqual(5);
      expect(r.transfers).toBe(PHONES * 5);
      const s = link.stats;
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.duplicated).toBeGreaterThan(0);
      // What the server put on the wire per block: 1 plus its resends for lost DATA or ACKs
      // (about 10% here). Answering every duplicate ACK would double it from the first one on.
      const serverPacketsPerBlock = s.dataPacketsToClient / s.dataBlocksToClient;
      expect(serverPacketsPerBlock).toBeGreaterThan(1);
      expect(serverPacketsPerBlock).toBeLessThan(1.3);
      expect(r.packetsPerBlock).toBeLessThan(1.3);
      // Sessions whose last ACK was lost end when the server's retries run out.
      await vi.waitFor(() => expect(srv.server.activeSessions).toBe(0), { timeout: 10_000, interval: 20 });
    } finally {
      await link.close();
    }
  });
});

describe('boot storm over IPv6 (::1), lossy link (5% drop, 1% duplicate, 1% reorder)', () => {
  it('50 phones on ::1 get every file with the right SHA-256; the server resends stay near 1 + loss', async () => {
    const phones = 50;
    const fx6 = bootStormFixture({ phones, seed: 66, sizes: { localeJar: 20_000 } });
    const srv6 = await startMapServer(fx6.files, { retransmitTimeoutMs: 250, retries: 8 }, '::1');
    const link = await createLossyLink({
      target: srv6.target,
      host: '::1',
      seed: 6,
      drop: 0.05,
      duplicate: 0.01,
      reorder: 0.01,
    });
    try {
      expect(link.address).toBe('::1');
      const r = await runBootStorm({
        target: { address: link.address, port: link.port },
        phones,
        seed: 66,
        verify: fx6.sha256,
        retransmitTimeoutMs: 400,
        retries: 8,
        portPerTransfer: true,
        attempts: 2,
      });
      expect(r.failures).toBe(0);
      expect(r.transfers).toBe(phones * 5);
      const s = link.stats;
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.dataPacketsToClient / s.dataBlocksToClient).toBeLessThan(1.3);
      await vi.waitFor(() => expect(srv6.server.activeSessions).toBe(0), { timeout: 10_000, interval: 20 });
    } finally {
      await link.close();
      await srv6.close();
    }
  });
});
