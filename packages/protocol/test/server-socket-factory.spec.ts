/**
 * The `createSocket` option: every datagram socket of the server, listening and per-transfer,
 * comes from the injected factory, so another datagram path can plug in.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { Opcode } from '../src/packet.js';
import { createServer } from '../src/server.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

/** A factory that makes real dgram sockets and keeps each one with the options it was asked for. */
function recordingFactory() {
  const made: Array<{ options: dgram.SocketOptions; socket: dgram.Socket }> = [];
  const createSocket = (options: dgram.SocketOptions): dgram.Socket => {
    const socket = dgram.createSocket(options);
    made.push({ options, socket });
    return socket;
  };
  return { made, createSocket };
}

describe('createSocket: the datagram-socket factory', () => {
  it('the listening socket and each transfer socket come from the factory, and the bytes go through them', async () => {
    const { made, createSocket } = recordingFactory();
    const data = pattern(700);
    const { port } = await startServer({ handler: () => data, createSocket });
    expect(made).toHaveLength(1);
    expect(made[0]!.options).toMatchObject({ type: 'udp4', recvBufferSize: 4 << 20 });
    expect(made[0]!.socket.address().port).toBe(port);
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    expect(d1.packet).toMatchObject({ opcode: Opcode.DATA, block: 1 });
    // The transfer's own port (RFC 1350 TID) is a socket the factory made.
    expect(made).toHaveLength(2);
    expect(made[1]!.options).toMatchObject({ type: 'udp4' });
    expect(made[1]!.socket.address().port).toBe(d1.port);
    peer.ack(1, d1.port);
    const d2 = await peer.next();
    expect(Buffer.concat([d1.raw.subarray(4), d2.raw.subarray(4)])).toEqual(data);
    peer.ack(2, d2.port);
  });

  it('a port range binds its transfer sockets through the factory too', async () => {
    const { made, createSocket } = recordingFactory();
    // A free port for the range: bind one, note it, release it.
    const probe = dgram.createSocket('udp4');
    const free = await new Promise<number>((resolve) =>
      probe.bind(0, '127.0.0.1', () => resolve(probe.address().port)),
    );
    probe.close();
    const { port } = await startServer({
      handler: () => Buffer.from('ranged'),
      createSocket,
      ports: { from: free, to: free },
    });
    const peer = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    expect(d1.raw.subarray(4).toString()).toBe('ranged');
    expect(d1.port).toBe(free);
    expect(made.map((m) => m.socket.address().port)).toEqual([port, free]);
  });

  it('configure() cannot swap the factory on a running server', () => {
    const server = createServer({ handler: () => Buffer.alloc(0) });
    expect(() => server.configure({ createSocket: dgram.createSocket } as never)).toThrow(
      InvalidArgumentError,
    );
  });
});
