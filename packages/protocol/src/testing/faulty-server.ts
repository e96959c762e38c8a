/**
 * A tiny TFTP server that misbehaves on purpose: silent, cutting transfers, answering with
 * errors, or announcing the wrong size. It stands in for a broken remote cluster so that a
 * client (or a proxy's TFTP upstream) can be tested against the failures real servers have.
 * With `fault: 'none'` it is a correct, lock-step RFC 1350/2347/2348/2349 read server.
 */
import dgram from 'node:dgram';
import { InvalidArgumentError } from '../errors.js';
import { decodePacket, encodeData, encodeError, encodeOack, Opcode, type TftpOptions } from '../packet.js';

/**
 * - `none`: serves correctly;
 * - `silent`: reads every request and never answers;
 * - `cut-after-blocks`: sends `cutAfterBlocks` blocks, then goes silent (or sends ERROR 0
 *   when `cutWith: 'error'`);
 * - `error`: answers every request with ERROR `errorCode` (default 0);
 * - `wrong-tsize`: announces `tsize` off by `tsizeDelta` (default +100) and sends the real file.
 */
export type TftpFault = 'none' | 'silent' | 'cut-after-blocks' | 'error' | 'wrong-tsize';

export interface FaultyTftpServerOptions {
  /** The files served (names exactly as requested). Others get ERROR 1. */
  files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array | string>>;
  /** The fault, or a function choosing one per request (`attempt` counts requests from 0). */
  fault?: TftpFault | ((name: string, attempt: number) => TftpFault);
  /** '127.0.0.1' (default) or '::1'. */
  host?: string;
  /** Blocks sent before a `cut-after-blocks` transfer stops. Default 2. */
  cutAfterBlocks?: number;
  /** How a cut transfer ends: silence (default) or ERROR 0. */
  cutWith?: 'silence' | 'error';
  /** ERROR code of `error`. Default 0. */
  errorCode?: number;
  /** ERROR text of `error`. Default "injected fault". */
  errorMessage?: string;
  /** Added to the real size in the OACK of `wrong-tsize`. Default +100. */
  tsizeDelta?: number;
  /** Retransmit timeout of a correct transfer. Default 300 ms. */
  retransmitTimeoutMs?: number;
  /** Resends before a correct transfer gives up. Default 5. */
  retries?: number;
}

export interface FaultyTftpServer {
  readonly address: string;
  readonly port: number;
  /** Requests received on the listening port. */
  readonly requests: number;
  /** DATA packets sent, resends included. */
  readonly dataSent: number;
  /** Transfers that got the final ACK. */
  readonly completed: number;
  /** Transfers open now. */
  readonly active: number;
  setFault(fault: NonNullable<FaultyTftpServerOptions['fault']>): void;
  close(): Promise<void>;
}

interface Transfer {
  socket: dgram.Socket;
  timer?: NodeJS.Timeout;
  done: boolean;
}

/**
 * Start a faulty TFTP server on a free loopback port.
 *
 * @example
 * ```ts
 * const broken = await createFaultyTftpServer({ files: { 'a.cnf.xml': 'x'.repeat(5000) }, fault: 'cut-after-blocks' });
 * await expect(tftpGet({ host: broken.address, port: broken.port }, 'a.cnf.xml')).rejects.toThrow();
 * await broken.close();
 * ```
 */
