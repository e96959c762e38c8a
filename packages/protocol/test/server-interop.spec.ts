/**
 * Our server against real clients on loopback: curl, tftp-hpa and atftp (Debian). The peers
 * are required: a missing binary fails the test (CI installs them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacking, requirePeer, runCommand } from '../../../test-support/peers.js';
import type { TransferInfo } from '../src/events.js';
import { createFsHandler } from '../src/fs-handler.js';
import { createFsWriteHandler } from '../src/fs-write-handler.js';
import { Opcode } from '../src/packet.js';
import type { TftpServerOptions } from '../src/server.js';
import { createLossyLink, createTraversalFixture, rawReadRequest } from '../src/testing/index.js';
import { openPeer, startServer } from './support/server-fixture.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let dir: string;
let root: string;
let out: string;
const medium = randomBytes(3 * 1024 * 1024 + 123);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ptftp-interop-'));
  root = path.join(dir, 'root');
  out = path.join(dir, 'out');
  mkdirSync(root);
  mkdirSync(out);
  writeFileSync(path.join(root, 'medium.bin'), medium);
  writeFileSync(path.join(root, 'lines.txt'), 'line one\nline two\r\nend\n');
  writeFileSync(path.join(dir, 'secret.txt'), 'TOP SECRET');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const serveRoot = (extra: Partial<TftpServerOptions> = {}, addresses?: string[]) =>
  startServer({ handler: createFsHandler(root), ...extra }, addresses);

describe.skipIf(lacking('curl'))('curl (libcurl TFTP) fetches from our server', () => {
  for (const blksize of [512, 1468, 8192]) {
    it(`RFC 2348 blksize ${blksize}: same SHA-256`, async () => {
      const curl = requirePeer('curl');
      const { server, port } = await serveRoot();
      const granted = new Promise<TransferInfo>((resolve) => server.once('transferStart', resolve));
      const file = path.join(out, `curl-${blksize}.bin`);
      const r = await runCommand(curl, [
        '-sS',
        '--tftp-blksize',
        String(blksize),
        '-o',
        file,
        `tftp://127.0.0.1:${port}/medium.bin`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha(readFileSync(file))).toBe(sha(medium));
      // curl asks for blksize only when it differs from 512.
      expect((await granted).blksize).toBe(blksize);
    });
  }

  it('a 40 MiB file at blksize 512 crosses the 65535-block rollover intact', async () => {
    const curl = requirePeer('curl');
    const big = randomBytes(40 * 1024 * 1024);
    writeFileSync(path.join(root, 'big.bin'), big);
    const { server, port } = await serveRoot();
    const done = new Promise<{ blocks: number }>((resolve) => server.once('transferComplete', resolve));
    const file = path.join(out, 'big.bin');
    const r = await runCommand(curl, ['-sS', '-o', file, `tftp://127.0.0.1:${port}/big.bin`], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    expect(sha(readFileSync(file))).toBe(sha(big));
    expect((await done).blocks).toBe(81921);
    rmSync(path.join(root, 'big.bin'));
    rmSync(file);
  });

  it('IPv6 on ::1', async () => {
    const curl = requirePeer('curl');
    const { port } = await serveRoot({}, ['[::1]:0']);
    const file = path.join(out, 'curl6.bin');
    const r = await runCommand(curl, ['-sS', '-g', '-o', file, `tftp://[::1]:${port}/medium.bin`]);
    expect(r.code).toBe(0);
    expect(sha(readFileSync(file))).toBe(sha(medium));
  });

  it('traversal through curl (--path-as-is) gets ERROR 2 (curl exit 69) and nothing outside the root', async () => {
    const curl = requirePeer('curl');
    const { port } = await serveRoot();
    for (const name of ['../secret.txt', '..%2fsecret.txt', '%2e%2e/secret.txt']) {
      const file = path.join(out, 'traversal.out');
      const r = await runCommand(curl, [
        '-s',
        '--path-as-is',
        '-o',
        file,
        `tftp://127.0.0.1:${port}/${name}`,
      ]);
      expect(r.code, name).toBe(69);
      expect(existsSync(file) ? readFileSync(file, 'utf8') : '').not.toContain('TOP SECRET');
    }
    const missing = await runCommand(curl, [
      '-s',
      '-o',
      path.join(out, 'x'),
      `tftp://127.0.0.1:${port}/missing.bin`,
    ]);
    expect(missing.code).toBe(68); // ERROR 1: file not found
  });
});

describe.skipIf(lacking('tftp'))('tftp-hpa client', () => {
  it('get in binary mode (IPv4)', async () => {
    const tftp = requirePeer('tftp');
    const { port } = await serveRoot();
    const file = path.join(out, 'hpa.bin');
    const r = await runCommand(tftp, [
      '127.0.0.1',
      String(port),
      '-m',
      'binary',
      '-c',
      'get',
      'medium.bin',
      file,
    ]);
    expect(r.stdout + r.stderr).toBe('');
    expect(sha(readFileSync(file))).toBe(sha(medium));
  });

  it('get over IPv6 (::1)', async () => {
    const tftp = requirePeer('tftp');
    const { port } = await serveRoot({}, ['[::1]:0']);
    const file = path.join(out, 'hpa6.bin');
    const r = await runCommand(tftp, [
      '-6',
      '::1',
      String(port),
      '-m',
      'binary',
      '-c',
      'get',
      'medium.bin',
      file,
    ]);
    expect(r.stdout + r.stderr).toBe('');
    expect(sha(readFileSync(file))).toBe(sha(medium));
  });

  it('netascii (ascii mode): the client restores the local line ends', async () => {
    const tftp = requirePeer('tftp');
    const { port } = await serveRoot();
    const file = path.join(out, 'lines.txt');
    await runCommand(tftp, ['127.0.0.1', String(port), '-m', 'ascii', '-c', 'get', 'lines.txt', file]);
    expect(readFileSync(file, 'latin1')).toBe('line one\nline two\r\nend\n');
  });

  it('an unknown name is answered with ERROR 1', async () => {
    const tftp = requirePeer('tftp');
    const { port } = await serveRoot();
    const r = await runCommand(tftp, [
      '127.0.0.1',
      String(port),
      '-m',
      'binary',
      '-c',
      'get',
      'nope.bin',
      path.join(out, 'nope'),
    ]);
    expect(r.stdout + r.stderr).toMatch(/Error code 1/);
  });

  it('put (WRQ) into a temporary root when a write handler is enabled', async () => {
    const tftp = requirePeer('tftp');
    const uploads = path.join(dir, 'uploads');
    mkdirSync(uploads, { recursive: true });
    const { port } = await serveRoot({ writeHandler: createFsWriteHandler(uploads) });
    const src = path.join(out, 'upload-src.bin');
    const body = randomBytes(200_000);
    writeFileSync(src, body);
    const r = await runCommand(tftp, ['127.0.0.1', String(port), '-m', 'binary', '-c', 'put', src, 'fw.bin']);
    expect(r.stdout + r.stderr).toBe('');
    expect(sha(readFileSync(path.join(uploads, 'fw.bin')))).toBe(sha(body));
  });

  it('put is refused with ERROR 2 when no write handler is given', async () => {
    const tftp = requirePeer('tftp');
    const { port } = await serveRoot();
    const src = path.join(out, 'upload-src2.bin');
    writeFileSync(src, 'x');
    const r = await runCommand(tftp, ['127.0.0.1', String(port), '-m', 'binary', '-c', 'put', src, 'fw.bin']);
    expect(r.stdout + r.stderr).toMatch(/Error code 2/);
  });
});

describe.skipIf(lacking('atftp'))('atftp client with RFC 7440 windowsize', () => {
  for (const windowsize of [8, 16]) {
    it(`windowsize ${windowsize}, blksize 1468: same SHA-256, and the wire shows one ACK per window`, async () => {
      const atftp = requirePeer('atftp');
      const { server, port } = await serveRoot();
      const granted = new Promise<TransferInfo>((resolve) => server.once('transferStart', resolve));
      // A fault-free relay, only to count the ACKs atftp sends.
      const link = await createLossyLink({ target: { address: '127.0.0.1', port }, seed: 1 });
      try {
        const file = path.join(out, `atftp-${windowsize}.bin`);
        const r = await runCommand(atftp, [
          '--option',
          `windowsize ${windowsize}`,
          '--option',
          'blksize 1468',
          '-g',
          '-r',
          'medium.bin',
          '-l',
          file,
          link.address,
          String(link.port),
        ]);
        expect(r.code).toBe(0);
        expect(sha(readFileSync(file))).toBe(sha(medium));
        const info = await granted;
        expect(info.options).toMatchObject({ windowsize: String(windowsize), blksize: '1468' });
        const blocks = Math.floor(medium.length / 1468) + 1;
        // ACK 0 for the OACK plus one per window; lockstep would need one per block.
        expect(link.stats.ackPacketsToServer).toBeLessThanOrEqual(Math.ceil(blocks / windowsize) + 1 + 5);
        expect(link.stats.ackPacketsToServer).toBeGreaterThanOrEqual(Math.ceil(blocks / windowsize));
      } finally {
        await link.close();
      }
    });
  }
});

describe('path traversal corpus over the wire (raw client)', () => {
  it('every hostile name gets ERROR 1 or 2, never DATA; the allowed file is still served', async () => {
    const fixture = createTraversalFixture();
    try {
      const { port } = await startServer({ handler: createFsHandler(fixture.root) });
      const peer = await openPeer();
      expect(fixture.names.length).toBeGreaterThan(20);
      for (const t of fixture.names) {
        peer.send(rawReadRequest(t.bytes), port);
        const r = await peer.next();
        expect(r.packet.opcode, t.label).toBe(Opcode.ERROR);
        if (r.packet.opcode === Opcode.ERROR) expect([1, 2], t.label).toContain(r.packet.errorCode);
        expect(r.raw.includes(fixture.secretContent), t.label).toBe(false);
      }
      peer.rrq(port, fixture.allowedName);
      const ok = await peer.next();
      expect(ok.raw.subarray(4)).toEqual(fixture.allowedContent);
    } finally {
      fixture.cleanup();
    }
  });
});
