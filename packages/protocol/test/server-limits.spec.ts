import { describe, expect, it, vi } from 'vitest';
import type { PtftpError } from '../src/errors.js';
import type { RequestInfo } from '../src/events.js';
import { encodeRequest, Opcode } from '../src/packet.js';
import { SourceRateLimiter } from '../src/rate-limit.js';
import { rawRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

const handler = () => pattern(5000);

describe('limits answer with ERROR, never with silence or a default file', () => {
  it('maxSessions: the request over the cap gets ERROR 0 naming the limit', async () => {
    const { server, port } = await startServer({ handler, maxSessions: 2, retransmitTimeoutMs: 5000 });
    const refused: PtftpError[] = [];
    server.on('requestRefused', (err) => refused.push(err));
    const a = await openPeer();
    const b = await openPeer();
    const c = await openPeer();
    a.rrq(port, 'f');
    await a.next();
    b.rrq(port, 'f');
    await b.next();
    c.rrq(port, 'f');
    const r = await c.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
    expect(r.packet.opcode === Opcode.ERROR && r.packet.message).toMatch(/maxSessions: server busy/);
    expect(r.port).toBe(port);
    expect(refused.map((e) => e.code)).toEqual(['PTFTP_ERR_LIMIT']);
    expect(server.activeSessions).toBe(2);
  });

  it('maxSessionsPerSource: a second transfer from the same address is refused while the first runs', async () => {
    const { server, port } = await startServer({
      handler,
      maxSessionsPerSource: 1,
      retransmitTimeoutMs: 5000,
    });
    const a = await openPeer();
    const b = await openPeer();
    a.rrq(port, 'f');
    const first = await a.next();
    b.rrq(port, 'f');
    const r = await b.next();
    expect(r.packet.opcode === Opcode.ERROR && r.packet.message).toMatch(/maxSessionsPerSource/);
    // When the first ends, the source may start again.
    a.send(Buffer.from([0, 5, 0, 0, 0]), first.port);
    for (let i = 0; i < 100 && server.activeSessions > 0; i++) await a.collect(20);
    expect(server.activeSessions).toBe(0);
    const got = await rawRead(b, port, 'f');
    expect(got.data).toEqual(pattern(5000));
  });

  it('the per-source token bucket drops requests beyond the burst silently (no reflection)', async () => {
    const { server, port } = await startServer({
      handler: () => pattern(10),
      newSessionsPerSecondPerSource: 0.001,
      burstPerSource: 2,
    });
    const refused: Array<[PtftpError, RequestInfo]> = [];
    server.on('requestRefused', (err, info) => refused.push([err, info]));
    const [a, b, c] = [await openPeer(), await openPeer(), await openPeer()];
    a.rrq(port, 'f');
    expect((await a.next()).packet.opcode).toBe(Opcode.DATA);
    b.rrq(port, 'f');
    expect((await b.next()).packet.opcode).toBe(Opcode.DATA);
    c.rrq(port, 'f');
    expect(await c.collect(300)).toEqual([]);
    expect(refused).toHaveLength(1);
    expect(refused[0]![0].code).toBe('PTFTP_ERR_LIMIT');
    expect(refused[0]![1].remote.address).toBe('127.0.0.1');
  });

  it('WRQ without a write handler is refused with ERROR 2 (access violation)', async () => {
    const { port } = await startServer({ handler });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet'), port);
    const r = await peer.next();
    expect(r.packet).toEqual({
      opcode: Opcode.ERROR,
      errorCode: 2,
      message: 'write requests are not accepted',
    });
  });

  it('mode "mail" is refused with ERROR 4', async () => {
    const { port } = await startServer({ handler });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.RRQ, 'f', 'mail'), port);
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 4 });
  });

  it('DATA or ACK to the listening port without a session gets ERROR 5; an ERROR gets nothing', async () => {
    const { port } = await startServer({ handler });
    const peer = await openPeer();
    peer.ack(1, port);
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 5 });
    peer.send(Buffer.from([0, 5, 0, 0, 0]), port);
    expect(await peer.collect(150)).toEqual([]);
  });
});

describe('configure(): limits change on a running server', () => {
  it('a raised maxSessions admits the request the old cap refused; a running transfer keeps going', async () => {
    const { server, port } = await startServer({ handler, maxSessions: 1, retransmitTimeoutMs: 5000 });
    const [a, b, c] = [await openPeer(), await openPeer(), await openPeer()];
    a.rrq(port, 'f');
    const first = await a.next();
    expect(first.packet.opcode).toBe(Opcode.DATA);
    b.rrq(port, 'f');
    expect((await b.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
    server.configure({ maxSessions: 2, retransmitTimeoutMs: 5000 });
    c.rrq(port, 'f');
    expect((await c.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    // The transfer that started under the old limits still answers its next ACK.
    a.ack(1, first.port);
    expect((await a.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    expect(server.activeSessions).toBe(2);
  });

  it('a lowered maxBlksize clamps new negotiations only', async () => {
    const { server, port } = await startServer({ handler, maxBlksize: 1468 });
    const a = await openPeer();
    a.rrq(port, 'f', { blksize: '1468' });
    expect((await a.next()).packet).toMatchObject({ opcode: Opcode.OACK, options: { blksize: '1468' } });
    server.configure({ maxBlksize: 512 });
    const b = await openPeer();
    b.rrq(port, 'f', { blksize: '1468' });
    expect((await b.next()).packet).toMatchObject({ opcode: Opcode.OACK, options: { blksize: '512' } });
  });

  it('a request admitted before configure() negotiates under the limits it was admitted with', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let asked = 0;
    const { server, port } = await startServer({
      maxBlksize: 1468,
      handler: async () => {
        asked++;
        await gate;
        return pattern(5000);
      },
    });
    const a = await openPeer();
    a.rrq(port, 'f', { blksize: '1468' });
    await vi.waitFor(() => expect(asked).toBe(1));
    server.configure({ maxBlksize: 512 });
    release();
    expect((await a.next()).packet).toMatchObject({ opcode: Opcode.OACK, options: { blksize: '1468' } });
  });

  it('refuses socket settings and bad values by name, and changes nothing then', async () => {
    const { server, port } = await startServer({ handler, maxSessions: 1 });
    expect(() => server.configure({ ports: 'single' } as never)).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('ports'),
      }),
    );
    expect(() => server.configure({ maxSessions: 0 })).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('maxSessions'),
      }),
    );
    const [a, b] = [await openPeer(), await openPeer()];
    a.rrq(port, 'f');
    await a.next();
    b.rrq(port, 'f');
    // Still the constructed cap of 1.
    expect((await b.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
  });
});

describe('SourceRateLimiter', () => {
  it('reconfigure keeps the buckets, each capped at the new burst (a reload refills nothing)', () => {
    let now = 0;
    const rl = new SourceRateLimiter(1, 3, 100, () => now);
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, true, false]);
    rl.reconfigure(1, 10);
    // Still empty: a larger burst is room to refill into, not tokens.
    expect(rl.take('a')).toBe(false);
    now += 2000;
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, false]);
    // A new source starts with the new burst.
    expect(Array.from({ length: 11 }, () => rl.take('b')).filter(Boolean)).toHaveLength(10);
  });

  it('refills at the rate and caps at the burst; the table stays bounded', () => {
    let now = 0;
    const l = new SourceRateLimiter(2, 3, 2, () => now);
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([true, true, true, false]);
    now += 500; // +1 token
    expect([l.take('a'), l.take('a')]).toEqual([true, false]);
    now += 60_000;
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([true, true, true, false]);
    l.take('b');
    l.take('c');
    expect(l.size).toBe(2);
  });
});
