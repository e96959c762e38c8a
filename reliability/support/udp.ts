/**
 * A loopback UDP socket that records what it receives, for sending hostile datagrams at a
 * server and reading the answers.
 */
import dgram from 'node:dgram';

export interface Probe {
  readonly socket: dgram.Socket;
  readonly port: number;
  /** Every datagram received, with its source port. */
  readonly received: Array<{ msg: Buffer; port: number }>;
  send(bytes: Uint8Array, to: { address: string; port: number }): Promise<void>;
  close(): Promise<void>;
}

export async function openProbe(host = '127.0.0.1'): Promise<Probe> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  const received: Probe['received'] = [];
  socket.on('message', (msg, r) => received.push({ msg, port: r.port }));
  return {
    socket,
    port: socket.address().port,
    received,
    send: (bytes, to) =>
      new Promise<void>((resolve) => socket.send(bytes, to.port, to.address, () => resolve())),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The opcode and, for ERROR, the code of a datagram: 'DATA', 'OACK', 'ERROR 1', ... */
export function describeReply(msg: Buffer): string {
  const op = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
  switch (op) {
    case 3:
      return 'DATA';
    case 5:
      return `ERROR ${msg.length >= 4 ? msg.readUInt16BE(2) : '?'}`;
    case 6:
      return 'OACK';
    default:
      return `opcode ${op}`;
  }
}