export async function createFaultyTftpServer(opts: FaultyTftpServerOptions): Promise<FaultyTftpServer> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1')
    throw new InvalidArgumentError('host', 'must be 127.0.0.1 or ::1');
  const type = host === '::1' ? 'udp6' : 'udp4';
  const files = new Map<string, Uint8Array>();
  if (opts.files instanceof Map) for (const [k, v] of opts.files) files.set(k, v);
  else
    for (const [k, v] of Object.entries(opts.files))
      files.set(k, typeof v === 'string' ? Buffer.from(v) : (v as Uint8Array));
  let fault = opts.fault ?? 'none';
  const rto = opts.retransmitTimeoutMs ?? 300;
  const retries = opts.retries ?? 5;
  const transfers = new Set<Transfer>();
  const c = { requests: 0, dataSent: 0, completed: 0 };
  let closed = false;

  const listen = dgram.createSocket(type);
  listen.on('error', () => {});
  await new Promise<void>((resolve) => listen.bind(0, host, () => resolve()));

  const finish = (t: Transfer) => {
    if (t.done) return;
    t.done = true;
    clearTimeout(t.timer);
    transfers.delete(t);
    t.socket.close();
  };

  const serve = async (name: string, options: TftpOptions, kind: TftpFault, peer: dgram.RemoteInfo) => {
    const socket = dgram.createSocket(type);
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
    const t: Transfer = { socket, done: false };
    transfers.add(t);
    if (closed) return finish(t);
    const send = (buf: Uint8Array) => socket.send(buf, peer.port, peer.address, () => {});
    const data = files.get(name);
    if (kind === 'error' || !data) {
      const error = data
        ? encodeError(opts.errorCode ?? 0, opts.errorMessage ?? 'injected fault')
        : encodeError(1, 'file not found');
      // Close only once the datagram has left: closing at once would discard it.
      socket.send(error, peer.port, peer.address, () => finish(t));
      return;
    }
    const blksizeAsked = Number(options.blksize);
    const blksize =
      Number.isInteger(blksizeAsked) && blksizeAsked >= 8 && blksizeAsked <= 65464 ? blksizeAsked : 512;
    const oack: TftpOptions = {};
    if (options.blksize !== undefined && blksize !== 512) oack.blksize = String(blksize);
    if (options.tsize !== undefined)
      oack.tsize = String(
        kind === 'wrong-tsize' ? Math.max(0, data.length + (opts.tsizeDelta ?? 100)) : data.length,
      );
    const lastBlock = Math.floor(data.length / blksize) + 1;
    const cutAt = kind === 'cut-after-blocks' ? (opts.cutAfterBlocks ?? 2) : Number.POSITIVE_INFINITY;
    // block 0 stands for the OACK, which the client ACKs with block 0.
    let current = Object.keys(oack).length > 0 ? 0 : 1;
    let tries = 0;
    const packet = (block: number) => {
      if (block === 0) return encodeOack(oack);
      c.dataSent++;
      return encodeData(
        block & 0xffff,
        data.subarray((block - 1) * blksize, Math.min(data.length, block * blksize)),
      );
    };
    const transmit = () => {
      if (t.done) return;
      if (current > cutAt) {
        if (opts.cutWith === 'error') send(encodeError(0, 'transfer cut'));
        // Silence: keep the socket a while so the client's ACKs land somewhere, then go.
        clearTimeout(t.timer);
        t.timer = setTimeout(() => finish(t), rto * (retries + 1));
        return;
      }
      send(packet(current));
      clearTimeout(t.timer);
      t.timer = setTimeout(() => {
        if (++tries > retries) return finish(t);
        transmit();
      }, rto);
    };
    socket.on('message', (msg, r) => {
      if (r.port !== peer.port || r.address !== peer.address) {
        socket.send(encodeError(5, 'unknown transfer ID'), r.port, r.address, () => {});
        return;
      }
      let p: ReturnType<typeof decodePacket>;
      try {
        p = decodePacket(msg);
      } catch {
        return;
      }
      if (p.opcode === Opcode.ERROR) return finish(t);
      // Only the ACK we wait for moves us on; others are ignored (no Sorcerer's Apprentice).
      if (p.opcode !== Opcode.ACK || p.block !== (current & 0xffff)) return;
      if (current === lastBlock) {
        c.completed++;
        return finish(t);
      }
      current++;
      tries = 0;
      transmit();
    });
    transmit();
  };

  listen.on('message', (msg, peer) => {
    if (closed) return;
    c.requests++;
    const attempt = c.requests - 1;
    let p: ReturnType<typeof decodePacket>;
    try {
      p = decodePacket(msg);
    } catch {
      listen.send(encodeError(4, 'malformed request'), peer.port, peer.address, () => {});
      return;
    }
    if (p.opcode !== Opcode.RRQ) {
      listen.send(encodeError(4, 'read requests only'), peer.port, peer.address, () => {});
      return;
    }
    const kind = typeof fault === 'function' ? fault(p.filename, attempt) : fault;
    if (kind === 'silent') return;
    void serve(p.filename, p.options, kind, peer);
  });

  const { port } = listen.address();
  return {
    address: host,
    port,
    get requests() {
      return c.requests;
    },
    get dataSent() {
      return c.dataSent;
    },
    get completed() {
      return c.completed;
    },
    get active() {
      return transfers.size;
    },
    setFault(next) {
      fault = next;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of [...transfers]) finish(t);
      await new Promise<void>((resolve) => listen.close(() => resolve()));
    },
  };
}
