import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
  AccessViolationError,
  DiskFullError,
  FileNotFoundError,
  type PtftpError,
  PtftpError as PtftpErrorClass,
  TftpErrorCode,
} from '../src/errors.js';
import { createFsHandler } from '../src/fs-handler.js';
import type { ReadRequest } from '../src/handler.js';
import { encodeError, encodeOack, Opcode } from '../src/packet.js';
import { rawRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

const files = (map: Record<string, Uint8Array>) => (req: ReadRequest) => {
  const data = map[req.filename];
  if (!data) throw new FileNotFoundError(req.filename);
  return data;
};

describe('RFC 2347 option negotiation on the wire', () => {
  it('OACK carries the granted options clamped to the ceilings, tsize answered, unknown options dropped', async () => {
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(5000) }),
      maxBlksize: 1468,
      maxWindowsize: 8,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { blksize: '9000', tsize: '0', windowsize: '100', multicast: '', foo: 'bar' });
    const r = await peer.next();
    expect(r.raw).toEqual(encodeOack({ blksize: '1468', tsize: '5000', windowsize: '8' }));
    expect(r.raw).toEqual(
      Buffer.from('\x00\x06blksize\x001468\x00tsize\x005000\x00windowsize\x008\x00', 'latin1'),
    );
    expect(r.port).not.toBe(port);
  });

  it('after an OACK the server sends no DATA until ACK 0, then DATA 1', async () => {
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(100) }),
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { tsize: '0' });
    const oack = await peer.next();
    expect(oack.packet.opcode).toBe(Opcode.OACK);
    peer.ack(1, oack.port); // not ACK 0: ignored
    expect(await peer.collect(300)).toEqual([]);
    peer.ack(0, oack.port);
    const data = await peer.next();
    expect(data.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(data.raw.subarray(4)).toEqual(pattern(100));
  });

  it('no OACK when no option is granted: DATA 1 with 512 bytes comes first (RFC 1350)', async () => {
    const { port } = await startServer({ handler: files({ 'f.bin': pattern(600) }) });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { foo: 'bar', blksize: '4' });
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(r.raw.length).toBe(4 + 512);
  });

  it('a per-client optionPolicy refuses blksize for one client and clamps windowsize', async () => {
    const seen: string[] = [];
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(3000) }),
      optionPolicy: (remote) => {
        seen.push(remote.address);
        return { refuse: ['blksize'], maxWindowsize: 2 };
      },
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { blksize: '1400', windowsize: '16', tsize: '0' });
    const r = await peer.next();
    expect(r.packet).toEqual({ opcode: Opcode.OACK, options: { windowsize: '2', tsize: '3000' } });
    expect(seen).toEqual(['127.0.0.1']);
  });
});

