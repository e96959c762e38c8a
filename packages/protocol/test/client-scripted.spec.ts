/**
 * The client against a scripted server made of raw dgram sockets on loopback: each test plays
 * one exchange byte for byte (misbehaving servers included) and asserts what the client sent.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortedError,
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  InvalidArgumentError,
  LimitError,
  Opcode,
  OptionNegotiationError,
  type Packet,
  type RequestPacket,
  SizeMismatchError,
  TftpClient,
  type TftpNegotiated,
  TftpRemoteError,
  TimeoutError,
  tftpGet,
  tftpGetStream,
  tftpPut,
} from '../src/index.js';

const HOST = '127.0.0.1';

interface Received {
  packet: Packet;
  port: number;
}

/** A UDP socket that queues what it receives and lets a script await packets in order. */
class ScriptSocket {
  readonly socket = dgram.createSocket('udp4');
  readonly log: Received[] = [];
  #cursor = 0;
  #waiter: (() => void) | undefined;

  async bind(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, HOST, () => resolve()));
    this.socket.on('message', (msg, rinfo) => {
      let packet: Packet;
      try {
        packet = decodePacket(msg);
      } catch {
        return;
      }
      this.log.push({ packet, port: rinfo.port });
      this.#waiter?.();
    });
    return this.socket.address().port;
  }

  /** The next packet received (in order), or an error after `ms` without one. */
  async next(ms = 3000): Promise<Received> {
    const deadline = Date.now() + ms;
    while (this.#cursor >= this.log.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('scripted server: no packet from the client');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.log[this.#cursor++]!;
  }

  /** Let the client run for `ms`, then return what arrived meanwhile (for "nothing more" checks). */
  async drain(ms: number): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    const rest = this.log.slice(this.#cursor);
    this.#cursor = this.log.length;
    return rest;
  }

  send(buf: Buffer, port: number): void {
    this.socket.send(buf, port, HOST);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

const open: ScriptSocket[] = [];
async function socket(): Promise<[ScriptSocket, number]> {
  const s = new ScriptSocket();
  open.push(s);
  return [s, await s.bind()];
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** The listening socket, the request it received, and a fresh transfer socket (a new TID). */
async function acceptRequest(listen: ScriptSocket) {
  const req = await listen.next();
  expect([Opcode.RRQ, Opcode.WRQ]).toContain(req.packet.opcode);
  const [xfer, xferPort] = await socket();
  return { req: req.packet as RequestPacket, client: req.port, xfer, xferPort };
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const ack = (block: number): Packet => ({ opcode: Opcode.ACK, block });
const fast = { retransmitTimeoutMs: 2000, retries: 2 };

describe('client read session (scripted server)', () => {
  it('RFC 2347/2348: an OACK lowering blksize is accepted, ACK 0 sent, blocks of that size follow', async () => {
    const [listen, port] = await socket();
    const file = bytes(1024 * 2 + 100, 1);
    let info: TftpNegotiated | undefined;
    const p = tftpGet({ host: HOST, port }, 'f.bin', {
      ...fast,
      blksize: 1468,
      onNegotiated: (i) => {
        info = i;
      },
    });
    const { req, client, xfer, xferPort } = await acceptRequest(listen);
    expect(req).toEqual({
      opcode: Opcode.RRQ,
      filename: 'f.bin',
      mode: 'octet',
      options: { blksize: '1468', tsize: '0' },
    });
    xfer.send(encodeOack({ blksize: '1024', tsize: String(file.length) }), client);
    expect((await xfer.next()).packet).toEqual(ack(0));
    for (let b = 1; b <= 3; b++) {
      xfer.send(encodeData(b, file.subarray((b - 1) * 1024, b * 1024)), client);
      expect((await xfer.next()).packet).toEqual(ack(b));
    }
    expect((await p).equals(file)).toBe(true);
    expect(info).toMatchObject({ blksize: 1024, windowsize: 1, tsize: file.length, remotePort: xferPort });
  });

  it('RFC 2347: an OACK with an option not requested gets ERROR 8 and OptionNegotiationError', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, blksize: 1468 }).catch((e) => e);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ blksize: '1468', windowsize: '8' }), client);
    const answer = (await xfer.next()).packet;
    expect(answer).toMatchObject({ opcode: Opcode.ERROR, errorCode: 8 });
    const err = await p;
    expect(err).toBeInstanceOf(OptionNegotiationError);
    expect(err.option).toBe('windowsize');
  });

  it('RFC 2348: an OACK raising blksize above the request gets ERROR 8', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, blksize: 1024 }).catch((e) => e);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ blksize: '2048' }), client);
    expect((await xfer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 8 });
    expect(await p).toMatchObject({ code: 'PTFTP_ERR_OPTION_NEGOTIATION', option: 'blksize' });
  });

  it('RFC 2347: ERROR 8 to a request with options makes the client ask once more without options', async () => {
    const [listen, port] = await socket();
    const file = bytes(700, 2);
    let info: TftpNegotiated | undefined;
    const p = tftpGet({ host: HOST, port }, 'f.bin', {
      ...fast,
      blksize: 1468,
      windowsize: 4,
      onNegotiated: (i) => {
        info = i;
      },
    });
    const first = await acceptRequest(listen);
    expect(Object.keys(first.req.options)).toEqual(['blksize', 'tsize', 'windowsize']);
    first.xfer.send(encodeError(8, 'options refused'), first.client);
    const second = await acceptRequest(listen);
    expect(second.req.options).toEqual({});
    second.xfer.send(encodeData(1, file.subarray(0, 512)), second.client);
    expect((await second.xfer.next()).packet).toEqual(ack(1));
    second.xfer.send(encodeData(2, file.subarray(512)), second.client);
    expect((await second.xfer.next()).packet).toEqual(ack(2));
    expect((await p).equals(file)).toBe(true);
    expect(info).toMatchObject({ retriedWithoutOptions: true, blksize: 512 });
  });

  it('RFC 2347: a server that ignores options and sends DATA 1 falls back to 512-byte blocks', async () => {
    const [listen, port] = await socket();
    const file = bytes(512 + 3, 3);
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, blksize: 8192, windowsize: 16 });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, file.subarray(0, 512)), client);
    // A 512-byte block is full at the fallback size: the client must ask for block 2.
    expect((await xfer.next()).packet).toEqual(ack(1));
    xfer.send(encodeData(2, file.subarray(512)), client);
    expect((await xfer.next()).packet).toEqual(ack(2));
    expect((await p).equals(file)).toBe(true);
  });

  it('RFC 1350 §4: DATA from another port gets ERROR 5 and does not disturb the transfer', async () => {
    const [listen, port] = await socket();
    const file = bytes(600, 4);
    const p = tftpGet({ host: HOST, port }, 'f.bin', fast);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, file.subarray(0, 512)), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    const [stranger] = await socket();
    stranger.send(encodeData(2, Buffer.from('forged')), client);
    expect((await stranger.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 5 });
    xfer.send(encodeData(2, file.subarray(512)), client);
    expect((await xfer.next()).packet).toEqual(ack(2));
    expect((await p).equals(file)).toBe(true);
  });

  it("Sorcerer's Apprentice: repeated duplicate DATA earns one ACK, not one per copy", async () => {
    const [listen, port] = await socket();
    const file = bytes(600, 5);
    // A long retransmit timeout so that every ACK seen below answers a packet, not the timer.
    const p = tftpGet({ host: HOST, port }, 'f.bin', { retransmitTimeoutMs: 10_000 });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, file.subarray(0, 512)), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    for (let i = 0; i < 5; i++) xfer.send(encodeData(1, file.subarray(0, 512)), client);
    const extra = await xfer.drain(300);
    expect(extra.map((r) => r.packet)).toEqual([ack(1)]);
    xfer.send(encodeData(2, file.subarray(512)), client);
    expect((await xfer.next()).packet).toEqual(ack(2));
    expect((await p).equals(file)).toBe(true);
  });

  it('RFC 7440: ACK once per window; on a gap, ACK the last in-order block once', async () => {
    const [listen, port] = await socket();
    const blk = 16;
    const file = bytes(blk * 10 + 5, 6); // blocks 1..10 full, block 11 short
    const block = (b: number) => encodeData(b, file.subarray((b - 1) * blk, b * blk));
    const p = tftpGet({ host: HOST, port }, 'f.bin', {
      blksize: blk,
      windowsize: 4,
      retransmitTimeoutMs: 10_000,
    });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ blksize: String(blk), windowsize: '4', tsize: String(file.length) }), client);
    expect((await xfer.next()).packet).toEqual(ack(0));
    for (const b of [1, 2, 3, 4]) xfer.send(block(b), client);
    expect((await xfer.next()).packet).toEqual(ack(4));
    // Window 5..8 loses block 6: one ACK 5, however many later blocks arrive.
    for (const b of [5, 7, 8]) xfer.send(block(b), client);
    expect((await xfer.next()).packet).toEqual(ack(5));
    expect(await xfer.drain(200)).toEqual([]);
    for (const b of [6, 7, 8, 9]) xfer.send(block(b), client);
    expect((await xfer.next()).packet).toEqual(ack(9));
    xfer.send(block(10), client);
    xfer.send(block(11), client);
    expect((await xfer.next()).packet).toEqual(ack(11));
    expect((await p).equals(file)).toBe(true);
  });

  it('a server that stops mid-transfer: ACK retransmitted on timeout only, then TimeoutError, no data', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { retransmitTimeoutMs: 50, retries: 3 }).then(
      (b) => ({ resolved: b }),
      (e) => ({ rejected: e }),
    );
    const { client, xfer } = await acceptRequest(listen);
    for (let b = 1; b <= 3; b++) {
      xfer.send(encodeData(b, bytes(512, b)), client);
      expect((await xfer.next()).packet).toEqual(ack(b));
    }
    const outcome = await p;
    expect(outcome).not.toHaveProperty('resolved');
    const err = (outcome as { rejected: Error }).rejected;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toContain('after 1536 bytes');
    const rest = (await xfer.drain(0)).map((r) => r.packet);
    // Three retransmissions of ACK 3, then an ERROR telling the server we gave up.
    expect(rest.slice(0, 3)).toEqual([ack(3), ack(3), ack(3)]);
    expect(rest[3]).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
  });

  it('a cut streamed download destroys the stream with the error instead of ending it', async () => {
    const [listen, port] = await socket();
    const started = tftpGetStream({ host: HOST, port }, 'f.bin', { retransmitTimeoutMs: 50, retries: 1 });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, bytes(512, 1)), client);
    const { stream } = await started;
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    const err = await new Promise<Error>((resolve) => {
      stream.on('error', resolve);
      stream.resume();
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect(ended).toBe(false);
  });

  it('RFC 2349: fewer bytes than the announced tsize rejects with SizeMismatchError', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', fast).catch((e) => e);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ tsize: '5000' }), client);
    expect((await xfer.next()).packet).toEqual(ack(0));
    xfer.send(encodeData(1, bytes(100, 1)), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    const err = await p;
    expect(err).toBeInstanceOf(SizeMismatchError);
    expect(err).toMatchObject({ expected: 5000, actual: 100 });
  });

  it('maxBytes: a download growing past the limit gets ERROR 3 and LimitError', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, tsize: false, maxBytes: 1000 }).catch(
      (e) => e,
    );
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, bytes(512, 1)), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    xfer.send(encodeData(2, bytes(512, 2)), client);
    expect((await xfer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 3 });
    expect(await p).toBeInstanceOf(LimitError);
  });

  it('maxBytes: an announced tsize over the limit is refused before any data', async () => {
    const [listen, port] = await socket();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, maxBytes: 1000 }).catch((e) => e);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ tsize: '1000000' }), client);
    expect((await xfer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 3 });
    expect(await p).toMatchObject({ code: 'PTFTP_ERR_LIMIT', limit: 'maxBytes' });
  });

  it('RFC 1350 ERROR 2 maps to AccessViolationError; other codes to TftpRemoteError with remoteCode', async () => {
    const [listen, port] = await socket();
    const p1 = tftpGet({ host: HOST, port }, 'a.bin', fast).catch((e) => e);
    const r1 = await acceptRequest(listen);
    r1.xfer.send(encodeError(2, 'denied'), r1.client);
    expect(await p1).toMatchObject({ code: 'PTFTP_ERR_ACCESS_VIOLATION', filename: 'a.bin' });
    const p2 = tftpGet({ host: HOST, port }, 'b.bin', fast).catch((e) => e);
    const r2 = await acceptRequest(listen);
    r2.xfer.send(encodeError(4, 'illegal'), r2.client);
    const e2 = await p2;
    expect(e2).toBeInstanceOf(TftpRemoteError);
    expect(e2).toMatchObject({ remoteCode: 4, remoteMessage: 'illegal' });
  });

  it('garbage datagrams from the server are ignored, not fatal', async () => {
    const [listen, port] = await socket();
    const file = bytes(10, 1);
    const p = tftpGet({ host: HOST, port }, 'f.bin', fast);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(Buffer.from([0, 9, 1, 2]), client); // unknown opcode 9
    xfer.send(Buffer.from([0]), client);
    xfer.send(encodeData(1, file), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    expect((await p).equals(file)).toBe(true);
  });

  it('AbortSignal mid-transfer: ERROR 0 to the server and AbortedError', async () => {
    const [listen, port] = await socket();
    const ac = new AbortController();
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, signal: ac.signal }).catch((e) => e);
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeData(1, bytes(512, 1)), client);
    expect((await xfer.next()).packet).toEqual(ack(1));
    ac.abort();
    expect((await xfer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
    expect(await p).toBeInstanceOf(AbortedError);
  });

  it('RFC 1350: block numbers wrap to 1 when rollover=1 is granted', async () => {
    const [listen, port] = await socket();
    const blk = 8;
    const blocks = 65537; // the last full block is numbered 1 after the wrap, then a short one
    const p = tftpGet({ host: HOST, port }, 'f.bin', { ...fast, blksize: blk, windowsize: 256, rollover: 1 });
    const { client, xfer, req } = await acceptRequest(listen);
    expect(req.options.rollover).toBe('1');
    xfer.send(encodeOack({ blksize: '8', windowsize: '256', rollover: '1' }), client);
    expect((await xfer.next()).packet).toEqual(ack(0));
    const payload = Buffer.alloc(blk, 0xab);
    let wire = 0;
    for (let n = 1; n <= blocks; n++) {
      wire = wire === 65535 ? 1 : wire + 1;
      xfer.send(encodeData(wire, payload), client);
      if (n % 256 === 0) expect((await xfer.next()).packet).toEqual(ack(wire));
    }
    wire = wire === 65535 ? 1 : wire + 1;
    xfer.send(encodeData(wire, Buffer.from([1])), client);
    expect((await xfer.next()).packet).toEqual(ack(wire));
    const got = await p;
    expect(wire).toBe(3); // 65535, then 1, 2 (full) and 3 (short)
    expect(got.length).toBe(blocks * blk + 1);
  });
});

