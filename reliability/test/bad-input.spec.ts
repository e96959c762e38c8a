import { createHash } from 'node:crypto';
import { encodeRequest } from '@ptftp/protocol';
import { instrumentedGet, malformedDatagrams, mulberry32 } from '@ptftp/protocol/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startMapServer } from '../support/servers.js';
import { describeReply, openProbe } from '../support/udp.js';

// CI size; the bench sends 100,000.
const FUZZ_CASES = 4000;
const file = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let srv: RunningServer;
let malformedEvents = 0;
beforeAll(async () => {
  // Short timers: sessions opened by hostile requests end quickly, so the count drains.
  srv = await startMapServer(new Map([['ok.bin', file]]), {
    retransmitTimeoutMs: 100,
    retries: 2,
    firstAckRetries: 1,
    maxSessions: 100_000,
  });
  srv.server.on('malformedPacket', () => malformedEvents++);
});
afterAll(async () => {
  await srv.close();
});

/** The server still works, and every session the input opened has ended. */
async function expectHealthy(): Promise<void> {
  const out = await instrumentedGet({ target: srv.target, name: 'ok.bin', retransmitTimeoutMs: 300 });
  expect(out.ok).toBe(true);
  expect(out.sha256).toBe(sha(file));
  await vi.waitFor(() => expect(srv.server.activeSessions).toBe(0), { timeout: 10_000, interval: 20 });
}

/** A datagram that fast-check builds from TFTP-shaped pieces, so it reaches deep into the parser. */
const tftpish = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(
      fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 255, 0xffff),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            'octet',
            'netascii',
            'mail',
            'blksize',
            'tsize',
            'timeout',
            'windowsize',
            'rollover',
          ),
          fc.constantFrom('0', '1', '8', '512', '65464', '65465', '-1', '', '1e9', 'ok.bin', '../ok.bin'),
          fc.string({ maxLength: 40 }),
        ),
        { maxLength: 12 },
      ),
      fc.boolean(),
    )
    .map(([op, parts, terminate]) => {
      const body = Buffer.from(parts.join('\0') + (terminate ? '\0' : ''), 'utf8');
      return Buffer.concat([Buffer.from([op >> 8, op & 0xff]), body]);
    }),
);

describe('bad input at a live server', () => {
  it('answers every malformed request with an ERROR, opens no transfer for the rest, and keeps serving', async () => {
    // One socket per entry, so each answer is tied to the datagram that caused it.
    const corpus = malformedDatagrams('ok.bin');
    const probes = await Promise.all(corpus.map(() => openProbe()));
    try {
      await Promise.all(corpus.map(({ bytes }, i) => probes[i]!.send(bytes, srv.target)));
      // Every request is answered, malformed ones too (RFC 1350: refused with an ERROR, not
      // ignored); wait for each, so a server that went silent fails here instead of passing.
      const requests = corpus.flatMap(({ label }, i) => (/^(RRQ|WRQ)/.test(label) ? [i] : []));
      expect(requests.length).toBeGreaterThan(5);
      await vi.waitFor(
        () =>
          expect(
            requests.filter((i) => probes[i]!.received.length === 0).map((i) => corpus[i]!.label),
          ).toEqual([]),
        { timeout: 5000, interval: 20 },
      );
      const answers: Record<string, string[]> = {};
      corpus.forEach(({ label }, i) => {
        answers[label] = probes[i]!.received.map((r) => describeReply(r.msg));
      });
      // What is not a request never opened a transfer.
      for (const label of Object.keys(answers).filter((l) => !l.startsWith('RRQ') && !l.startsWith('WRQ')))
        expect(answers[label]!.filter((a) => a === 'DATA' || a === 'OACK')).toEqual([]);
      expect(answers['WRQ (writes are off by default)']).toContain('ERROR 2');
      expect(answers['RRQ: 256-byte name']).toEqual(['ERROR 2']);
      expect(malformedEvents).toBeGreaterThan(10);
    } finally {
      for (const p of probes) await p.close();
    }
    await expectHealthy();
  });

  it(`survives ${FUZZ_CASES} fuzzed datagrams (fast-check, seeded)`, async () => {
    const probe = await openProbe();
    try {
      const samples = fc.sample(tftpish, { numRuns: FUZZ_CASES, seed: 20261126 });
      let sent = 0;
      for (const bytes of samples) {
        await probe.send(bytes, srv.target);
        // Pace: a loopback socket buffer holds a few hundred datagrams; the point is the parser.
        if (++sent % 200 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      expect(sent).toBe(FUZZ_CASES);
    } finally {
      await probe.close();
    }
    await expectHealthy();
  });

  it('survives random garbage sent into running transfers (to their transfer ports)', async () => {
    const rand = mulberry32(99);
    const probe = await openProbe();
    const victims = await Promise.all(Array.from({ length: 20 }, () => openProbe()));
    try {
      // Open 20 transfers and leave them waiting for ACK 1; hit their ports with junk.
      await Promise.all(victims.map((v) => v.send(encodeRequest(1, 'ok.bin'), srv.target)));
      await vi.waitFor(() => expect(victims.filter((v) => v.received.length === 0)).toEqual([]), {
        timeout: 10_000,
        interval: 20,
      });
      for (const v of victims) {
        const tid = v.received[0]!.port;
        for (let i = 0; i < 50; i++) {
          const junk = Buffer.from(
            Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)),
          );
          await probe.send(junk, { address: '127.0.0.1', port: tid });
          // The same junk from the transfer's own peer reaches the session itself.
          await v.send(junk, { address: '127.0.0.1', port: tid });
        }
      }
      // Strangers got ERROR 5 (RFC 1350 §4) and nothing else.
      const kinds = new Set(probe.received.map((r) => describeReply(r.msg)));
      expect([...kinds].every((k) => k === 'ERROR 5')).toBe(true);
    } finally {
      await probe.close();
      for (const v of victims) await v.close();
    }
    await expectHealthy();
  });
});
