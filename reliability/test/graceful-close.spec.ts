import { createHash } from 'node:crypto';
import { createLossyLink, instrumentedGet } from '@ptftp/protocol/testing';
import { describe, expect, it, vi } from 'vitest';
import { startMapServer } from '../support/servers.js';

const TRANSFERS = 40;
const file = Buffer.from(Array.from({ length: 120_000 }, (_, i) => (i * 29 + 1) & 0xff));
const sha = createHash('sha256').update(file).digest('hex');

describe('server.close({ graceMs }) under load', () => {
  it('lets every transfer in progress finish, refuses new ones, and then releases everything', async () => {
    const srv = await startMapServer(new Map([['load.bin', file]]), { retransmitTimeoutMs: 500 });
    // A few ms of delay per datagram keeps the transfers in flight long enough to close on them.
    const link = await createLossyLink({ target: srv.target, delayMs: [1, 4], seed: 3 });
    try {
      const transfers = Array.from({ length: TRANSFERS }, () =>
        instrumentedGet({
          target: { address: link.address, port: link.port },
          name: 'load.bin',
          keepData: false,
        }),
      );
      await vi.waitFor(() => expect(srv.server.activeSessions).toBe(TRANSFERS), {
        timeout: 10_000,
        interval: 20,
      });
      const closed = srv.close(60_000);
      // A request that arrives while the server drains is refused, not half-served.
      const late = await instrumentedGet({
        target: srv.target,
        name: 'load.bin',
        retransmitTimeoutMs: 200,
        retries: 1,
      });
      expect(late.ok).toBe(false);
      expect(late.dataPackets).toBe(0);
      const outcomes = await Promise.all(transfers);
      await closed;
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(outcomes.every((o) => o.sha256 === sha)).toBe(true);
      expect(srv.server.activeSessions).toBe(0);
    } finally {
      await link.close();
      await srv.close();
    }
  });
});