describe('client stream and defaults (scripted server)', () => {
  it('tftpGetStream flow control: a reader that lags holds the ACK back until it reads again', async () => {
    const [listen, port] = await socket();
    const blk = 65464; // the RFC 2348 maximum, so that a few blocks fill the stream's 1 MiB buffer
    const total = 24;
    const started = tftpGetStream({ host: HOST, port }, 'f.bin', {
      blksize: blk,
      retransmitTimeoutMs: 10_000,
    });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeOack({ blksize: String(blk), tsize: String(total * blk) }), client);
    expect((await xfer.next()).packet).toEqual(ack(0));
    const { stream } = await started;
    const ended = new Promise((resolve) => stream.on('end', resolve));
    // Nobody reads: the client must stop acknowledging once its buffer is full.
    let acked = 0;
    for (let b = 1; b <= total; b++) {
      xfer.send(encodeData(b, Buffer.alloc(blk, b)), client);
      const got = await xfer.next(300).catch(() => undefined);
      if (!got) break;
      expect(got.packet).toEqual(ack(b));
      acked = b;
    }
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(total);
    // Reading releases the held ACK of the last block received.
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    expect((await xfer.next()).packet).toEqual(ack(acked + 1));
    for (let b = acked + 2; b <= total; b++) {
      xfer.send(encodeData(b, Buffer.alloc(blk, b)), client);
      expect((await xfer.next()).packet).toEqual(ack(b));
    }
    xfer.send(encodeData(total + 1, Buffer.alloc(0)), client);
    expect((await xfer.next()).packet).toEqual(ack(total + 1));
    await ended;
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(total * blk);
    expect(all[blk * (total - 1)]).toBe(total);
  });

  it('TftpClient: defaults apply to every request and per-call options override them', async () => {
    const [listen, port] = await socket();
    const c = new TftpClient({ host: HOST, port }, { blksize: 1024, tsize: false, retries: 1 });
    const p1 = c.get('a.bin');
    const r1 = await acceptRequest(listen);
    expect(r1.req.options).toEqual({ blksize: '1024' });
    r1.xfer.send(encodeError(1, 'no'), r1.client);
    await expect(p1).rejects.toMatchObject({ code: 'PTFTP_ERR_NOT_FOUND', filename: 'a.bin' });
    const p2 = c.get('b.bin', { blksize: 2048, windowsize: 4 });
    const r2 = await acceptRequest(listen);
    expect(r2.req.options).toEqual({ blksize: '2048', windowsize: '4' });
    r2.xfer.send(encodeError(1, 'no'), r2.client);
    await expect(p2).rejects.toBeInstanceOf(Error);
    expect(() => new TftpClient({ host: HOST, port }, { blksize: 1 })).toThrow(InvalidArgumentError);
  });
});

