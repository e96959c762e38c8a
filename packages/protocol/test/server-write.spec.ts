import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PtftpError } from '../src/errors.js';
import { createFsWriteHandler } from '../src/fs-write-handler.js';
import type { WriteRequest, WriteSink } from '../src/handler.js';
import { encodeData, encodeRequest, Opcode, type TftpOptions } from '../src/packet.js';
import type { RawPeer } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

function memorySink(): WriteSink & { chunks: Buffer[]; ended: boolean; aborted?: Error } {
  const sink = {
    chunks: [] as Buffer[],
    ended: false,
    aborted: undefined as Error | undefined,
    write(chunk: Uint8Array) {
      sink.chunks.push(Buffer.from(chunk));
    },
    async end() {
      await new Promise((r) => setTimeout(r, 20));
      sink.ended = true;
    },
    abort(err: Error) {
      sink.aborted = err;
    },
  };
  return sink;
}

/** A lockstep upload with a raw peer; returns the ACK blocks received. */
async function rawWrite(
  peer: RawPeer,
  port: number,
  name: string,
  data: Buffer,
  opts: { options?: TftpOptions; mode?: 'octet' | 'netascii'; blksize?: number } = {},
): Promise<number[]> {
  peer.send(encodeRequest(Opcode.WRQ, name, opts.mode ?? 'octet', opts.options ?? {}), port);
  const first = await peer.next();
  if (first.packet.opcode === Opcode.ERROR)
    throw new Error(`ERROR ${first.packet.errorCode} ${first.packet.message}`);
  const blksize = opts.blksize ?? 512;
  const acks: number[] = [];
  const count = Math.floor(data.length / blksize) + 1;
  for (let n = 1; n <= count; n++) {
    peer.send(encodeData(n & 0xffff, data.subarray((n - 1) * blksize, n * blksize)), first.port);
    const r = await peer.next();
    if (r.packet.opcode === Opcode.ERROR) throw new Error(`ERROR ${r.packet.errorCode} ${r.packet.message}`);
    if (r.packet.opcode === Opcode.ACK) acks.push(r.packet.block);
  }
  return acks;
}

describe('WRQ (RFC 1350 write) with a write handler', () => {
  it('ACK 0 without options; every DATA acknowledged; the last ACK only after the sink commits', async () => {
    const sink = memorySink();
    let seen: WriteRequest | undefined;
    const { server, port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: (req) => {
        seen = req;
        return sink;
      },
    });
    let endedBeforeComplete = false;
    server.on('transferComplete', () => {
      endedBeforeComplete = sink.ended;
    });
    const peer = await openPeer();
    const content = pattern(1300);
    const acks = await rawWrite(peer, port, 'up.bin', content);
    expect(acks).toEqual([1, 2, 3]);
    expect(Buffer.concat(sink.chunks)).toEqual(content);
    expect(sink.ended).toBe(true);
    expect(endedBeforeComplete).toBe(true);
    expect(seen).toMatchObject({ filename: 'up.bin', mode: 'octet', size: undefined });
  });

  it('RFC 2349: the OACK echoes tsize and the handler sees the size; blksize is honoured', async () => {
    const sink = memorySink();
    let size: number | undefined;
    const { port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: (req) => {
        size = req.size;
        return sink;
      },
    });
    const peer = await openPeer();
    const content = pattern(100);
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet', { tsize: '100', blksize: '64' }), port);
    const oack = await peer.next();
    expect(oack.packet).toEqual({ opcode: Opcode.OACK, options: { tsize: '100', blksize: '64' } });
    expect(size).toBe(100);
    peer.send(encodeData(1, content.subarray(0, 64)), oack.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 1 });
    peer.send(encodeData(2, content.subarray(64)), oack.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 2 });
    expect(Buffer.concat(sink.chunks)).toEqual(content);
  });

  it('a lost ACK: the repeated DATA is acknowledged again and written once', async () => {
    const sink = memorySink();
    const { port } = await startServer({ handler: () => Buffer.alloc(0), writeHandler: () => sink });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet'), port);
    const ack0 = await peer.next();
    const block1 = pattern(512);
    peer.send(encodeData(1, block1), ack0.port);
    await peer.next();
    peer.send(encodeData(1, block1), ack0.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 1 });
    peer.send(encodeData(2, Buffer.from('end')), ack0.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 2 });
    expect(Buffer.concat(sink.chunks)).toEqual(Buffer.concat([block1, Buffer.from('end')]));
  });

  it('netascii uploads are decoded: CR LF -> LF, CR NUL -> CR, also across a block boundary', async () => {
    const sink = memorySink();
    const { port } = await startServer({ handler: () => Buffer.alloc(0), writeHandler: () => sink });
    const peer = await openPeer();
    // blksize 8: the CR of the first CR LF ends block 1, its LF starts block 2.
    const wire = Buffer.from('abcdefg\r\nxy\r\0z', 'latin1');
    await rawWrite(peer, port, 'up.txt', wire, { mode: 'netascii', options: { blksize: '8' }, blksize: 8 });
    expect(Buffer.concat(sink.chunks).toString('latin1')).toBe('abcdefg\nxy\rz');
  });

  it('a sink that fails makes ERROR 0 with a generic message, and abort() is called', async () => {
    const sink = memorySink();
    sink.write = () => {
      throw new Error('EIO /secret/path');
    };
    const { server, port } = await startServer({ handler: () => Buffer.alloc(0), writeHandler: () => sink });
    const failed = new Promise<PtftpError>((resolve) => server.once('transferError', (e) => resolve(e)));
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet'), port);
    const ack0 = await peer.next();
    peer.send(encodeData(1, Buffer.from('x')), ack0.port);
    const r = await peer.next();
    expect(r.packet).toEqual({ opcode: Opcode.ERROR, errorCode: 0, message: 'write failed' });
    expect((await failed).code).toBe('PTFTP_ERR_ABORTED');
    expect(sink.aborted).toBeDefined();
  });
});

