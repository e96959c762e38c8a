import dgram from 'node:dgram';
import { describe, expect, it, vi } from 'vitest';
import { freeUdpPort } from '../../../test-support/peers.js';
import { FileNotFoundError, InvalidArgumentError } from '../src/errors.js';
import type { RemoteInfo } from '../src/handler.js';
import { parseListenAddress } from '../src/listen-address.js';
import { Opcode } from '../src/packet.js';
import { createServer } from '../src/server.js';
import { rawRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

describe('single-port mode (NAT/containers)', () => {
  it('serves every transfer from the listening port, demultiplexed by client address:port', async () => {
    const a = pattern(3000);
    const b = Buffer.from(pattern(3000)).reverse();
    const { port } = await startServer({ handler: (req) => (req.filename === 'a' ? a : b), ports: 'single' });
    const pa = await openPeer();
    const pb = await openPeer();
    const [ra, rb] = await Promise.all([rawRead(pa, port, 'a'), rawRead(pb, port, 'b')]);
    expect(ra.data).toEqual(a);
    expect(rb.data).toEqual(b);
    expect(new Set([...pa.log, ...pb.log].map((r) => r.port))).toEqual(new Set([port]));
  });

  it('a stranger in single-port mode (ACK with no session) gets ERROR 5; the running transfer goes on', async () => {
    const { port } = await startServer({
      handler: () => pattern(2000),
      ports: 'single',
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    const stranger = await openPeer();
    peer.rrq(port, 'f');
    const d1 = await peer.next();
    stranger.ack(1, port);
    expect((await stranger.next()).packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 5 });
    peer.ack(1, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    expect(d1.port).toBe(port);
  });
});

describe('port range', () => {
  it('transfer ports come from the configured range', async () => {
    const from = await freeUdpPort();
    const { port } = await startServer({
      handler: () => pattern(100),
      ports: { from, to: from },
      retransmitTimeoutMs: 5000,
    });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    const r = await peer.next();
    expect(r.port).toBe(from);
    // The only range port is taken: a second transfer is refused with ERROR 0 naming the limit.
    const other = await openPeer();
    other.rrq(port, 'f');
    const refused = await other.next();
    expect(refused.packet.opcode === Opcode.ERROR && refused.packet.message).toMatch(/ports: all 1 ports/);
  });
});

describe('listening addresses', () => {
  it('parses v4, bracketed v6 and objects; refuses junk with InvalidArgumentError', () => {
    expect(parseListenAddress('127.0.0.1:6969')).toEqual({
      address: '127.0.0.1',
      port: 6969,
      family: 'IPv4',
    });
    expect(parseListenAddress('[::]:69')).toEqual({ address: '::', port: 69, family: 'IPv6' });
    expect(parseListenAddress({ address: '::1', port: 0 })).toEqual({
      address: '::1',
      port: 0,
      family: 'IPv6',
    });
    for (const bad of ['::1:69', 'localhost:69', '127.0.0.1', '1.2.3.4:70000', '[::1]']) {
      expect(() => parseListenAddress(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('one server on 127.0.0.1 and ::1 serves both families; remote family is reported', async () => {
    const remotes: RemoteInfo[] = [];
    const { ports } = await startServer(
      {
        handler: (req) => {
          remotes.push(req.remote);
          return pattern(700);
        },
      },
      ['127.0.0.1:0', '[::1]:0'],
    );
    const v4 = await openPeer();
    const v6 = await openPeer('::1');
    expect((await rawRead(v4, ports[0]!, 'f')).data).toEqual(pattern(700));
    v6.rrq(ports[1]!, 'f', {}, 'octet', '::1');
    const d1 = await v6.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(d1.address).toBe('::1');
    expect(remotes.map((r) => r.family)).toEqual(['IPv4', 'IPv6']);
  });

  it('[::] is dual stack: an IPv4 client is served and reported as IPv4, not ::ffff:', async () => {
    const remotes: RemoteInfo[] = [];
    const { port } = await startServer(
      {
        handler: (req) => {
          remotes.push(req.remote);
          return pattern(100);
        },
      },
      ['[::]:0'],
    );
    const v4 = await openPeer();
    expect((await rawRead(v4, port, 'f')).data).toEqual(pattern(100));
    expect(remotes[0]).toEqual({ address: '127.0.0.1', port: v4.port, family: 'IPv4' });
  });

  it('a busy port makes listen() reject and leaves nothing bound', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const busy = taken.address().port;
    const server = createServer({ handler: () => pattern(1) });
    await expect(server.listen(['127.0.0.1:0', `127.0.0.1:${busy}`])).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    expect(server.addresses).toEqual([]);
    taken.close();
    await server.close();
  });
});

describe('graceful close', () => {
  it('close({graceMs}) lets a transfer finish within the grace period', async () => {
    const { server, port } = await startServer({ handler: () => pattern(1500) });
    const peer = await openPeer();
    peer.rrq(port, 'f');
    const d1 = await peer.next();
    const closed = server.close({ graceMs: 5000 });
    peer.ack(1, d1.port);
    const d2 = await peer.next();
    peer.ack(2, d1.port);
    const d3 = await peer.next();
    expect(d3.packet).toMatchObject({ opcode: Opcode.DATA, block: 3 });
    peer.ack(3, d1.port);
    await closed;
    expect(server.activeSessions).toBe(0);
    expect(d2.packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
  });

  it('after the grace period running transfers get ERROR 0 and the close event fires', async () => {
    const { server, port } = await startServer({ handler: () => pattern(1500), retransmitTimeoutMs: 5000 });
    let closeEvents = 0;
    server.on('close', () => closeEvents++);
    const peer = await openPeer();
    peer.rrq(port, 'f');
    await peer.next();
    await server.close({ graceMs: 50 });
    const r = await peer.next();
    expect(r.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 0 });
    expect(closeEvents).toBe(1);
    expect(server.addresses).toEqual([]);
  });
});

/**
 * A single-port server (files of `size` bytes) whose one address was unlistened after the first
 * DATA of a transfer. `onRequest` counts the requests its handler saw.
 */
async function drainingMidTransfer(size: number, onRequest: () => void = () => {}) {
  const { server, port } = await startServer({
    handler: () => {
      onRequest();
      return pattern(size);
    },
    ports: 'single',
    retransmitTimeoutMs: 5000,
  });
  const peer = await openPeer();
  peer.rrq(port, 'f');
  expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
  expect(server.unlisten({ address: '127.0.0.1', port })).toBe(true);
  expect(server.addresses).toEqual([]);
  return { server, port, peer };
}

describe('unlisten: one address goes, the transfers it started finish', () => {
  it('port per transfer: the running transfer completes; new requests to the old address get nothing', async () => {
    const { server, ports } = await startServer({ handler: () => pattern(3000), retransmitTimeoutMs: 5000 }, [
      '127.0.0.1:0',
      '127.0.0.1:0',
    ]);
    const [oldPort, keptPort] = ports as [number, number];
    const peer = await openPeer();
    peer.rrq(oldPort, 'f');
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    expect(server.unlisten({ address: '127.0.0.1', port: oldPort })).toBe(true);
    expect(server.addresses.map((a) => a.port)).toEqual([keptPort]);
    // The transfer has its own port: it goes on to the end.
    for (let block = 1; block <= 5; block++) {
      peer.ack(block, d1.port);
      const next = await peer.next();
      expect(next.packet).toMatchObject({ opcode: Opcode.DATA, block: block + 1 });
    }
    const late = await openPeer();
    late.rrq(oldPort, 'f');
    expect((await late.collect(300)).filter((r) => r.packet.opcode !== Opcode.ERROR)).toEqual([]);
    const other = await openPeer();
    expect((await rawRead(other, keptPort, 'f')).data).toEqual(pattern(3000));
    expect(server.unlisten({ address: '127.0.0.1', port: oldPort })).toBe(false);
  });

  it('single-port mode: the socket stays for its transfer, refuses newcomers silently, then closes', async () => {
    const { server, port, peer } = await drainingMidTransfer(1500);
    const newcomer = await openPeer();
    newcomer.rrq(port, 'f');
    expect(await newcomer.collect(300)).toEqual([]);
    peer.ack(1, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    peer.ack(2, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 3 });
    peer.ack(3, port);
    // The last block was short (1500 = 2 x 512 + 476): the transfer is over and the socket closes.
    await vi.waitFor(() => expect(server.activeSessions).toBe(0));
    const after = await openPeer();
    after.rrq(port, 'f');
    expect((await after.collect(300)).filter((r) => r.packet.opcode === Opcode.DATA)).toEqual([]);
  });
});

describe('unlisten while a request waits for its handler', () => {
  it('the refusal still goes out from the old address; then the socket closes', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let asked = 0;
    const { server, port } = await startServer({
      handler: async (req) => {
        asked++;
        await gate;
        throw new FileNotFoundError(req.filename);
      },
    });
    const peer = await openPeer();
    peer.rrq(port, 'SEP001122334455.cnf.xml');
    await vi.waitFor(() => expect(asked).toBe(1));
    expect(server.unlisten({ address: '127.0.0.1', port })).toBe(true);
    expect(server.addresses).toEqual([]);
    release();
    const answer = await peer.next();
    expect(answer.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 1 });
    expect(answer.port).toBe(port);
    const late = await openPeer();
    late.rrq(port, 'f');
    expect(await late.collect(300)).toEqual([]);
  });
});

describe('unlisten in single-port mode: nothing new starts on a draining socket', () => {
  it('a new request from the port of a running transfer is ignored; that transfer goes on', async () => {
    let asked = 0;
    const { port, peer } = await drainingMidTransfer(1500, () => asked++);
    peer.rrq(port, 'other');
    peer.ack(1, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    expect(asked).toBe(1);
  });
});

describe('listen again on an address that is still draining', () => {
  it('single-port mode: the draining socket is taken back (no EADDRINUSE); old and new transfers both run', async () => {
    const { server, port, peer } = await drainingMidTransfer(1500);
    const again = await server.listen([`127.0.0.1:${port}`]);
    expect(again).toEqual([{ address: '127.0.0.1', port, family: 'IPv4' }]);
    expect(server.addresses).toEqual(again);
    const newcomer = await openPeer();
    expect((await rawRead(newcomer, port, 'g')).data).toEqual(pattern(1500));
    peer.ack(1, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
  });

  it('when another address of the same call fails, the taken-back socket drains and closes as before', async () => {
    const { server, port, peer } = await drainingMidTransfer(600);
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine: bind fails, nothing is sent.
    // The failure is the second address's, so the first was taken back and then released.
    await expect(server.listen([`127.0.0.1:${port}`, '192.0.2.1:0'])).rejects.toThrow(/192\.0\.2\.1/);
    expect(server.addresses).toEqual([]);
    peer.ack(1, port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
    peer.ack(2, port);
    await vi.waitFor(() => expect(server.activeSessions).toBe(0));
    const after = await openPeer();
    after.rrq(port, 'f');
    expect(await after.collect(300)).toEqual([]);
  });
});
