/**
 * The edge between a session and a UDP socket: a session sends packets to its one peer through
 * a Transport and never sees the socket, so tests and the single-port mode can swap it.
 */
import type dgram from 'node:dgram';
import { isIP } from 'node:net';

/** Sends datagrams to one peer. */
export interface Transport {
  /** The local port the peer talks to (the server's TID). */
  readonly localPort: number;
  send(packet: Buffer | readonly Buffer[]): void;
  /** Release the socket (a no-op for a shared socket). */
  close(): void;
}

/** The last answer of {@link literalLookup}: a transfer sends every packet to one peer. */
let lastHost = '';
let lastFamily = 0;

/**
 * dgram resolves the address of every send; every address here is an IP literal from a
 * received datagram, so answering synchronously skips a DNS call and a tick per packet.
 */
export function literalLookup(
  hostname: string,
  options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // Skips isIP's regular expression, which otherwise runs for every packet.
  if (hostname === lastHost) {
    callback(null, hostname, lastFamily);
    return;
  }
  const family = isIP(hostname);
  if (family === 0) {
    const err: NodeJS.ErrnoException = new Error(`not an IP address: ${hostname}`);
    err.code = 'EINVAL';
    callback(err, hostname, 0);
    return;
  }
  void options;
  lastHost = hostname;
  lastFamily = family;
  callback(null, hostname, family);
}

/** Send one datagram; a failure is a lost packet (a socket closed by the server throws: same). */
export function sendQuietly(socket: dgram.Socket, packet: Buffer, port: number, address: string): void {
  try {
    socket.send(packet, port, address);
  } catch {
    // The socket closed while a reply was due: the peer sees a lost packet.
  }
}

/** A transport over a socket, sending to a fixed peer. */
export class SocketTransport implements Transport {
  readonly localPort: number;
  constructor(
    private readonly socket: dgram.Socket,
    readonly peerAddress: string,
    private readonly peerPort: number,
    private readonly owned: boolean,
  ) {
    this.localPort = socket.address().port;
  }

  send(packet: Buffer | readonly Buffer[]): void {
    // No callback: with one, dgram schedules a tick per packet. A failed send (EPERM from a
    // firewall) then surfaces as an 'error' event, which the owner ignores: a lost packet that
    // retransmission covers. A socket closed under a session throws here: same treatment.
    try {
      this.socket.send(packet as Buffer | Buffer[], this.peerPort, this.peerAddress);
    } catch {
      // Nothing to do: the session is ending.
    }
  }

  close(): void {
    if (!this.owned) return;
    try {
      this.socket.close();
    } catch {
      // Already closed with the server.
    }
  }
}
