/**
 * Issue 13, TFTP side: per-source limits on by default, stray packets answered rarely, and the
 * per-destination send budget of single-port and port-range mode (no reflector for forged ACKs).
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { tftpGet } from '../src/client.js';
import type { PtftpError } from '../src/errors.js';
import { encodeAck, encodeRequest, Opcode } from '../src/packet.js';
import { SendBudget } from '../src/send-budget.js';
import { SOURCE_LIMIT_DEFAULTS } from '../src/server.js';
import { StrayReplyLimiter } from '../src/stray-limit.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

describe('per-source limits are on by default', () => {
  it('a source over its burst of new transfers is dropped silently; the defaults are documented numbers', async () => {
    expect(SOURCE_LIMIT_DEFAULTS).toEqual({
      maxSessionsPerSource: 128,
      newSessionsPerSecondPerSource: 50,
      burstPerSource: 100,
    });
    const { server, port } = await startServer({ handler: () => pattern(100), retransmitTimeoutMs: 5000 });
    const refused: PtftpError[] = [];
    server.on('requestRefused', (err) => refused.push(err));
    const peers = await Promise.all(Array.from({ length: 10 }, () => openPeer()));
    // 130 requests from one address (13 ports x 10 names) within a few ms.
    for (let i = 0; i < 13; i++) for (const p of peers) p.rrq(port, `f${i}`);
    await expect.poll(() => server.activeSessions + refused.length, { timeout: 5000 }).toBe(130);
    // The burst (100) was admitted, at most a token or two of refill besides; the rest was refused.
    expect(server.activeSessions).toBeGreaterThanOrEqual(100);
    expect(server.activeSessions).toBeLessThanOrEqual(102);
    expect(refused.every((e) => e.code === 'PTFTP_ERR_LIMIT')).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(28);
  });

  it('maxSessionsPerSource defaults to 128 concurrent transfers from one address', async () => {
    const { server, port } = await startServer({
      handler: () => pattern(100),
      retransmitTimeoutMs: 5000,
      newSessionsPerSecondPerSource: Number.POSITIVE_INFINITY,
    });
    const refused: PtftpError[] = [];
    server.on('requestRefused', (err) => refused.push(err));
    const peers = await Promise.all(Array.from({ length: 10 }, () => openPeer()));
    for (let i = 0; i < 14; i++) for (const p of peers) p.rrq(port, `f${i}`);
    await expect.poll(() => server.activeSessions + refused.length, { timeout: 5000 }).toBe(140);
    expect(server.activeSessions).toBe(128);
    expect(refused.map((e) => e.message.startsWith('maxSessionsPerSource'))).toEqual(Array(12).fill(true));
  });
});

describe('stray packets on the listening port are answered rarely (RFC 1350 §4 ERROR 5, rationed)', () => {
  it('50 stray ACKs from one address get one ERROR 5, not 50', async () => {
    const { port } = await startServer({ handler: () => pattern(100) });
    const peer = await openPeer();
    for (let i = 0; i < 50; i++) peer.send(encodeAck(i), port);
    const first = await peer.next();
    expect(first.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 5 });
    expect(await peer.collect(300)).toEqual([]);
  });

  it('the ration is per source and in total, and refills with time', () => {
    let now = 0;
    const limiter = new StrayReplyLimiter(1, 3, () => now);
    expect(['a', 'a', 'b', 'c', 'd'].map((s) => limiter.allow(s))).toEqual([true, false, true, true, false]);
    now += 1000;
    expect(limiter.allow('a')).toBe(true);
  });
});

describe('single-port mode: a per-destination send budget bounds forged-ACK amplification', () => {
  it('an address that never sends gets at most `initial` datagrams, each datagram earns `perReceived`', () => {
    const budget = new SendBudget({ initial: 2, perReceived: 2, max: 5 });
    expect([budget.spend('v'), budget.spend('v'), budget.spend('v')]).toEqual([true, true, false]);
    for (let i = 0; i < 10; i++) budget.received('v');
    expect(budget.creditOf('v')).toBe(5);
  });

  it('forged RRQ + 60 blind ACKs from a victim: bytes delivered stay within (blksize+4)/4 of bytes spoofed (one datagram per datagram received)', async () => {
    const size = 1428 * 200;
    const { port } = await startServer({
      handler: () => pattern(size),
      ports: 'single',
      maxWindowsize: 64,
      retransmitTimeoutMs: 5000,
    });
    const victim = await openPeer();
    const rrq = encodeRequest(Opcode.RRQ, 'big.bin', 'octet', { blksize: '1428', windowsize: '64' });
    victim.send(rrq, port);
    let spoofed = rrq.length;
    const oack = await victim.next();
    expect(oack.packet.opcode).toBe(Opcode.OACK);
    // The windowsize granted in single-port mode is capped at what one ACK earns.
    expect(oack.packet.opcode === Opcode.OACK && oack.packet.options.windowsize).toBe('1');
    // A blind attacker cannot see the window, but guesses ACKs: ACK 0, then 64 blocks per ACK.
    for (let i = 0; i < 60; i++) {
      const ack = encodeAck(i * 64);
      victim.send(ack, port);
      spoofed += ack.length;
    }
    const rest = await victim.collect(500);
    const delivered = oack.raw.length + rest.reduce((n, r) => n + r.raw.length, 0);
    expect(rest.length).toBeGreaterThan(0);
    // Without the budget: 60 windows of 64 × 1432 bytes (5.5 MB). With it: at most
    // initial + 2 datagrams per datagram received.
    expect(rest.length + 1).toBeLessThanOrEqual(4 + 2 * 61);
    expect(delivered / spoofed).toBeLessThanOrEqual((2 * (1428 + 4)) / 4 + 50);
  });

  it('a real client still downloads whole files in single-port mode, asking a wide window', async () => {
    const data = pattern(1428 * 40 + 7);
    const { port } = await startServer({ handler: () => data, ports: 'single' });
    const got = await tftpGet({ host: '127.0.0.1', port }, 'f.bin', { blksize: 1428, windowsize: 16 });
    expect(Buffer.compare(got, data)).toBe(0);
  });

  it('port-range mode has the budget too; per-transfer mode does not need it', async () => {
    const size = 512 * 100;
    const free = await freePort();
    const { port } = await startServer({
      handler: () => pattern(size),
      ports: { from: free, to: free },
      retransmitTimeoutMs: 5000,
    });
    const victim = await openPeer();
    victim.rrq(port, 'f.bin', { windowsize: '64' });
    const oack = await victim.next();
    expect(oack.packet.opcode === Opcode.OACK && oack.packet.options.windowsize).toBe('1');
    // The attacker sprays ACKs at the range (here one port, which the OS picked).
    for (let b = 0; b < 20; b++) victim.ack(b * 64, free);
    const rest = await victim.collect(500);
    const data = rest.filter((r) => r.packet.opcode === Opcode.DATA);
    expect(data.length).toBeGreaterThan(0);
    expect(data.length).toBeLessThanOrEqual(4 + 20);
  });
});

/** A port the OS gave and took back: a one-port range for port-range mode. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
