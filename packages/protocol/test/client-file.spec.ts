/**
 * tftpGetFile: a download written straight into a file in 1 MiB writes. The file holds the
 * server's bytes exactly, whatever the size against the write size; a transfer that does not
 * complete leaves no file; a failing disk stops the transfer and is what the caller gets.
 */
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeData,
  encodeError,
  FileNotFoundError,
  Opcode,
  type ReadRequest,
  TftpRemoteError,
  tftpGetFile,
} from '../src/index.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

const files = (map: Record<string, Uint8Array>) => (req: ReadRequest) => {
  const data = map[req.filename];
  if (!data) throw new FileNotFoundError(req.filename);
  return data;
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ptftp-client-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tftpGetFile writes the download in 1 MiB sequential writes', () => {
  const cases: [string, number][] = [
    ['3 MiB + 5 bytes (three full writes and a short one)', 3 * MiB + 5],
    ['exactly 2 MiB (writes end on the buffer edge)', 2 * MiB],
    ['one block', 700],
    ['empty', 0],
  ];
  for (const [what, size] of cases) {
    it(`RFC 7440 window 16, blksize 1468: ${what} lands byte for byte`, async () => {
      const data = pattern(size);
      const { port } = await startServer({ handler: files({ 'f.bin': data }) });
      const path = join(dir, 'out.bin');
      const r = await tftpGetFile({ host: '127.0.0.1', port }, 'f.bin', path, {
        blksize: 1468,
        windowsize: 16,
      });
      const written = await readFile(path);
      expect(written.length).toBe(size);
      expect(sha256(written)).toBe(sha256(data));
      expect(r.bytes).toBe(size);
      expect([r.negotiated.blksize, r.negotiated.windowsize, r.negotiated.tsize]).toEqual([1468, 16, size]);
    });
  }

  it("flags 'w' replaces an existing file with the download, never keeping its longer tail", async () => {
    const data = pattern(5000);
    const { port } = await startServer({ handler: files({ 'f.bin': data }) });
    const path = join(dir, 'out.bin');
    await writeFile(path, Buffer.alloc(20_000, 0xee));
    await tftpGetFile({ host: '127.0.0.1', port }, 'f.bin', path);
    expect(sha256(await readFile(path))).toBe(sha256(data));
  });

  it("flags 'wx' refuses an existing file (EEXIST) and leaves it as it was", async () => {
    const { port } = await startServer({ handler: files({ 'f.bin': pattern(100) }) });
    const path = join(dir, 'out.bin');
    await writeFile(path, 'keep me');
    await expect(
      tftpGetFile({ host: '127.0.0.1', port }, 'f.bin', path, { flags: 'wx' }),
    ).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(path, 'utf8')).toBe('keep me');
  });

  it('netascii: CR LF on the wire is written as the local LF', async () => {
    const { port } = await startServer({ handler: files({ 't.txt': Buffer.from('one\ntwo\n', 'latin1') }) });
    const path = join(dir, 't.txt');
    const r = await tftpGetFile({ host: '127.0.0.1', port }, 't.txt', path, { mode: 'netascii' });
    expect(await readFile(path, 'latin1')).toBe('one\ntwo\n');
    expect(r.bytes).toBe(8);
  });
});

describe('tftpGetFile: a host name', () => {
  it('is resolved (node:dns, loaded for names only) and the file lands byte for byte', async () => {
    // Whatever "localhost" is on this machine, the server listens there.
    const { address, family } = await lookup('localhost');
    const data = pattern(70_000);
    const { port } = await startServer({ handler: files({ 'f.bin': data }) }, [
      family === 6 ? `[${address}]:0` : `${address}:0`,
    ]);
    const path = join(dir, 'named.bin');
    const r = await tftpGetFile({ host: 'localhost', port }, 'f.bin', path);
    expect(r.bytes).toBe(data.length);
    expect(sha256(await readFile(path))).toBe(sha256(data));
  });

  it('a name that does not resolve: InvalidArgumentError naming the host, and no file', async () => {
    const path = join(dir, 'nowhere.bin');
    await expect(
      tftpGetFile({ host: 'no-such-host.invalid', port: 69 }, 'f.bin', path),
    ).rejects.toMatchObject({ code: 'PTFTP_ERR_INVALID_ARGUMENT', field: 'host' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('tftpGetFile never leaves part of a download', () => {
  it('ERROR 1 (file not found): FileNotFoundError, and the file it created is gone', async () => {
    const { port } = await startServer({ handler: files({}) });
    const path = join(dir, 'missing.bin');
    await expect(tftpGetFile({ host: '127.0.0.1', port }, 'missing.bin', path)).rejects.toBeInstanceOf(
      FileNotFoundError,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('a transfer cut after its first block (ERROR 0): the error, and no file', async () => {
    const server = await openPeer();
    const path = join(dir, 'cut.bin');
    const got = tftpGetFile({ host: '127.0.0.1', port: server.port }, 'f.bin', path);
    const rrq = await server.next();
    expect(rrq.packet.opcode).toBe(Opcode.RRQ);
    // No OACK: the RFC 1350 way, 512-byte blocks. One full block, then the server gives up.
    server.send(encodeData(1, pattern(512)), rrq.port);
    const ack = await server.next();
    expect(ack.packet).toMatchObject({ opcode: Opcode.ACK, block: 1 });
    expect(existsSync(path)).toBe(true);
    server.send(encodeError(0, 'gone'), rrq.port);
    await expect(got).rejects.toBeInstanceOf(TftpRemoteError);
    expect(await readdir(dir)).toEqual([]);
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a disk that fails (ENOSPC, /dev/full) stops the transfer with that error and removes no device',
    async () => {
      const data = pattern(8 * MiB);
      const { server, port } = await startServer({ handler: files({ 'f.bin': data }) });
      // The server's side of the transfer ends with the client's ERROR, not with the last block.
      const ended = new Promise<string>((resolve) => {
        server.on('transferError', (e) => resolve(`error: ${e.message}`));
        server.on('transferComplete', () => resolve('complete'));
      });
      let received = 0;
      const err = await tftpGetFile({ host: '127.0.0.1', port }, 'f.bin', '/dev/full', {
        blksize: 1468,
        windowsize: 16,
        onProgress: (bytes) => {
          received = bytes;
        },
      }).catch((e: NodeJS.ErrnoException) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      // The first 1 MiB write failed: the download stopped there, not at the end of the file.
      expect(received).toBeGreaterThanOrEqual(MiB);
      expect(received).toBeLessThan(data.length);
      expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
      expect(await ended).toMatch(/^error: /);
    },
  );
});
