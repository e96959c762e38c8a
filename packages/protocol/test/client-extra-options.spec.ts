import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodeData,
  encodeError,
  encodeOack,
  InvalidArgumentError,
  Opcode,
  type RequestPacket,
  tftpGet,
} from '../src/index.js';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A one-shot scripted server: records the RRQ and answers with `reply(rrq)`. */
async function scriptedServer(reply: (rrq: RequestPacket, send: (b: Buffer) => void) => void) {
  const sock = dgram.createSocket('udp4');
  sockets.push(sock);
  const seen: RequestPacket[] = [];
  sock.on('message', (msg, rinfo) => {
    const p = decodePacket(msg);
    if (p.opcode === Opcode.RRQ) {
      seen.push(p);
      reply(p, (b) => sock.send(b, rinfo.port, rinfo.address));
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, seen };
}

describe('client extraOptions (RFC 2347 private options)', () => {
  it('sends the private option in the RRQ, lower-cased, beside the standard ones', async () => {
    const srv = await scriptedServer((_rrq, send) => send(encodeError(1, 'nope')));
    await expect(
      tftpGet({ host: '127.0.0.1', port: srv.port }, 'SEP001122334455.cnf.xml', {
        blksize: 1428,
        extraOptions: { 'PTFTP-Proxied': '1' },
        retransmitTimeoutMs: 200,
        retries: 1,
      }),
    ).rejects.toMatchObject({ code: 'PTFTP_ERR_NOT_FOUND' });
    expect(srv.seen).toHaveLength(1);
    expect(srv.seen[0]!.options).toEqual({ blksize: '1428', tsize: '0', 'ptftp-proxied': '1' });
  });

  it('accepts an OACK that echoes the private option and completes the transfer', async () => {
    const body = Buffer.from('<device/>');
    const srv = await scriptedServer((_rrq, send) => {
      send(encodeOack({ 'ptftp-proxied': '1', tsize: String(body.length) }));
      // The client ACKs block 0; answer with the only DATA block whatever it says.
      setTimeout(() => send(encodeData(1, body)), 20);
    });
    const got = await tftpGet({ host: '127.0.0.1', port: srv.port }, 'a.xml', {
      extraOptions: { 'ptftp-proxied': '1' },
      retransmitTimeoutMs: 300,
      retries: 2,
    });
    expect(got.equals(body)).toBe(true);
  });

  it('refuses a standard option name as an extra option with a typed error naming the field', async () => {
    await expect(
      tftpGet({ host: '127.0.0.1', port: 9 }, 'a', { extraOptions: { blksize: '9000' } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      tftpGet({ host: '127.0.0.1', port: 9 }, 'a', { extraOptions: { blksize: '9000' } }),
    ).rejects.toThrow(/extraOptions\.blksize/);
  });
});
