/**
 * A deliberately plain TFTP read client on a raw UDP socket that counts everything it sees:
 * its own retransmissions, every DATA it receives, duplicates, strays. The production client
 * hides these numbers; a reliability test needs them (packets per block is how Sorcerer's
 * Apprentice shows itself).
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { encodeAck, encodeError, encodeRequest, type TftpOptions } from '../packet.js';
import type { LinkEndpoint } from './lossy-link.js';

export interface InstrumentedGetOptions {
  /** The server's listening endpoint. */
  target: LinkEndpoint;
  /** The file to read. */
  name: string;
  /** A bound socket to use (one per simulated device); a new one is opened and closed when absent. */
  socket?: dgram.Socket;
  /** Address the new socket binds to when `socket` is absent. Default: loopback of the target's family. */
  bindAddress?: string;
  /** Options to request (e.g. `{ blksize: '1428', tsize: '0' }`). Only windowsize 1 is spoken. */
  options?: TftpOptions;
  /** Time to wait for the next packet before resending the last one. Default 1000 ms. */
  retransmitTimeoutMs?: number;
  /** Resends of one packet before giving up. Default 5. */
  retries?: number;
  /** Longest a whole transfer may take. Default 60 s. */
  deadlineMs?: number;
  /** Keep the bytes in the outcome (default true; a storm may only want the hash). */
  keepData?: boolean;
  /**
   * When the client opened its own socket: keep it open this long after success, re-ACKing a
   * resent final DATA, before closing it in the background. Default 0 (close at once).
   */
  lingerMs?: number;
  /**
   * Hold the transfer after its first answer (OACK or DATA 1) until this settles, without
   * ACKing or resending anything: a way to hold many sessions open at once and count what
   * they cost the server.
   */
  gate?: Promise<unknown>;
  /**
   * Transfers this socket finished earlier, peer `address|port` to final block. When one of
   * those peers resends its final DATA (our last ACK was lost), it is ACKed again rather than
   * refused as a stranger, as a phone that reuses its port would. The outcome adds its own
   * peer when it succeeds.
   */
  finishedTransfers?: Map<string, number>;
}

/** What happened to one read. */
export interface TransferOutcome {
  readonly name: string;
  readonly ok: boolean;
  /** The file, when `ok` and `keepData`. */
  readonly data?: Buffer;
  readonly bytes: number;
  /** Hex SHA-256 of the bytes received (when `ok`). */
  readonly sha256?: string;
  /** Time from the first RRQ to the last ACK. */
  readonly ms: number;
  /** Packets this client resent because the server was silent (RRQ and ACK resends). */
  readonly retransmissions: number;
  /** DATA packets received from the transfer's peer, duplicates included. */
  readonly dataPackets: number;
  /** Distinct blocks received. */
  readonly blocks: number;
  /** DATA packets for a block already received. */
  readonly duplicateDataPackets: number;
  /** Packets from a port other than the transfer's peer (answered with ERROR 5). */
  readonly strayPackets: number;
  /** Resent final DATA of an earlier transfer on this socket, ACKed again. */
  readonly lateDataPackets: number;
  /** Packets that did not parse or did not fit the state (corruption, stale blocks). */
  readonly ignoredPackets: number;
  /** Options the server granted in its OACK (empty without one). */
  readonly oack: TftpOptions;
  /** Why it failed. */
  readonly error?: string;
  /** The TFTP error code, when the server answered with ERROR. */
  readonly errorCode?: number;
}

function openSocket(host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.on('error', () => {});
  return new Promise((resolve) => s.bind(0, host, () => resolve(s)));
}

function parseOack(msg: Buffer): TftpOptions | undefined {
  const parts = msg.subarray(2).toString('latin1').split('\0');
  if (parts.at(-1) !== '') return undefined;
  parts.pop();
  if (parts.length % 2 !== 0) return undefined;
  const out: TftpOptions = {};
  for (let i = 0; i < parts.length; i += 2) out[parts[i]!.toLowerCase()] = parts[i + 1]!;
  return out;
}

/**
 * Read one file, counting every packet. Never throws for network or server trouble: the
 * outcome says what went wrong.
 *
 * @example
 * ```ts
 * const out = await instrumentedGet({ target: { address: '127.0.0.1', port }, name: 'RingList.xml' });
 * console.log(out.ok, out.sha256, out.dataPackets / out.blocks);
 * ```
 */
