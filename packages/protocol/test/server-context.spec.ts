/**
 * A handler's result may carry a `context` that the server gives back on the transfer's
 * events (transferStart, transferComplete, transferError): what the handler knew travels with
 * the transfer, not through a side table keyed by address, port and name.
 */
import { describe, expect, it, vi } from 'vitest';
import { FileNotFoundError, type PtftpError } from '../src/errors.js';
import type { TransferErrorInfo, TransferInfo, TransferStats } from '../src/events.js';
import { encodeData, encodeError, encodeRequest, Opcode } from '../src/packet.js';
import type { TftpServer } from '../src/server.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

interface Ctx {
  readonly tag: string;
}

/** Every transfer event of `server`, in order. */
function record(server: TftpServer) {
  const events: Array<
    | { kind: 'start'; info: TransferInfo }
    | { kind: 'complete'; stats: TransferStats }
    | { kind: 'error'; err: PtftpError; info: TransferErrorInfo }
  > = [];
  server.on('transferStart', (info) => events.push({ kind: 'start', info }));
  server.on('transferComplete', (stats) => events.push({ kind: 'complete', stats }));
  server.on('transferError', (err, info) => events.push({ kind: 'error', err, info }));
  return events;
}

describe('handler context on transfer events', () => {
  it('a read: the context comes back on transferStart and transferComplete, with the bytes', async () => {
    const data = pattern(1300);
    const { server, port } = await startServer({
      handler: (req) => ({ data, context: { tag: `read ${req.filename}` } satisfies Ctx }),
    });
    const events = record(server);
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const got: Buffer[] = [];
    for (let block = 1; ; block++) {
      const d = await peer.next();
      expect(d.packet).toMatchObject({ opcode: Opcode.DATA, block });
      got.push(d.raw.subarray(4));
      peer.ack(block, d.port);
      if (d.raw.length - 4 < 512) break;
    }
    expect(Buffer.concat(got)).toEqual(data);
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['start', 'complete']));
    const [start, complete] = events;
    expect(start).toMatchObject({
      kind: 'start',
      info: { filename: 'f.bin', context: { tag: 'read f.bin' } },
    });
    expect(complete).toMatchObject({
      kind: 'complete',
      stats: { filename: 'f.bin', bytes: 1300, blocks: 3, context: { tag: 'read f.bin' } },
    });
  });

  it('a write: the sink carries the context to transferComplete', async () => {
    const stored: Buffer[] = [];
    const { server, port } = await startServer({
      handler: () => Buffer.alloc(0),
      writeHandler: (req) => ({
        context: { tag: `write ${req.filename}` } satisfies Ctx,
        write: (chunk) => void stored.push(Buffer.from(chunk)),
        end: () => {},
      }),
    });
    const events = record(server);
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet'), port);
    const ack0 = await peer.next();
    expect(ack0.packet).toEqual({ opcode: Opcode.ACK, block: 0 });
    peer.send(encodeData(1, Buffer.from('uploaded')), ack0.port);
    expect((await peer.next()).packet).toEqual({ opcode: Opcode.ACK, block: 1 });
    expect(Buffer.concat(stored).toString()).toBe('uploaded');
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['start', 'complete']));
    expect(events[0]).toMatchObject({ info: { direction: 'write', context: { tag: 'write up.bin' } } });
    expect(events[1]).toMatchObject({ stats: { bytes: 8, context: { tag: 'write up.bin' } } });
  });

  it('a transfer that fails after its handler answered: transferError carries the context', async () => {
    const { server, port } = await startServer({
      handler: () => ({ data: pattern(3000), context: { tag: 'cancelled one' } satisfies Ctx }),
      retransmitTimeoutMs: 5000,
    });
    const events = record(server);
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    peer.send(encodeError(0, 'cancelled by user'), d1.port);
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['start', 'error']));
    const failed = events[1] as Extract<(typeof events)[number], { kind: 'error' }>;
    expect(failed.err.code).toBe('PTFTP_ERR_REMOTE');
    expect(failed.info).toMatchObject({
      filename: 'f.bin',
      opcode: 'RRQ',
      context: { tag: 'cancelled one' },
    });
  });

  it('an unusable result is refused with ERROR 0, and its context still comes back', async () => {
    const { server, port } = await startServer({
      // Neither bytes, content nor a stream: setup fails after the handler answered.
      handler: () => ({ context: { tag: 'bad result' } }) as never,
    });
    const events = record(server);
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    expect((await peer.next()).packet).toEqual({
      opcode: Opcode.ERROR,
      errorCode: 0,
      message: 'internal error',
    });
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({ kind: 'error', info: { context: { tag: 'bad result' } } });
  });

  it('a handler that refuses has no context: ERROR 1 on the wire, transferError without one', async () => {
    const { server, port } = await startServer({
      handler: (req) => {
        throw new FileNotFoundError(req.filename);
      },
    });
    const events = record(server);
    const peer = await openPeer();
    peer.rrq(port, 'missing.bin');
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 1 });
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({ kind: 'error', info: { filename: 'missing.bin' } });
    expect('context' in (events[0] as { info: object }).info).toBe(false);
  });

  it('single-port mode, a new request supersedes a running one: each event has its own transfer context', async () => {
    const { server, port } = await startServer({
      ports: 'single',
      handler: (req) => ({
        data: req.filename === 'a.bin' ? pattern(5000) : Buffer.from('the file b'),
        context: { tag: req.filename } satisfies Ctx,
      }),
      retransmitTimeoutMs: 5000,
    });
    const events = record(server);
    const peer = await openPeer();
    peer.rrq(port, 'a.bin');
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    // Same address and port, another file: a.bin is replaced (its blocks were not all sent).
    peer.rrq(port, 'b.bin');
    const b1 = await peer.next();
    expect(b1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(b1.raw.subarray(4).toString()).toBe('the file b');
    peer.ack(1, b1.port);
    await vi.waitFor(() =>
      expect(events.map((e) => e.kind)).toEqual(['start', 'error', 'start', 'complete']),
    );
    expect(events[1]).toMatchObject({
      kind: 'error',
      info: { filename: 'a.bin', context: { tag: 'a.bin' } },
    });
    expect((events[1] as { err: PtftpError }).err.message).toBe('the client sent a new request');
    expect(events[3]).toMatchObject({
      kind: 'complete',
      stats: { filename: 'b.bin', bytes: 10, context: { tag: 'b.bin' } },
    });
    expect(server.activeSessions).toBe(0);
  });

  it('a request dropped while its handler waits: its late context reaches no event, the next one has its own', async () => {
    let releaseA!: () => void;
    const aWaits = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let aAnswered = false;
    const { server, port } = await startServer({
      handler: async (req) => {
        if (req.filename === 'a.bin') {
          await aWaits;
          aAnswered = true;
          return { data: pattern(700), context: { tag: 'a.bin' } satisfies Ctx };
        }
        return { data: Buffer.from('the file b'), context: { tag: 'b.bin' } satisfies Ctx };
      },
    });
    const events = record(server);
    const requests: string[] = [];
    server.on('request', (info) => requests.push(info.filename));
    const peer = await openPeer();
    peer.rrq(port, 'a.bin');
    await vi.waitFor(() => expect(requests).toEqual(['a.bin']));
    peer.rrq(port, 'b.bin');
    const b1 = await peer.next();
    expect(b1.raw.subarray(4).toString()).toBe('the file b');
    peer.ack(1, b1.port);
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['start', 'complete']));
    releaseA();
    await vi.waitFor(() => expect(aAnswered).toBe(true));
    // a.bin's answer came after it was dropped: no event, no DATA, nothing left running.
    expect(await peer.collect(200)).toEqual([]);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ stats: { filename: 'b.bin', context: { tag: 'b.bin' } } });
    expect(server.activeSessions).toBe(0);
  });
});
