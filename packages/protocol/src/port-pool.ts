/**
 * Sockets for transfers: one per transfer on an ephemeral port (the RFC 1350 TID), or on a port
 * from a configured range (for firewalls and NAT).
 */
import dgram from 'node:dgram';
import { LimitError } from './errors.js';
import { literalLookup } from './transport.js';

/** How a transfer socket is created. */
export interface TransferSocketOptions {
  readonly type: 'udp4' | 'udp6';
  readonly address: string;
  readonly ipv6Only: boolean;
  readonly sendBufferSize?: number | undefined;
}

function bindSocket(
  opts: TransferSocketOptions,
  port: number,
  createSocket: (options: dgram.SocketOptions) => dgram.Socket,
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({
      type: opts.type,
      ipv6Only: opts.ipv6Only,
      lookup: literalLookup as never,
      ...(opts.sendBufferSize ? { sendBufferSize: opts.sendBufferSize } : {}),
    });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    // exclusive: in a cluster worker (`ptftp serve --workers N`) a shared bind would go through
    // the primary, which hands every worker binding the same (address, port 0, nth bind) one
    // socket: two workers' transfers would read each other's ACKs.
    socket.bind({ port, address: opts.address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Hands out transfer sockets, from a port range when one is configured. */
export class PortPool {
  private cursor: number;
  /** Range ports held by our own transfers, skipped without a failed bind. */
  private readonly inUse = new Set<number>();

  constructor(
    private readonly range: { from: number; to: number } | undefined,
    /** Makes each transfer socket (the server's `createSocket` option). */
    private readonly createSocket: (options: dgram.SocketOptions) => dgram.Socket = dgram.createSocket,
  ) {
    this.cursor = range?.from ?? 0;
  }

  /** Bind a socket for one transfer; LimitError when every port of the range is busy. */
  async open(opts: TransferSocketOptions): Promise<dgram.Socket> {
    if (this.range === undefined) return bindSocket(opts, 0, this.createSocket);
    const { from, to } = this.range;
    const count = to - from + 1;
    for (let i = 0; i < count; i++) {
      const port = this.cursor;
      this.cursor = port >= to ? from : port + 1;
      if (this.inUse.has(port)) continue;
      try {
        const socket = await bindSocket(opts, port, this.createSocket);
        this.inUse.add(port);
        return socket;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new LimitError('ports', `all ${count} ports of ${from}-${to} are in use`);
  }

  /** A range port is free again. */
  release(port: number): void {
    this.inUse.delete(port);
  }
}
