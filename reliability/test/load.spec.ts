import { createHash } from 'node:crypto';
import { instrumentedGet } from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { heapAfterGc } from '../support/heap.js';
import { type RunningServer, startMapServer } from '../support/servers.js';

// CI size; the bench holds 5,000.
const SESSIONS = 500;
const file = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 17 + 3) & 0xff));
const sha = createHash('sha256').update(file).digest('hex');

let srv: RunningServer;
beforeAll(async () => {
  // A long retransmit timeout: held sessions wait for their ACK 1 without resending.
  srv = await startMapServer(new Map([['cfg.xml', file]]), {
    retransmitTimeoutMs: 20_000,
    inactivityTimeoutMs: 60_000,
    maxSessions: SESSIONS + 10,
  });
});
afterAll(async () => {
  await srv.close();
});

describe(`${SESSIONS} concurrent sessions`, () => {
  it('are all held open at once with bounded memory, then all complete with the right SHA-256', async () => {
    const base = heapAfterGc();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const transfers: Array<ReturnType<typeof instrumentedGet>> = [];
    for (let i = 0; i < SESSIONS; i++) {
      transfers.push(
        instrumentedGet({
          target: srv.target,
          name: 'cfg.xml',
          gate,
          retransmitTimeoutMs: 10_000,
          keepData: false,
        }),
      );
      // Requests in small bursts: a listening socket's buffer holds a few hundred.
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
    }
    await vi.waitFor(() => expect(srv.server.activeSessions).toBe(SESSIONS), {
      timeout: 20_000,
      interval: 20,
    });
    // Heap per held session, client and server together (both live in this process).
    const perSession = (heapAfterGc() - base) / SESSIONS;
    expect(perSession).toBeLessThan(64 * 1024);
    release();
    const outcomes = await Promise.all(transfers);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.sha256))).toEqual(new Set([sha]));
    await vi.waitFor(() => expect(srv.server.activeSessions).toBe(0), { timeout: 10_000, interval: 20 });
  });
});