describe('client write session (scripted server)', () => {
  it("RFC 1350 WRQ: ACK 0 starts lockstep DATA; a duplicate ACK does not resend DATA (Sorcerer's Apprentice)", async () => {
    const [listen, port] = await socket();
    const data = bytes(1100, 9);
    const p = tftpPut({ host: HOST, port }, 'up.bin', data, { retransmitTimeoutMs: 10_000 });
    const { req, client, xfer } = await acceptRequest(listen);
    expect(req).toMatchObject({ opcode: Opcode.WRQ, filename: 'up.bin', options: { tsize: '1100' } });
    xfer.send(encodeAck(0), client);
    expect((await xfer.next()).packet).toEqual({
      opcode: Opcode.DATA,
      block: 1,
      data: data.subarray(0, 512),
    });
    xfer.send(encodeAck(1), client);
    expect((await xfer.next()).packet).toEqual({
      opcode: Opcode.DATA,
      block: 2,
      data: data.subarray(512, 1024),
    });
    xfer.send(encodeAck(1), client); // duplicate of an old ACK
    xfer.send(encodeAck(1), client);
    expect(await xfer.drain(200)).toEqual([]);
    xfer.send(encodeAck(2), client);
    expect((await xfer.next()).packet).toEqual({ opcode: Opcode.DATA, block: 3, data: data.subarray(1024) });
    xfer.send(encodeAck(3), client);
    expect(await p).toEqual({ bytes: 1100 });
  });

  it('RFC 1350 WRQ: the DATA is retransmitted when its ACK does not come', async () => {
    const [listen, port] = await socket();
    const data = bytes(10, 1);
    const p = tftpPut({ host: HOST, port }, 'up.bin', data, { retransmitTimeoutMs: 50, retries: 3 });
    const { client, xfer } = await acceptRequest(listen);
    xfer.send(encodeAck(0), client);
    const first = (await xfer.next()).packet;
    const again = (await xfer.next()).packet;
    expect(again).toEqual(first);
    xfer.send(encodeAck(1), client);
    expect(await p).toEqual({ bytes: 10 });
  });

  it('RFC 2347 WRQ: an OACK grants blksize and DATA 1 follows at that size', async () => {
    const [listen, port] = await socket();
    const data = bytes(3000, 2);
    const p = tftpPut({ host: HOST, port }, 'up.bin', data, { ...fast, blksize: 2048, tsize: false });
    const { req, client, xfer } = await acceptRequest(listen);
    expect(req.options).toEqual({ blksize: '2048' });
    xfer.send(encodeOack({ blksize: '1024' }), client);
    for (let b = 1; b <= 3; b++) {
      const d = (await xfer.next()).packet;
      expect(d).toEqual({ opcode: Opcode.DATA, block: b, data: data.subarray((b - 1) * 1024, b * 1024) });
      xfer.send(encodeAck(b), client);
    }
    expect(await p).toEqual({ bytes: 3000 });
  });
});

