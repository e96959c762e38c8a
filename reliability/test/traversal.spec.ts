import { createFsHandler, createServer, type TftpServer } from '@ptftp/protocol';
import {
  createTraversalFixture,
  instrumentedGet,
  rawReadRequest,
  type TraversalFixture,
} from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeReply, openProbe, type Probe } from '../support/udp.js';

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

/** Labels of the names whose probe has had no answer yet. */
function unanswered(fx: TraversalFixture, probes: readonly Probe[]): string[] {
  return fx.names.filter((_, i) => probes[i]!.received.length === 0).map((t) => t.label);
}

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
      // Every name is answered, malformed ones too (invalid UTF-8, NUL, over 255 bytes get
      // ERROR 2 "malformed request"): a name left unanswered is a failure, not a refusal.
      await vi.waitFor(() => expect(unanswered(fx, probes)).toEqual([]), { timeout: 5000, interval: 20 });
      const outcome = fx.names.map((t, i) => ({
        label: t.label,
        replies: probes[i]!.received.map((r) => describeReply(r.msg)),
        leaked: probes[i]!.received.some((r) => r.msg.includes(fx.secretContent.subarray(0, 20))),
      }));
      expect(outcome).toHaveLength(fx.names.length);
      expect(fx.names.length).toBeGreaterThanOrEqual(60);
      expect(outcome.filter((o) => o.leaked)).toEqual([]);
      // One answer each, and it is ERROR 1 (not found inside the root) or ERROR 2 (refused):
      // never DATA, OACK, or the ERROR 0 of a handler that fell over.
      expect(outcome.filter((o) => o.replies.length !== 1 || !/^ERROR [12]$/.test(o.replies[0]!))).toEqual(
        [],
      );
    } finally {
      for (const p of probes) await p.close();
    }
  });
});
