import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bufferContent, type Content } from '../src/content.js';
import { createFsHandler } from '../src/fs-handler.js';
import { encodeError, Opcode } from '../src/packet.js';
import { rawRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

/** A content handle that counts its releases; `gate` holds reads from offset `gateAt` on. */
function counted(data: Buffer, opts: { size?: number | 'unknown'; failAt?: number } = {}) {
  const inner = bufferContent(data, { version: 'v1' });
  let sized!: (n: number) => void;
  const whenSized = new Promise<number>((r) => {
    sized = r;
  });
  const state = { released: 0, sized: (n: number) => sized(n) };
  const content: Content = {
    size: opts.size === 'unknown' ? undefined : data.length,
    version: 'v1',
    peek: () => undefined,
    read: async (offset, length, signal) => {
      signal?.throwIfAborted();
      if (opts.failAt !== undefined && offset + length > opts.failAt) throw new Error('upstream broke');
      return inner.read(offset, length);
    },
    whenSized: (signal) =>
      opts.size === 'unknown'
        ? new Promise<number>((resolve, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
            whenSized.then(resolve);
          })
        : Promise.resolve(data.length),
    retain() {
      return this;
    },
    release: () => {
      state.released++;
    },
  };
  return { content, state };
}

describe('a read handler may return { content }: blocks read by offset, the handle released exactly once', () => {
  it('complete: the bytes are exact, tsize is content.size, and release() is called once', async () => {
    const data = pattern(100_000);
    const { content, state } = counted(data);
    const { port } = await startServer({ handler: () => ({ content }) });
    const got = await rawRead(await openPeer(), port, 'f', { options: { tsize: '0', blksize: '1468' } });
    expect(got.oack).toEqual({ tsize: '100000', blksize: '1468' });
    expect(createHash('sha256').update(got.data).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    await vi.waitFor(() => expect(state.released).toBe(1));
  });

  it('the peer sends ERROR mid-transfer: released once', async () => {
    const { content, state } = counted(pattern(50_000));
    const { port } = await startServer({ handler: () => ({ content }) });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    const first = await peer.next();
    expect(first.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    peer.send(encodeError(0, 'cancelled'), first.port);
    await vi.waitFor(() => expect(state.released).toBe(1));
  });

  it('the server closes during the transfer (abort): released once', async () => {
    const { content, state } = counted(pattern(50_000));
    const { server, port } = await startServer({ handler: () => ({ content }) });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    expect((await peer.next()).packet.opcode).toBe(Opcode.DATA);
    await server.close();
    expect(state.released).toBe(1);
  });

  it('the peer never answers (timeout): released once', async () => {
    const { content, state } = counted(pattern(50_000));
    const { port } = await startServer({
      handler: () => ({ content }),
      retransmitTimeoutMs: 50,
      retries: 1,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    expect((await peer.next()).packet.opcode).toBe(Opcode.DATA);
    await vi.waitFor(() => expect(state.released).toBe(1), { timeout: 3000 });
  });

  it('the handler resolves after the transfer was abandoned (server closed meanwhile): released once', async () => {
    const { content, state } = counted(pattern(5000));
    let resolveHandler!: () => void;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const { server, port } = await startServer({
      handler: async () => {
        entered();
        await new Promise<void>((r) => {
          resolveHandler = r;
        });
        return { content };
      },
    });
    (await openPeer()).rrq(port, 'f');
    await inHandler;
    const closed = server.close();
    resolveHandler();
    await closed;
    await vi.waitFor(() => expect(state.released).toBe(1));
  });

  it('tsize waits for content still arriving to state its size, then the OACK carries it', async () => {
    const data = pattern(3000);
    const { content, state } = counted(data, { size: 'unknown' });
    const { port } = await startServer({ handler: () => ({ content }) });
    const peer = await openPeer();
    peer.rrq(port, 'f', { tsize: '0' });
    expect(await peer.collect(150)).toEqual([]);
    state.sized(3000);
    const oack = await peer.next();
    expect(oack.packet).toMatchObject({ opcode: Opcode.OACK, options: { tsize: '3000' } });
    peer.ack(0, oack.port);
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
  });

  it('a content that fails mid-way fails the transfer with ERROR 0, never a short "complete" block', async () => {
    const { content, state } = counted(pattern(400 * 512 + 7), { failAt: 200 * 512 });
    const { port } = await startServer({ handler: () => ({ content }) });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    const seen: number[] = [];
    for (;;) {
      const r = await peer.next();
      if (r.packet.opcode === Opcode.ERROR) {
        expect(r.packet.errorCode).toBe(0);
        break;
      }
      expect(r.packet.opcode).toBe(Opcode.DATA);
      if (r.packet.opcode !== Opcode.DATA) break;
      expect(r.packet.data.length).toBe(512);
      seen.push(r.packet.block);
      peer.ack(r.packet.block, r.port);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThan(200);
    await vi.waitFor(() => expect(state.released).toBe(1));
  });

  it('a lost DATA is resent from the held read-ahead with the same bytes (read by offset, not re-streamed)', async () => {
    const data = pattern(20 * 512 + 9);
    const { content, state } = counted(data);
    const { port } = await startServer({ handler: () => ({ content }), retransmitTimeoutMs: 100 });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    const got: Buffer[] = [];
    let dropped = false;
    for (let i = 0; i < 100; i++) {
      const r = await peer.next();
      if (r.packet.opcode !== Opcode.DATA) throw new Error(`expected DATA, got opcode ${r.packet.opcode}`);
      const block = r.packet.block;
      if (block === 3 && !dropped) {
        // As if DATA 3 was lost: no ACK; the server's timer sends it again.
        dropped = true;
        continue;
      }
      if (block === got.length + 1) got.push(Buffer.from(r.packet.data));
      peer.ack(block, r.port);
      if (r.packet.data.length < 512) break;
    }
    expect(dropped).toBe(true);
    expect(got).toHaveLength(21);
    expect(Buffer.concat(got).equals(data)).toBe(true);
    await vi.waitFor(() => expect(state.released).toBe(1));
  });

  it('netascii from a content handle: translated on the wire, and no tsize (the wire size is not known ahead)', async () => {
    const { content, state } = counted(Buffer.from('a\nb\rc\n'.repeat(300)));
    const { port } = await startServer({ handler: () => ({ content }) });
    const got = await rawRead(await openPeer(), port, 'f', {
      mode: 'netascii',
      options: { tsize: '0', blksize: '1024' },
    });
    expect(got.oack).toEqual({ blksize: '1024' });
    expect(got.data.equals(Buffer.from('a\r\nb\r\x00c\r\n'.repeat(300)))).toBe(true);
    await vi.waitFor(() => expect(state.released).toBe(1));
  });
});

describe('createFsHandler on the wire: folders, and sparse files past 2 GiB and 4 GiB', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ptftp-content-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A sparse file of `size` bytes whose last `tail.length` bytes are `tail`. */
  function sparse(name: string, size: number, tail: Buffer): void {
    const fd = openSync(path.join(dir, name), 'w');
    try {
      writeSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      closeSync(fd);
    }
  }

  it('a folder is answered ERROR 0 "Is a directory" as tftpd-hpa does, not ERROR 1', async () => {
    mkdirSync(path.join(dir, 'sub'));
    const { port } = await startServer({ handler: createFsHandler(dir) });
    const peer = await openPeer();
    peer.rrq(port, 'sub');
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0, message: 'Is a directory' });
  });

  it('a file over 4 GiB: the OACK states its exact tsize (it used to be "not found" past 2 GiB)', async () => {
    const size = 4 * 2 ** 30 + 12_345;
    sparse('huge.bin', size, Buffer.from('THE-END'));
    const { port } = await startServer({ handler: createFsHandler(dir), maxBlksize: 65464 });
    const peer = await openPeer();
    peer.rrq(port, 'huge.bin', { tsize: '0', blksize: '65464' });
    const oack = await peer.next();
    expect(oack.packet).toMatchObject({
      opcode: Opcode.OACK,
      options: { tsize: String(size), blksize: '65464' },
    });
    peer.ack(0, oack.port);
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    if (d1.packet.opcode === Opcode.DATA)
      expect(Buffer.from(d1.packet.data).equals(Buffer.alloc(65464))).toBe(true);
  });
});