describe('client argument checks', () => {
  it('rejects out-of-range options with InvalidArgumentError naming the field and value', async () => {
    const t = { host: HOST, port: 9 };
    await expect(tftpGet(t, 'f', { blksize: 7 })).rejects.toMatchObject({
      code: 'PTFTP_ERR_INVALID_ARGUMENT',
      field: 'blksize',
      message: expect.stringContaining('7'),
    });
    await expect(tftpGet(t, 'f', { windowsize: 0 })).rejects.toMatchObject({ field: 'windowsize' });
    await expect(tftpGet(t, 'f', { timeout: 256 })).rejects.toMatchObject({ field: 'timeout' });
    await expect(tftpGet({ host: HOST, port: 70000 }, 'f')).rejects.toMatchObject({ field: 'port' });
    await expect(tftpGet({ host: '' }, 'f')).rejects.toMatchObject({ field: 'host' });
    await expect(tftpGet(t, '')).rejects.toMatchObject({ field: 'filename' });
    await expect(tftpGet(t, 'x'.repeat(300))).rejects.toMatchObject({ field: 'filename' });
    await expect(tftpPut(t, 'f', Buffer.alloc(3), { size: 4 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('an already aborted signal rejects with AbortedError before any packet is sent', async () => {
    const [listen, port] = await socket();
    await expect(tftpGet({ host: HOST, port }, 'f', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(await listen.drain(50)).toEqual([]);
  });
});
