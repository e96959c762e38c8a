import { createFsHandler, createServer, type TftpServer } from '@ptftp/protocol';
import {
  createTraversalFixture,
  instrumentedGet,
  rawReadRequest,
  type TraversalFixture,
} from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../support/servers.js';
import { describeReply, openProbe } from '../support/udp.js';

let fx: TraversalFixture;
let server: TftpServer;
let target: { address: string; port: number };
beforeAll(async () => {
  fx = createTraversalFixture();
  server = createServer({
    handler: createFsHandler(fx.root),
    retransmitTimeoutMs: 100,
    retries: 1,
    firstAckRetries: 0,
  });
  const [a] = await server.listen(['127.0.0.1:0']);
  target = { address: '127.0.0.1', port: a!.port };
});
afterAll(async () => {
  await server.close();
  fx.cleanup();
});

describe('path traversal corpus against createFsHandler', () => {
  it('serves the one legitimate file (the check can fail)', async () => {
    const out = await instrumentedGet({ target, name: fx.allowedName });
    expect(out.ok).toBe(true);
    expect(out.data).toEqual(fx.allowedContent);
  });

  it('refuses every name that tries to leave the root, and never returns the secret', async () => {
    const probes = await Promise.all(fx.names.map(() => openProbe()));
    try {
      await Promise.all(fx.names.map((t, i) => probes[i]!.send(rawReadRequest(t.bytes), target)));
      // Names the codec rejects (invalid UTF-8, NUL, over 255 bytes) are dropped without an
      // answer; the others get an ERROR at once. Wait for all the answers that will come.
      await settle(() => probes.filter((p) => p.received.length > 0).length >= fx.names.length - 7, 2000);
      await new Promise((r) => setTimeout(r, 200));
      const outcome = fx.names.map((t, i) => ({
        family: t.family,
        label: t.label,
        replies: probes[i]!.received.map((r) => describeReply(r.msg)),
        leaked: probes[i]!.received.some((r) => r.msg.includes(fx.secretContent.subarray(0, 20))),
      }));
      expect(outcome.filter((o) => o.leaked)).toEqual([]);
      // Every answer was an ERROR, never DATA or OACK; silence (a dropped malformed request) is a refusal too.
      expect(outcome.filter((o) => o.replies.some((r) => !r.startsWith('ERROR')))).toEqual([]);
      expect(outcome.filter((o) => o.replies.length > 0).length).toBeGreaterThan(50);
      expect(outcome.length).toBeGreaterThanOrEqual(60);
    } finally {
      for (const p of probes) await p.close();
    }
  });
});
