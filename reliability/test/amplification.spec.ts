import dgram from 'node:dgram';
import { bootStormFixture, measureAmplification, runBootStorm } from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startMapServer } from '../support/servers.js';

const FIRST_ACK_RETRIES = 2;
const big = Buffer.alloc(200_000, 0x5a);
const fx = bootStormFixture({ phones: 20, seed: 8, sizes: { localeJar: 4000 } });
const files = new Map([...fx.files, ['big.bin', big]]);

let srv: RunningServer;
beforeAll(async () => {
  srv = await startMapServer(files, {
    retransmitTimeoutMs: 100,
    retries: 5,
    firstAckRetries: FIRST_ACK_RETRIES,
    maxSessionsPerSource: 8,
    newSessionsPerSecondPerSource: 20,
    burstPerSource: 20,
  });
});
afterAll(async () => {
  await srv.close();
});

const probe = (options: Record<string, string>, requests = 1) =>
  measureAmplification({
    target: srv.target,
    name: 'big.bin',
    options,
    requests,
    quietMs: 600,
    maxWaitMs: 20_000,
  });

describe('reflection: what a spoofed source receives per request byte', () => {
  it('with options, only OACKs reach the victim before its first ACK: at most 1x in total', async () => {
    const cases: Array<Record<string, string>> = [
      { blksize: '1428' },
      { blksize: '65464', tsize: '0' },
      { tsize: '0' },
    ];
    for (const options of cases) {
      const r = await probe(options);
      expect(r.cutShort).toBe(false);
      expect(r.byOpcode[3] ?? 0).toBe(0); // no DATA before the peer proves it asked
      expect(r.responsePackets).toBeLessThanOrEqual(1 + FIRST_ACK_RETRIES);
      // All OACKs together are no bigger than the request (maxAmplification 1).
      expect(r.responseBytes).toBeLessThanOrEqual(r.requestBytes);
    }
  });

  it('without options, DATA 1 and its bounded resends reach the victim, then nothing', async () => {
    const r = await probe({});
    expect(r.cutShort).toBe(false);
    expect(r.responsePackets).toBeLessThanOrEqual(1 + FIRST_ACK_RETRIES);
    expect(r.responseBytes).toBeLessThanOrEqual((1 + FIRST_ACK_RETRIES) * 516);
  });

  it('a flood from one source is held to its rate and session cap while other sources are served', async () => {
    // The forged requests come from 100 ports of 127.0.0.2; the phones from 127.0.1.x (all loopback).
    const attackers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const s = dgram.createSocket('udp4');
        s.on('error', () => {});
        await new Promise<void>((resolve) => s.bind(0, '127.0.0.2', () => resolve()));
        return s;
      }),
    );
    const got = { bytes: 0, data: 0, errors: 0, sessions: new Set<number>() };
    for (const a of attackers)
      a.on('message', (m, r) => {
        got.bytes += m.length;
        if (m.readUInt16BE(0) === 3) {
          got.data++;
          got.sessions.add(r.port);
        } else got.errors++;
      });
    const rrq = Buffer.from('\x00\x01big.bin\x00octet\x00', 'latin1');
    try {
      const started = performance.now();
      const flood = (async () => {
        for (let round = 0; round < 5; round++) {
          for (const a of attackers) a.send(rrq, srv.target.port, '127.0.0.1');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const storm = await runBootStorm({
        target: srv.target,
        phones: 20,
        seed: 8,
        verify: fx.sha256,
        portPerTransfer: true,
        phoneAddress: (i) => `127.0.1.${i + 1}`,
      });
      await flood;
      // The flood's sessions end once their first-ACK retries run out; every resend is in by then.
      await vi.waitFor(() => expect(srv.server.activeSessions).toBe(0), { timeout: 5000, interval: 20 });
      const seconds = (performance.now() - started) / 1000;
      expect(storm.failures).toBe(0);
      // The token bucket admits its burst plus its rate over the time the flood ran.
      const admitted = 20 + 20 * Math.ceil(seconds);
      expect(got.sessions.size).toBeGreaterThan(0);
      expect(got.sessions.size).toBeLessThanOrEqual(admitted);
      expect(got.data).toBeLessThanOrEqual(got.sessions.size * (1 + FIRST_ACK_RETRIES));
      // Refusals included, the victim gets a bounded multiple of what the attacker sent.
      expect(got.bytes / (500 * rrq.length)).toBeLessThan(5);
    } finally {
      for (const a of attackers) a.close();
    }
  });
});