export async function instrumentedGet(opts: InstrumentedGetOptions): Promise<TransferOutcome> {
  const own = opts.socket === undefined;
  const sock =
    opts.socket ??
    (await openSocket(opts.bindAddress ?? (opts.target.address.includes(':') ? '::1' : '127.0.0.1')));
  const rto = opts.retransmitTimeoutMs ?? 1000;
  const retries = opts.retries ?? 5;
  const deadlineMs = opts.deadlineMs ?? 60_000;
  const options = opts.options ?? {};
  const requestedBlksize = options.blksize ? Number(options.blksize) : undefined;
  const started = performance.now();
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  const c = {
    bytes: 0,
    retransmissions: 0,
    dataPackets: 0,
    blocks: 0,
    duplicateDataPackets: 0,
    strayPackets: 0,
    lateDataPackets: 0,
    ignoredPackets: 0,
  };
  let oack: TftpOptions = {};
  let blksize = 512;
  let peer: LinkEndpoint | undefined;
  let lastBlock = 0;
  let last = encodeRequest(1, opts.name, 'octet', options);
  let lastTo: LinkEndpoint = opts.target;
  let tries = 0;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let onMessage: ((msg: Buffer, r: dgram.RemoteInfo) => void) | undefined;

  let finished = false;
  const result = await new Promise<Pick<TransferOutcome, 'ok' | 'error' | 'errorCode'>>((settle) => {
    // Once settled, late packets (held behind a gate, or resent) must not touch the socket,
    // which the caller may already have closed.
    const resolve = (r: Pick<TransferOutcome, 'ok' | 'error' | 'errorCode'>) => {
      finished = true;
      settle(r);
    };
    const send = (buf: Buffer, to: LinkEndpoint) => {
      if (!finished) sock.send(buf, to.port, to.address, () => {});
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) {
          resolve({ ok: false, error: `timeout after ${retries} retransmissions (block ${lastBlock})` });
          return;
        }
        c.retransmissions++;
        send(last, lastTo);
        arm();
      }, rto);
    };
    const ack = (block: number) => {
      last = encodeAck(block);
      lastTo = peer!;
      send(last, lastTo);
    };
    deadline = setTimeout(
      () => resolve({ ok: false, error: `deadline of ${deadlineMs} ms passed` }),
      deadlineMs,
    );
    const handle = (msg: Buffer, r: dgram.RemoteInfo): void => {
      if (finished) return;
      if (!peer || r.port !== peer.port || r.address !== peer.address) {
        const finalBlock = opts.finishedTransfers?.get(`${r.address}|${r.port}`);
        if (finalBlock !== undefined) {
          if (msg.length >= 4 && msg.readUInt16BE(0) === 3 && msg.readUInt16BE(2) === finalBlock) {
            c.lateDataPackets++;
            sock.send(encodeAck(finalBlock), r.port, r.address, () => {});
          } else c.ignoredPackets++;
          return;
        }
      }
      if (peer && (r.port !== peer.port || r.address !== peer.address)) {
        c.strayPackets++;
        sock.send(encodeError(5, 'unknown transfer ID'), r.port, r.address, () => {});
        return;
      }
      if (msg.length < 4) {
        c.ignoredPackets++;
        return;
      }
      const opcode = msg.readUInt16BE(0);
      if (opcode === 5) {
        const code = msg.readUInt16BE(2);
        const end = msg.indexOf(0, 4);
        resolve({
          ok: false,
          errorCode: code,
          error: `ERROR ${code}: ${msg.subarray(4, end < 0 ? msg.length : end).toString('utf8')}`,
        });
        return;
      }
      if (opcode === 6 && !peer && lastBlock === 0) {
        const granted = parseOack(msg);
        if (!granted) {
          c.ignoredPackets++;
          return;
        }
        peer = { address: r.address, port: r.port };
        oack = granted;
        if (granted.blksize) blksize = Number(granted.blksize);
        tries = 0;
        ack(0);
        arm();
        return;
      }
      if (opcode !== 3) {
        c.ignoredPackets++;
        return;
      }
      const block = msg.readUInt16BE(2);
      const payload = msg.subarray(4);
      if (!peer) {
        // Only DATA 1 can open a transfer: anything else is a stale packet for an earlier
        // owner of this port, and locking onto it would refuse the real server.
        if (block !== 1) {
          c.ignoredPackets++;
          return;
        }
        // No OACK: the server refused our options, and block 1 starts at 512 bytes.
        peer = { address: r.address, port: r.port };
        if (requestedBlksize !== undefined) blksize = 512;
      }
      c.dataPackets++;
      const expected = (lastBlock + 1) & 0xffff;
      if (block === expected && payload.length <= blksize) {
        lastBlock = block;
        c.blocks++;
        c.bytes += payload.length;
        hash.update(payload);
        if (opts.keepData !== false) chunks.push(Buffer.from(payload));
        tries = 0;
        ack(block);
        if (payload.length < blksize) {
          resolve({ ok: true });
          return;
        }
        arm();
      } else if (block === lastBlock) {
        // Our ACK was lost and the server resent: ACK again (the resend is the server's job,
        // the re-ACK is ours; resending DATA on it would be Sorcerer's Apprentice).
        c.duplicateDataPackets++;
        ack(block);
      } else {
        c.ignoredPackets++;
      }
    };
    let gateOpen = opts.gate === undefined;
    const held: Array<[Buffer, dgram.RemoteInfo]> = [];
    onMessage = (msg, r) => {
      if (gateOpen) return handle(msg, r);
      clearTimeout(timer);
      if (held.push([msg, r]) === 1) {
        void opts.gate!.finally(() => {
          gateOpen = true;
          for (const [m, from] of held.splice(0)) handle(m, from);
        });
      }
    };
    sock.on('message', onMessage);
    send(last, lastTo);
    arm();
  });

  clearTimeout(timer);
  clearTimeout(deadline);
  if (onMessage) sock.off('message', onMessage);
  if (own) {
    const linger = opts.lingerMs ?? 0;
    if (result.ok && linger > 0 && peer) {
      // Dally like TCP's TIME_WAIT: if our last ACK was lost the server resends its last DATA,
      // and a closed port would be handed to the next socket, which would then receive it.
      const finalPeer = peer;
      const finalAck = encodeAck(lastBlock);
      sock.on('message', (msg, r) => {
        if (r.port === finalPeer.port && r.address === finalPeer.address && msg.readUInt16BE(0) === 3)
          sock.send(finalAck, r.port, r.address, () => {});
      });
      sock.unref();
      setTimeout(() => sock.close(), linger).unref();
    } else await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
  const base = { name: opts.name, ms: performance.now() - started, oack, ...c };
  if (!result.ok) return { ...base, ...result };
  if (peer) opts.finishedTransfers?.set(`${peer.address}|${peer.port}`, lastBlock);
  return {
    ...base,
    ok: true,
    sha256: hash.digest('hex'),
    ...(opts.keepData !== false ? { data: Buffer.concat(chunks) } : {}),
  };
}
