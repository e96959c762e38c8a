/**
 * Our client against real, independent servers from Debian (tftpd-hpa 5.2, atftpd 0.8) on
 * loopback: the proof of interoperability. A machine without them skips these tests with one
 * line naming what is missing (CI installs them all).
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freeUdpPort,
  lacking,
  xorshiftBytes as pattern,
  type RunningPeer,
  startAtftpd,
  startTftpdHpa,
} from '../../../test-support/peers.js';
import {
  AbortedError,
  decodePacket,
  encodeAck,
  encodeNetascii,
  encodeRequest,
  FileNotFoundError,
  NetasciiDecoder,
  Opcode,
  type TftpNegotiated,
  TimeoutError,
  tftpGet,
  tftpGetStream,
  tftpPut,
} from '../src/index.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let root: string;
let writeRoot: string;
let hpa: RunningPeer;
let hpa6: RunningPeer;
let hpaWrite: RunningPeer;
let atftpd: RunningPeer;
const files = {
  small: pattern(4096 + 17, 7),
  exact: pattern(512 * 8, 9), // a multiple of 512: ends with an empty DATA
  medium: pattern(3 * 1024 * 1024 + 5, 11),
};
// A text file with LF line ends, bare CRs and a CR LF pair, which netascii must all preserve.
const text = Buffer.from('line one\nline two\r\nbare\rcr\n\nend', 'latin1');

const skip = lacking('inTftpd', 'atftpd');

beforeAll(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'ptftp-client-'));
  writeRoot = await mkdtemp(join(tmpdir(), 'ptftp-client-put-'));
  for (const [name, data] of Object.entries(files))
    await writeFile(join(root, `${name}.bin`), data, { mode: 0o644 });
  await writeFile(join(root, 'text.txt'), text, { mode: 0o644 });
  // 40 MiB at 512-byte blocks is 81921 blocks: the block number wraps past 65535.
  await writeFile(join(root, 'big.bin'), pattern(40 * 1024 * 1024, 3), { mode: 0o644 });
  // The daemons drop privileges (tftpd-hpa to "tftp", atftpd to "nobody"): the roots must be
  // readable, and the upload root writable, by anyone.
  await chmod(root, 0o755);
  await chmod(writeRoot, 0o777);
  hpa = await startTftpdHpa({ root });
  hpa6 = await startTftpdHpa({ root, host: '::1' });
  hpaWrite = await startTftpdHpa({ root: writeRoot, args: ['-c'] });
  atftpd = await startAtftpd({ root });
});

afterAll(async () => {
  await Promise.all([hpa?.stop(), hpa6?.stop(), hpaWrite?.stop(), atftpd?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
  if (writeRoot) await rm(writeRoot, { recursive: true, force: true });
});

describe.skipIf(skip)('tftpGet against tftpd-hpa (RFC 1350, 2347, 2348, 2349)', () => {
  for (const blksize of [512, 1468, 8192]) {
    it(`RFC 2348: octet download at blksize ${blksize} is byte-identical and the server grants the size`, async () => {
      let granted: TftpNegotiated | undefined;
      const got = await tftpGet({ host: hpa.host, port: hpa.port }, 'medium.bin', {
        blksize,
        onNegotiated: (i) => {
          granted = i;
        },
      });
      expect(sha256(got)).toBe(sha256(files.medium));
      expect(granted?.blksize).toBe(blksize);
      expect(granted?.oack.blksize).toBe(String(blksize));
    });
  }

  it('RFC 2349: tsize 0 in the RRQ is answered with the file size, and progress reports it', async () => {
    let granted: TftpNegotiated | undefined;
    let lastProgress: [number, number | undefined] = [0, undefined];
    const got = await tftpGet({ host: hpa.host, port: hpa.port }, 'small.bin', {
      onNegotiated: (i) => {
        granted = i;
      },
      onProgress: (bytes, total) => {
        lastProgress = [bytes, total];
      },
    });
    expect(got.equals(files.small)).toBe(true);
    expect(granted?.tsize).toBe(files.small.length);
    expect(lastProgress).toEqual([files.small.length, files.small.length]);
  });

  it('RFC 1350: a file of an exact multiple of the block size ends with an empty DATA', async () => {
    const got = await tftpGet({ host: hpa.host, port: hpa.port }, 'exact.bin', { tsize: false });
    expect(got.equals(files.exact)).toBe(true);
  });

  it('RFC 1350 netascii: LF, bare CR and CR LF come back as on disk', async () => {
    const got = await tftpGet({ host: hpa.host, port: hpa.port }, 'text.txt', { mode: 'netascii' });
    // tftpd-hpa converts the file to netascii on the wire; decoding must restore the bytes.
    expect(got.toString('latin1')).toBe(text.toString('latin1'));
  });

  it('RFC 1350 netascii on the wire: tftpd-hpa sends exactly the hand-converted bytes, and our codec agrees', async () => {
    // Converted by hand: every LF becomes CR LF, every CR becomes CR NUL (RFC 764).
    const handConverted = Buffer.from('line one\r\nline two\r\0\r\nbare\r\0cr\r\n\r\nend', 'latin1');
    const sock = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
      const first = new Promise<[Buffer, number]>((resolve) =>
        sock.once('message', (m, r) => resolve([m, r.port])),
      );
      sock.send(encodeRequest(Opcode.RRQ, 'text.txt', 'netascii'), hpa.port, hpa.host);
      const [msg, tid] = await first;
      const p = decodePacket(msg);
      expect(p).toMatchObject({ opcode: Opcode.DATA, block: 1 });
      sock.send(encodeAck(1), tid, hpa.host); // the file fits one block: this ends the transfer
      const wire = Buffer.from((p as { data: Uint8Array }).data);
      expect(wire.toString('hex')).toBe(handConverted.toString('hex'));
      expect(encodeNetascii(text).toString('hex')).toBe(handConverted.toString('hex'));
      const d = new NetasciiDecoder();
      expect(Buffer.concat([d.write(wire), d.end()]).equals(text)).toBe(true);
    } finally {
      sock.close();
    }
  });

  it('RFC 1350 block numbers wrap: 40 MiB at blksize 512 (81921 blocks) arrives with equal SHA-256', async () => {
    const expected = sha256(await readFile(join(root, 'big.bin')));
    const got = await tftpGet({ host: hpa.host, port: hpa.port }, 'big.bin', { blksize: 512 });
    expect(got.length).toBe(40 * 1024 * 1024);
    expect(sha256(got)).toBe(expected);
  }, 120_000);

  it('IPv6: download from tftpd-hpa on ::1', async () => {
    const got = await tftpGet({ host: '::1', port: hpa6.port }, 'medium.bin', { blksize: 1428 });
    expect(sha256(got)).toBe(sha256(files.medium));
  });

  it('IPv6: an expanded or bracketed literal reaches the same server (answers are matched by address)', async () => {
    const a = await tftpGet({ host: '0:0:0:0:0:0:0:1', port: hpa6.port }, 'small.bin', { retries: 1 });
    const b = await tftpGet({ host: '[::1]', port: hpa6.port }, 'small.bin', { retries: 1 });
    expect(a.equals(files.small)).toBe(true);
    expect(b.equals(files.small)).toBe(true);
  });

  it('RFC 1350 ERROR 1: a missing file rejects with FileNotFoundError, code PTFTP_ERR_NOT_FOUND', async () => {
    const err = await tftpGet({ host: hpa.host, port: hpa.port }, 'no-such-file.bin').catch((e) => e);
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect(err.code).toBe('PTFTP_ERR_NOT_FOUND');
    expect(err.tftpCode).toBe(1);
  });

  it('a port where nothing listens rejects with TimeoutError (PTFTP_ERR_TIMEOUT), not NOT_FOUND', async () => {
    const port = await freeUdpPort('127.0.0.1');
    const err = await tftpGet({ host: '127.0.0.1', port }, 'x.bin', {
      retransmitTimeoutMs: 50,
      retries: 2,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('PTFTP_ERR_TIMEOUT');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });

  it('AbortSignal cancels a running download with AbortedError and no data', async () => {
    const ac = new AbortController();
    const p = tftpGet({ host: hpa.host, port: hpa.port }, 'big.bin', {
      signal: ac.signal,
      onProgress: (bytes) => {
        if (bytes >= 1024 * 1024) ac.abort();
      },
    });
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.code).toBe('PTFTP_ERR_ABORTED');
  });

  it('tftpGetStream: resolves with the tsize and streams the same bytes', async () => {
    const { size, stream } = await tftpGetStream({ host: hpa.host, port: hpa.port }, 'medium.bin', {
      blksize: 1468,
    });
    expect(size).toBe(files.medium.length);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(files.medium));
  });

  it('tftpGetStream: a missing file rejects before any stream exists', async () => {
    await expect(tftpGetStream({ host: hpa.host, port: hpa.port }, 'absent')).rejects.toBeInstanceOf(
      FileNotFoundError,
    );
  });
});

describe.skipIf(skip)('tftpGet against atftpd 0.8 (RFC 7440 windowsize)', () => {
  for (const [blksize, windowsize] of [
    [1468, 8],
    [1468, 16],
    [8192, 16],
  ] as const) {
    it(`RFC 7440: windowsize ${windowsize} at blksize ${blksize} is granted and the bytes match`, async () => {
      let granted: TftpNegotiated | undefined;
      const got = await tftpGet({ host: atftpd.host, port: atftpd.port }, 'medium.bin', {
        blksize,
        windowsize,
        onNegotiated: (i) => {
          granted = i;
        },
      });
      expect(sha256(got)).toBe(sha256(files.medium));
      expect(granted?.oack.windowsize).toBe(String(windowsize));
      expect(granted?.windowsize).toBe(windowsize);
      expect(granted?.tsize).toBe(files.medium.length);
    });
  }

  it('RFC 1350: lockstep octet download from atftpd', async () => {
    const got = await tftpGet({ host: atftpd.host, port: atftpd.port }, 'small.bin');
    expect(got.equals(files.small)).toBe(true);
  });

  it('RFC 1350 ERROR 1 from atftpd maps to FileNotFoundError', async () => {
    await expect(tftpGet({ host: atftpd.host, port: atftpd.port }, 'nope.bin')).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
  });
});

describe.skipIf(skip)('tftpPut against tftpd-hpa -c (RFC 1350 WRQ)', () => {
  it('RFC 2348: uploads a Buffer at blksize 1468 and the server stores the same bytes', async () => {
    const data = pattern(200_000, 21);
    const r = await tftpPut({ host: hpaWrite.host, port: hpaWrite.port }, 'up-buffer.bin', data, {
      blksize: 1468,
    });
    expect(r.bytes).toBe(data.length);
    expect(sha256(await readFile(join(writeRoot, 'up-buffer.bin')))).toBe(sha256(data));
  });

  it('RFC 1350: uploads a stream at 512-byte blocks, with tsize announced from size', async () => {
    const data = pattern(512 * 20, 22); // exact multiple: needs the empty final DATA
    const stream = Readable.from([data.subarray(0, 1000), data.subarray(1000, 7000), data.subarray(7000)]);
    let granted: TftpNegotiated | undefined;
    const r = await tftpPut({ host: hpaWrite.host, port: hpaWrite.port }, 'up-stream.bin', stream, {
      size: data.length,
      onNegotiated: (i) => {
        granted = i;
      },
    });
    expect(r.bytes).toBe(data.length);
    expect(granted?.oack.tsize).toBe(String(data.length));
    expect(sha256(await readFile(join(writeRoot, 'up-stream.bin')))).toBe(sha256(data));
  });

  it('RFC 1350 netascii upload: the stored file has the local line ends back', async () => {
    await tftpPut({ host: hpaWrite.host, port: hpaWrite.port }, 'up-text.txt', text, { mode: 'netascii' });
    expect((await readFile(join(writeRoot, 'up-text.txt'))).toString('latin1')).toBe(text.toString('latin1'));
  });
});