describe('RFC 7440 windowsize on uploads (the server receives)', () => {
  it('one ACK per window; a gap is acknowledged once with the last in-order block', async () => {
    const sink = memorySink();
    const { port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: () => sink,
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    const block = (n: number) => Buffer.alloc(8, n);
    peer.send(encodeRequest(Opcode.WRQ, 'w.bin', 'octet', { blksize: '8', windowsize: '4' }), port);
    const oack = await peer.next();
    expect(oack.packet).toEqual({ opcode: Opcode.OACK, options: { blksize: '8', windowsize: '4' } });
    for (let n = 1; n <= 4; n++) peer.send(encodeData(n, block(n)), oack.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 4 });
    // Block 7 is "lost": 8 arrives out of order, then 9: one ACK 6, not one per stray block.
    for (const n of [5, 6, 8, 9]) peer.send(encodeData(n, block(n)), oack.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 6 });
    expect(await peer.collect(200)).toEqual([]);
    for (const n of [7, 8, 9]) peer.send(encodeData(n, block(n)), oack.port);
    peer.send(encodeData(10, Buffer.from('end')), oack.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 10 });
    const expected = Buffer.concat([
      ...Array.from({ length: 9 }, (_, i) => block(i + 1)),
      Buffer.from('end'),
    ]);
    expect(Buffer.concat(sink.chunks)).toEqual(expected);
  });
});

describe('createFsWriteHandler: uploads stay inside the root', () => {
  let dir: string;
  let root: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ptftp-write-'));
    root = path.join(dir, 'root');
    mkdirSync(root);
    writeFileSync(path.join(root, 'exists.bin'), 'old');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the upload under its name, atomically (no temp file left)', async () => {
    const { port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: createFsWriteHandler(root),
    });
    const peer = await openPeer();
    const content = pattern(2000);
    await rawWrite(peer, port, 'new.bin', content);
    expect(readFileSync(path.join(root, 'new.bin'))).toEqual(content);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(root).sort()).toEqual(['exists.bin', 'new.bin']);
  });

  it('refuses traversal with ERROR 2 and an existing file with ERROR 6', async () => {
    const { port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: createFsWriteHandler(root),
    });
    const peer = await openPeer();
    for (const name of ['../escape.bin', '/tmp/escape.bin', '..\\escape.bin', 'sub/../../escape.bin']) {
      peer.send(encodeRequest(Opcode.WRQ, name, 'octet'), port);
      const r = await peer.next();
      expect(r.packet, name).toMatchObject({ opcode: Opcode.ERROR, errorCode: 2 });
    }
    peer.send(encodeRequest(Opcode.WRQ, 'exists.bin', 'octet'), port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 6 });
    expect(readFileSync(path.join(root, 'exists.bin'), 'utf8')).toBe('old');
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(dir, 'escape.bin'))).toBe(false);
  });

  it('refuses an upload over maxBytes with ERROR 3 (announced by tsize)', async () => {
    const { port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: createFsWriteHandler(root, { maxBytes: 1000 }),
    });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'big.bin', 'octet', { tsize: '5000' }), port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 3 });
  });
});