describe('RFC 1350 lockstep transfer', () => {
  it('serves the exact bytes; tsize equals the length; transferComplete counts blocks and bytes', async () => {
    const content = pattern(512 * 3 + 17);
    const { server, port } = await startServer({ handler: files({ 'f.bin': content }) });
    const done = new Promise<unknown>((resolve) => server.once('transferComplete', resolve));
    const peer = await openPeer();
    const got = await rawRead(peer, port, 'f.bin', { options: { tsize: '0' } });
    expect(got.oack).toEqual({ tsize: String(content.length) });
    expect(got.data).toEqual(content);
    expect(got.blocks).toEqual([1, 2, 3, 4]);
    expect(await done).toMatchObject({
      filename: 'f.bin',
      direction: 'read',
      bytes: content.length,
      blocks: 4,
    });
  });

  it('a file whose size is a multiple of blksize ends with an empty DATA', async () => {
    const { port } = await startServer({ handler: files({ 'f.bin': pattern(1024) }) });
    const peer = await openPeer();
    const got = await rawRead(peer, port, 'f.bin');
    expect(got.blocks).toEqual([1, 2, 3]);
    expect(got.data.length).toBe(1024);
  });

  it("Sorcerer's Apprentice: duplicate ACKs cause no DATA resend (count DATA packets)", async () => {
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(512 * 3) }),
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    for (let i = 0; i < 4; i++) peer.ack(1, d1.port);
    const after = await peer.collect(400);
    expect(after.map((r) => r.packet)).toEqual([expect.objectContaining({ opcode: Opcode.DATA, block: 2 })]);
    // A duplicate of ACK 0 or an ACK from the past changes nothing either.
    peer.ack(0, d1.port);
    peer.ack(1, d1.port);
    expect(await peer.collect(300)).toEqual([]);
  });

  it('retransmits the same DATA only when the timeout passes', async () => {
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(700) }),
      retransmitTimeoutMs: 150,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const first = await peer.next();
    const again = await peer.next();
    expect(again.raw).toEqual(first.raw);
    expect(again.port).toBe(first.port);
  });

  it('bounded amplification: before the first ACK at most firstAckRetries resends, then silence (no ERROR)', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(5000) }),
      retransmitTimeoutMs: 60,
      firstAckRetries: 1,
      retries: 10,
      // Only the retry count bounds resends here; the byte allowance has its own tests.
      maxAmplification: Number.POSITIVE_INFINITY,
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { blksize: '1400', tsize: '0' });
    const err = await failed;
    expect(err.code).toBe('PTFTP_ERR_TIMEOUT');
    await peer.collect(200);
    const oacks = peer.log.filter((r) => r.packet.opcode === Opcode.OACK);
    expect(oacks.length).toBe(2);
    expect(peer.log.some((r) => r.packet.opcode === Opcode.ERROR || r.packet.opcode === Opcode.DATA)).toBe(
      false,
    );
    expect(server.activeSessions).toBe(0);
  });

  it('RFC 2347 reflection bound: OACKs before the first ACK total at most the request bytes (maxAmplification 1)', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(5000) }),
      retransmitTimeoutMs: 60,
      firstAckRetries: 5,
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    // 35-byte request; each OACK ("blksize 1400 tsize 5000") is 26 bytes: one fits, two do not.
    peer.rrq(port, 'f.bin', { blksize: '1400', tsize: '0' });
    expect((await failed).code).toBe('PTFTP_ERR_TIMEOUT');
    await peer.collect(200);
    const sent = peer.log.filter((r) => r.packet.opcode === Opcode.OACK);
    expect(sent.length).toBe(1);
    expect(sent.reduce((n, r) => n + r.raw.length, 0)).toBeLessThanOrEqual(35);
    expect(peer.log.some((r) => r.packet.opcode !== Opcode.OACK)).toBe(false);
    expect(server.activeSessions).toBe(0);
  });

  it('RFC 2347 reflection bound: a repeated request raises the allowance, so a lost OACK is sent again', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(700) }),
      retransmitTimeoutMs: 80,
      firstAckRetries: 5,
    });
    const done = new Promise<void>((resolve) => server.once('transferComplete', () => resolve()));
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { blksize: '1400', tsize: '0' });
    const first = await peer.next();
    expect(first.packet.opcode).toBe(Opcode.OACK);
    // The OACK "was lost": the client asks again from the same port, as RFC 1350 clients do.
    peer.rrq(port, 'f.bin', { blksize: '1400', tsize: '0' });
    const again = await peer.next();
    expect(again.packet.opcode).toBe(Opcode.OACK);
    expect(again.raw).toEqual(first.raw);
    expect(again.port).toBe(first.port);
    peer.ack(0, again.port);
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    peer.ack(1, d1.port);
    await done;
  });

  it('after the first ACK, `retries` resends of a block, then ERROR 0 and the session ends', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(2000) }),
      retransmitTimeoutMs: 100,
      retries: 3,
      // Generous before the first ACK, so a slow test machine cannot end the transfer early.
      firstAckRetries: 20,
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    peer.ack(1, d1.port);
    expect((await failed).code).toBe('PTFTP_ERR_TIMEOUT');
    await peer.collect(100);
    const blocks2 = peer.log.filter((r) => r.packet.opcode === Opcode.DATA && r.packet.block === 2);
    expect(blocks2.length).toBe(1 + 3);
    const last = peer.log.at(-1)!;
    expect(last.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
  });

  it('RFC 1350 §4: a stranger on the transfer port gets ERROR 5 and the transfer goes on', async () => {
    const content = pattern(512 * 2 + 1);
    const { port } = await startServer({ handler: files({ 'f.bin': content }), retransmitTimeoutMs: 5000 });
    const peer = await openPeer();
    const stranger = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    stranger.ack(1, d1.port);
    const e = await stranger.next();
    expect(e.raw).toEqual(encodeError(TftpErrorCode.UnknownTransferId, 'unknown transfer ID'));
    expect(e.port).toBe(d1.port);
    peer.ack(1, d1.port);
    const d2 = await peer.next();
    expect(d2.packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    // An ERROR from a stranger is never answered (no error ping-pong).
    stranger.send(encodeError(0, 'x'), d1.port);
    expect(await stranger.collect(200)).toEqual([]);
  });

  it('a duplicate RRQ from the same address:port does not start a second session', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(2000) }),
      retransmitTimeoutMs: 5000,
    });
    let starts = 0;
    server.on('transferStart', () => starts++);
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    peer.rrq(port, 'f.bin');
    await peer.next();
    peer.rrq(port, 'f.bin');
    expect(await peer.collect(300)).toEqual([]);
    expect(starts).toBe(1);
    expect(server.activeSessions).toBe(1);
  });

  it('a request for another file from the same port starts at once, and the running transfer goes on (a forged RRQ cannot end it)', async () => {
    const { server, port } = await startServer({
      handler: files({ 'a.bin': pattern(1000), 'b.bin': pattern(200) }),
      retransmitTimeoutMs: 5000,
    });
    const failed: string[] = [];
    server.on('transferError', (_e, info) => failed.push(info.filename ?? ''));
    const peer = await openPeer();
    peer.rrq(port, 'a.bin');
    const a1 = await peer.next();
    expect(a1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    // A request for another file from the phone's address and port (the phone moving on, or an
    // attacker forging it): it is served without waiting for a.bin's transfer to end...
    peer.rrq(port, 'b.bin');
    const b1 = await peer.next();
    expect(b1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(b1.raw.subarray(4)).toEqual(pattern(200));
    expect(b1.port).not.toBe(a1.port);
    // ...and a.bin's transfer is still there: ACK 1 to its port brings block 2.
    peer.ack(1, a1.port);
    const a2 = await peer.next();
    expect(a2.packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    expect(a2.port).toBe(a1.port);
    expect(a2.raw.subarray(4)).toEqual(pattern(1000).subarray(512));
    expect(failed).toEqual([]);
    expect(server.activeSessions).toBe(2);
  });

  it('a request still waiting for its handler is dropped when its port asks for another file: the port never gets the first file', async () => {
    let releaseA!: () => void;
    const aWaits = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let aSignal: AbortSignal | undefined;
    const { server, port } = await startServer({
      handler: async (req) => {
        if (req.filename === 'a.bin') {
          aSignal = req.signal;
          await aWaits;
          return pattern(700);
        }
        return Buffer.from('the file b');
      },
    });
    const peer = await openPeer();
    peer.rrq(port, 'a.bin');
    await vi.waitFor(() => expect(aSignal).toBeDefined());
    // The phone gave up on a.bin; its next socket, on the same port, asks for b.bin.
    peer.rrq(port, 'b.bin');
    const b1 = await peer.next();
    expect(b1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(b1.raw.subarray(4).toString()).toBe('the file b');
    expect(aSignal?.aborted).toBe(true);
    releaseA();
    peer.ack(1, b1.port);
    // a.bin's handler has now answered: nothing of it may reach the port.
    const late = await peer.collect(300);
    expect(late.filter((p) => p.packet.opcode === Opcode.DATA)).toEqual([]);
    expect(server.activeSessions).toBe(0);
  });

  it('an ERROR from the client ends its session quietly and aborts the handler signal', async () => {
    let signal: AbortSignal | undefined;
    const { server, port } = await startServer({
      handler: (req) => {
        signal = req.signal;
        return pattern(3000);
      },
      retransmitTimeoutMs: 100,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    peer.send(encodeError(0, 'cancelled by user'), d1.port);
    expect(await peer.collect(400)).toEqual([]);
    expect(server.activeSessions).toBe(0);
    expect(signal?.aborted).toBe(true);
  });

  it('a streamed file whose transfer ended while its handler ran is closed, not leaked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ptftp-leak-'));
    writeFileSync(path.join(dir, 'big.bin'), pattern(100_000));
    // idleMs: a released descriptor lingers 10 ms for the next reader instead of the default second.
    const fsHandler = createFsHandler(dir, { maxCachedFileBytes: 1000, idleMs: 10 });
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    try {
      for (let i = 0; i < 5; i++) {
        let entered!: () => void;
        const started = new Promise<void>((r) => {
          entered = r;
        });
        let release!: () => void;
        const closed = new Promise<void>((r) => {
          release = r;
        });
        let returned!: () => void;
        const done = new Promise<void>((r) => {
          returned = r;
        });
        const { server, port } = await startServer({
          handler: async (req) => {
            const result = await fsHandler(req);
            entered();
            // The handler holds its open file until the server has closed under it.
            await closed;
            returned();
            return result;
          },
        });
        const peer = await openPeer();
        peer.rrq(port, 'big.bin');
        await started;
        await server.close();
        release();
        await done;
        peer.close();
      }
      await vi.waitFor(() => expect(fds()).toBe(before));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a handler that reads its signal only after the server closed finds it aborted, with the reason', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let seen: AbortSignal | undefined;
    let entered!: () => void;
    const started = new Promise<void>((r) => {
      entered = r;
    });
    const { server, port } = await startServer({
      handler: async (req) => {
        entered();
        await gate;
        seen = req.signal;
        return pattern(10);
      },
    });
    const peer = await openPeer();
    peer.rrq(port, 'slow.bin');
    await started;
    await server.close();
    release();
    await vi.waitFor(() => expect(seen?.aborted).toBe(true));
    expect(String(seen?.reason)).toMatch(/server closed/);
  });
});

describe('RFC 2349 timeout and the server deadlines', () => {
  it("the client's timeout option replaces the server's retransmit timeout", async () => {
    const { port } = await startServer({
      handler: files({ 'f.bin': pattern(100) }),
      retransmitTimeoutMs: 60_000,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin', { timeout: '1' });
    const oack = await peer.next();
    expect(oack.packet).toEqual({ opcode: Opcode.OACK, options: { timeout: '1' } });
    // With the server's 60 s this resend could not come within the wait below.
    const again = await peer.next(5000);
    expect(again.raw).toEqual(oack.raw);
  });

  it('transferDeadlineMs ends a transfer that is still running, with ERROR 0 to a verified peer', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(5000) }),
      retransmitTimeoutMs: 60_000,
      transferDeadlineMs: 500,
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    peer.ack(1, d1.port);
    const err = await failed;
    expect(err.code).toBe('PTFTP_ERR_TIMEOUT');
    expect(err.message).toMatch(/deadline of 500 ms/);
    await peer.collect(100);
    expect(peer.log.at(-1)?.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
  });

  it('inactivityTimeoutMs ends a transfer whose peer stopped, whatever the retry budget', async () => {
    const { server, port } = await startServer({
      handler: files({ 'f.bin': pattern(5000) }),
      retransmitTimeoutMs: 50,
      retries: 1000,
      inactivityTimeoutMs: 300,
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    peer.ack(1, d1.port);
    const err = await failed;
    expect(err.message).toMatch(/no progress for 300 ms/);
    expect(server.activeSessions).toBe(0);
  });
});

describe('handler errors become TFTP ERROR packets', () => {
  const cases: Array<[string, () => unknown, number, RegExp]> = [
    ['FileNotFoundError -> ERROR 1', () => new FileNotFoundError('x.bin'), 1, /file not found: x\.bin/],
    ['AccessViolationError -> ERROR 2', () => new AccessViolationError('x.bin'), 2, /access violation/],
    ['DiskFullError -> ERROR 3', () => new DiskFullError('x.bin', 'disk full'), 3, /disk full/],
    [
      'a PtftpError that did not opt in to the wire -> ERROR 0, generic message',
      () => new PtftpErrorClass('PTFTP_ERR_LIMIT', 'db password is hunter2'),
      0,
      /^internal error$/,
    ],
    [
      'any other error -> ERROR 0, generic message',
      () => new Error('db password is hunter2'),
      0,
      /^internal error$/,
    ],
  ];
  for (const [name, make, code, message] of cases) {
    it(name, async () => {
      const { port } = await startServer({
        handler: async () => {
          throw make();
        },
      });
      const peer = await openPeer();
      peer.rrq(port, 'x.bin');
      const r = await peer.next();
      expect(r.packet.opcode).toBe(Opcode.ERROR);
      if (r.packet.opcode !== Opcode.ERROR) return;
      expect(r.packet.errorCode).toBe(code);
      expect(r.packet.message).toMatch(message);
      expect(r.packet.message).not.toContain('hunter2');
    });
  }
});

describe('RFC 1350 netascii', () => {
  it('LF goes out as CR LF and CR as CR NUL; tsize states the translated size', async () => {
    const { port } = await startServer({ handler: files({ 't.txt': Buffer.from('a\nb\rc') }) });
    const peer = await openPeer();
    const got = await rawRead(peer, port, 't.txt', { mode: 'netascii', options: { tsize: '0' } });
    expect(got.data).toEqual(Buffer.from([0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x00, 0x63]));
    expect(got.oack).toEqual({ tsize: '7' });
  });

  it('a stream in netascii is translated across block boundaries (CR LF split by blksize 8)', async () => {
    const text = Buffer.from('1234567\nabcdefg\r\n');
    const { port } = await startServer({
      handler: () => ({ stream: Readable.from([text.subarray(0, 5), text.subarray(5)]) }),
    });
    const peer = await openPeer();
    const got = await rawRead(peer, port, 't.txt', {
      mode: 'netascii',
      options: { blksize: '8', tsize: '0' },
    });
    // No tsize: a stream's netascii size is not known in advance.
    expect(got.oack).toEqual({ blksize: '8' });
    expect(got.data.toString('latin1')).toBe('1234567\r\nabcdefg\r\0\r\n');
  });
});

describe('streams', () => {
  it('a stream with a size answers tsize and serves its bytes (SHA-256)', async () => {
    const content = pattern(100_000);
    const { port } = await startServer({
      handler: () => ({
        stream: Readable.from([content.subarray(0, 33_333), content.subarray(33_333)]),
        size: content.length,
      }),
    });
    const peer = await openPeer();
    const got = await rawRead(peer, port, 's.bin', { options: { tsize: '0', blksize: '1400' } });
    expect(got.oack).toEqual({ tsize: '100000', blksize: '1400' });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(got.data)).toBe(sha(content));
  });

  it('a stream that ends short of its announced size fails with ERROR 0 (SizeMismatchError)', async () => {
    const { server, port } = await startServer({
      handler: () => ({ stream: Readable.from([pattern(100)]), size: 5000 }),
    });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (err) => resolve(err)));
    const peer = await openPeer();
    peer.rrq(port, 's.bin');
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
    expect((await failed).code).toBe('PTFTP_ERR_SIZE_MISMATCH');
  });
});

describe('RFC 7440 windowsize', () => {
  it('sends a window of N blocks per ACK; an ACK inside the window moves the window there', async () => {
    const { port } = await startServer({
      handler: files({ 'w.bin': pattern(8 * 10) }),
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    peer.rrq(port, 'w.bin', { blksize: '8', windowsize: '4' });
    const oack = await peer.next();
    expect(oack.packet).toEqual({ opcode: Opcode.OACK, options: { blksize: '8', windowsize: '4' } });
    const blocks = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await peer.next();
        if (r.packet.opcode === Opcode.DATA) out.push(r.packet.block);
      }
      return out;
    };
    peer.ack(0, oack.port);
    expect(await blocks(4)).toEqual([1, 2, 3, 4]);
    peer.ack(2, oack.port); // blocks 3 and 4 "lost"
    expect(await blocks(4)).toEqual([3, 4, 5, 6]);
    peer.ack(6, oack.port);
    expect(await blocks(4)).toEqual([7, 8, 9, 10]);
    peer.ack(10, oack.port);
    const last = await peer.next();
    expect(last.packet).toMatchObject({ opcode: Opcode.DATA, block: 11 });
    expect(last.raw.length).toBe(4);
    peer.ack(11, oack.port);
    expect(await peer.collect(200)).toEqual([]);
  });

  it('on timeout the window is resent from the first unacknowledged block', async () => {
    const { port } = await startServer({
      handler: files({ 'w.bin': pattern(8 * 10) }),
      retransmitTimeoutMs: 150,
    });
    const peer = await openPeer();
    peer.rrq(port, 'w.bin', { blksize: '8', windowsize: '4' });
    const oack = await peer.next();
    peer.ack(0, oack.port);
    for (let i = 0; i < 4; i++) await peer.next();
    peer.ack(2, oack.port);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await peer.next();
      if (r.packet.opcode === Opcode.DATA) seen.push(r.packet.block);
    }
    expect(seen).toEqual([3, 4, 5, 6, 3, 4, 5, 6]);
  });
});

describe('malformed datagrams', () => {
  it('emit malformedPacket and leave the server serving', async () => {
    const { server, port } = await startServer({ handler: files({ 'f.bin': pattern(10) }) });
    const seen: string[] = [];
    server.on('malformedPacket', (err) => seen.push(err.field));
    const peer = await openPeer();
    peer.send(Buffer.from([0, 1, 0x66]), port);
    const refused = await peer.next();
    expect(refused.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 2 });
    expect(refused.packet.opcode === Opcode.ERROR && refused.packet.message).toMatch(
      /malformed request: filename/,
    );
    // Anything that is not a request gets no answer at all.
    peer.send(Buffer.from([0, 9]), port);
    expect(await peer.collect(100)).toEqual([]);
    const got = await rawRead(peer, port, 'f.bin');
    expect(got.data).toEqual(pattern(10));
    expect(seen).toEqual(['filename', 'opcode']);
  });
});
