/**
 * A scripted TFTP peer on a raw UDP socket for server tests: it sends exactly what a test says
 * and queues every datagram it gets, decoded, with the port it came from.
 */
import dgram from 'node:dgram';
import {
  decodePacket,
  encodeAck,
  encodeRequest,
  Opcode,
  type Packet,
  type TftpOptions,
} from '../../src/packet.js';

export interface Received {
  readonly packet: Packet;
  readonly raw: Buffer;
  readonly port: number;
  readonly address: string;
}

export class RawPeer {
  private readonly queue: Received[] = [];
  private waiter: (() => void) | undefined;
  /** Every datagram ever received, in order. */
  readonly log: Received[] = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (raw, rinfo) => {
      const r = { packet: decodePacket(raw), raw, port: rinfo.port, address: rinfo.address };
      this.queue.push(r);
      this.log.push(r);
      this.waiter?.();
    });
  }

  static async open(host = '127.0.0.1'): Promise<RawPeer> {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer, port: number, host = '127.0.0.1'): void {
    this.socket.send(data, port, host);
  }

  rrq(
    port: number,
    name: string,
    options: TftpOptions = {},
    mode: 'octet' | 'netascii' = 'octet',
    host = '127.0.0.1',
  ): void {
    this.send(encodeRequest(Opcode.RRQ, name, mode, options), port, host);
  }

  ack(block: number, port: number, host = '127.0.0.1'): void {
    this.send(encodeAck(block), port, host);
  }

  /** The next datagram; rejects when none comes within `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no datagram within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  /** Every datagram that arrives within `ms` (used to prove that nothing more is sent). */
  async collect(ms: number): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  /** Release the socket; closing twice (a test, then the fixture's cleanup) is fine. */
  close(): void {
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }
}

/** A lockstep read with this peer: returns the bytes and the DATA packets as received. */
export async function rawRead(
  peer: RawPeer,
  serverPort: number,
  name: string,
  opts: { options?: TftpOptions; mode?: 'octet' | 'netascii'; onData?: (block: number) => void } = {},
): Promise<{ data: Buffer; oack?: TftpOptions; blocks: number[] }> {
  peer.rrq(serverPort, name, opts.options ?? {}, opts.mode ?? 'octet');
  const chunks: Buffer[] = [];
  const blocks: number[] = [];
  let blksize = 512;
  let oack: TftpOptions | undefined;
  let first = await peer.next();
  if (first.packet.opcode === Opcode.OACK) {
    oack = first.packet.options;
    blksize = Number(oack.blksize ?? 512);
    peer.ack(0, first.port);
    first = await peer.next();
  }
  let r = first;
  // Bounded: a transfer of at most 2^20 blocks.
  for (let i = 0; i < 1 << 20; i++) {
    if (r.packet.opcode !== Opcode.DATA) throw new Error(`expected DATA, got opcode ${r.packet.opcode}`);
    blocks.push(r.packet.block);
    opts.onData?.(r.packet.block);
    chunks.push(Buffer.from(r.packet.data));
    peer.ack(r.packet.block, r.port);
    if (r.packet.data.length < blksize) break;
    r = await peer.next();
  }
  return { data: Buffer.concat(chunks), ...(oack ? { oack } : {}), blocks };
}

/**
 * A windowed read (RFC 7440) on a loss-free path: ACK 0 after the OACK, then one ACK per
 * `windowsize` blocks and one for the short last block. Returns every DATA block number seen.
 */
export async function rawWindowRead(
  peer: RawPeer,
  serverPort: number,
  name: string,
  options: TftpOptions & { blksize: string; windowsize: string },
): Promise<{ data: Buffer; oack: TftpOptions; blocks: number[] }> {
  peer.rrq(serverPort, name, options);
  const oack = await peer.next();
  if (oack.packet.opcode !== Opcode.OACK) throw new Error(`expected OACK, got opcode ${oack.packet.opcode}`);
  const blksize = Number(oack.packet.options.blksize);
  const windowsize = Number(oack.packet.options.windowsize);
  peer.ack(0, oack.port);
  const chunks: Buffer[] = [];
  const blocks: number[] = [];
  for (let i = 0; i < 1 << 20; i++) {
    const r = await peer.next();
    if (r.packet.opcode !== Opcode.DATA) throw new Error(`expected DATA, got opcode ${r.packet.opcode}`);
    blocks.push(r.packet.block);
    chunks.push(Buffer.from(r.packet.data));
    const last = r.packet.data.length < blksize;
    if (last || blocks.length % windowsize === 0) peer.ack(r.packet.block, r.port);
    if (last) break;
  }
  return { data: Buffer.concat(chunks), oack: oack.packet.options, blocks };
}
