/**
 * The client as lenient as curl, atftp and tftp-hpa where leniency costs nothing (issue 15):
 * tftpy adds `blksize 512` to an OACK that did not ask for it, py3tftp writes `timeout 2.0`.
 * What would change the transfer is still refused with ERROR 8. And a request to a closed port
 * fails at once (ICMP port unreachable), not after every retry.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../../test-support/peers.js';
import {
  decodePacket,
  encodeData,
  encodeOack,
  Opcode,
  type Packet,
  type TftpOptions,
  TimeoutError,
  tftpGet,
} from '../src/index.js';

const HOST = '127.0.0.1';
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A UDP socket on loopback whose packets can be awaited one by one. */
async function udp(): Promise<{
  port: number;
  next(): Promise<{ packet: Packet; port: number }>;
  send(b: Buffer, port: number): void;
}> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  const queue: Array<{ packet: Packet; port: number }> = [];
  const waiters: Array<() => void> = [];
  s.on('message', (msg, rinfo) => {
    queue.push({ packet: decodePacket(msg), port: rinfo.port });
    waiters.shift()?.();
  });
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  return {
    port: s.address().port,
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => waiters.push(r));
      return queue.shift()!;
    },
    send: (b, port) => s.send(b, port, HOST),
  };
}

/** Serve `file` in one short block after answering the request with `oack`. */
async function serveWithOack(oack: TftpOptions, request: Parameters<typeof tftpGet>[2]) {
  const listen = await udp();
  // Settled at once, so that a refusal is never an unhandled rejection while the script runs.
  const got = tftpGet({ host: HOST, port: listen.port }, 'f.bin', {
    retransmitTimeoutMs: 2000,
    retries: 1,
    ...request,
  }).then(
    (b) => ({ data: b.toString() }),
    (error: unknown) => ({ error }),
  );
  const rrq = await listen.next();
  expect(rrq.packet.opcode).toBe(Opcode.RRQ);
  const xfer = await udp();
  xfer.send(encodeOack(oack), rrq.port);
  const answer = (await xfer.next()).packet;
  if (answer.opcode === Opcode.ACK) xfer.send(encodeData(1, Buffer.from('config\n')), rrq.port);
  return { answer, got };
}

describe('OACK leniency (RFC 2347: harmless differences are accepted)', () => {
  it('an unrequested blksize 512 (the RFC 1350 default, as tftpy sends it) is accepted', async () => {
    const { answer, got } = await serveWithOack({ tsize: '7', blksize: '512' }, {});
    expect(answer).toEqual({ opcode: Opcode.ACK, block: 0 });
    expect(await got).toEqual({ data: 'config\n' });
  });

  it('an unrequested windowsize 1 is accepted', async () => {
    const { answer, got } = await serveWithOack({ windowsize: '1' }, {});
    expect(answer).toEqual({ opcode: Opcode.ACK, block: 0 });
    expect(await got).toEqual({ data: 'config\n' });
  });

  it('timeout "2.0" (py3tftp) echoes a requested timeout 2; "512.00" is blksize 512', async () => {
    const a = await serveWithOack({ timeout: '2.0' }, { timeout: 2 });
    expect(a.answer).toEqual({ opcode: Opcode.ACK, block: 0 });
    expect(await a.got).toEqual({ data: 'config\n' });
    const b = await serveWithOack({ blksize: '512.00' }, { blksize: 1024 });
    expect(b.answer).toEqual({ opcode: Opcode.ACK, block: 0 });
    expect(await b.got).toEqual({ data: 'config\n' });
  });

  it.each([
    ['an unrequested blksize other than 512', { blksize: '1024' }, {}, 'blksize'],
    ['an unrequested windowsize 8', { windowsize: '8' }, {}, 'windowsize'],
    ['a fractional timeout 2.5', { timeout: '2.5' }, { timeout: 2 }, 'timeout'],
    ['a value with a sign', { blksize: '+512' }, { blksize: 1024 }, 'blksize'],
  ] as const)('%s is still refused with ERROR 8', async (_what, oack, request, option) => {
    const { answer, got } = await serveWithOack(oack, request);
    expect(answer).toMatchObject({ opcode: Opcode.ERROR, errorCode: 8 });
    expect(await got).toMatchObject({ error: { code: 'PTFTP_ERR_OPTION_NEGOTIATION', option } });
  });
});

describe('a closed port', () => {
  it('fails at once with ECONNREFUSED (ICMP port unreachable), not after every retry', async () => {
    const port = await freeUdpPort();
    const started = performance.now();
    const err = await tftpGet({ host: HOST, port }, 'f.bin', {
      retransmitTimeoutMs: 3000,
      retries: 5,
      detectClosedPort: true,
    }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe(
      `cannot reach ${HOST}:${port}: ECONNREFUSED (no TFTP server listens there)`,
    );
    // Before: 6 tries 3 s apart, 18 s. The first retransmission would come at 3 s.
    expect(elapsed).toBeLessThan(3000);
  });

  it('a server answering from its own transfer port is still heard (the probe only carries requests)', async () => {
    const { answer, got } = await serveWithOack(
      { blksize: '1468' },
      { blksize: 1468, detectClosedPort: true },
    );
    expect(answer).toEqual({ opcode: Opcode.ACK, block: 0 });
    expect(await got).toEqual({ data: 'config\n' });
  });
});

describe('messages', () => {
  it('one try is "1 try", not "1 tries"', async () => {
    const listen = await udp();
    const err = await tftpGet({ host: HOST, port: listen.port }, 'f.bin', {
      retransmitTimeoutMs: 50,
      retries: 0,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `no answer from ${HOST}:${listen.port} to a read request for "f.bin" (1 try)`,
    );
  });

  it('an option out of range says so, with the range', async () => {
    const err = await tftpGet({ host: HOST, port: 9 }, 'f.bin', { blksize: 4 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PTFTP_ERR_INVALID_ARGUMENT', field: 'blksize' });
    expect((err as Error).message).toBe('blksize: 4 is out of range: allowed 8..65464');
  });
});
