/**
 * What every client transfer shares: one UDP socket per transfer, the server's transfer ID,
 * the retransmit timer, the deadline, cancellation, and closing everything exactly once.
 * Subclasses (client-read.ts, client-write.ts) see typed packets only.
 */
import dgram from 'node:dgram';
import { isIP, SocketAddress } from 'node:net';
import type { ResolvedOptions } from './client-options.js';
import {
  AbortedError,
  AccessViolationError,
  FileNotFoundError,
  InvalidArgumentError,
  type PtftpError,
  TftpErrorCode,
  TftpRemoteError,
  TimeoutError,
} from './errors.js';
import { decodePacket, type ErrorPacket, encodeError, Opcode, type Packet } from './packet.js';

/** Bigger than any window we ask for, so a window at 8192 x 16 does not overflow the kernel queue. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * dgram resolves the destination of every send, by default through dns.lookup and a deferred
 * callback; we only ever send to the IP literal resolved in open(), so answer at once and save
 * a tick on every ACK (it shows in lockstep, where each ACK gates the next block).
 */
function literalLookup(
  hostname: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, hostname, isIP(hostname));
}

/**
 * The textual form Node gives `rinfo.address` for an IPv6 sender: both come from inet_ntop, so
 * answers can be matched by string. (node:net rather than ipaddr.js keeps the engine free of
 * a CommonJS dependency that costs every ESM user ~8 MiB of memory.)
 */
function canonicalIPv6(host: string): string {
  return new SocketAddress({ address: host, family: 'ipv6' }).address;
}

/** Map a server's ERROR packet to the typed error callers narrow on. */
export function remoteError(filename: string, p: ErrorPacket): PtftpError {
  const said = p.message ? ` (server: ${p.message})` : '';
  switch (p.errorCode) {
    case TftpErrorCode.FileNotFound:
      return new FileNotFoundError(filename, `file not found: ${filename}${said}`);
    case TftpErrorCode.AccessViolation:
      return new AccessViolationError(filename, `access violation: ${filename}${said}`);
    default:
      return new TftpRemoteError(p.errorCode, p.message);
  }
}

export abstract class ClientSession {
  protected readonly o: ResolvedOptions;
  protected readonly filename: string;
  /** The host as the caller wrote it, for messages. */
  protected readonly host: string;
  /** The port requests go to (69 by default). */
  protected readonly port: number;
  /** The server's address once resolved; answers must come from it. */
  protected address = '';
  /** The server's transfer port, fixed by its first answer (RFC 1350 §4). */
  protected tid: number | undefined;
  /** Retransmissions this transfer made (requests, ACKs or DATA), for diagnostics. */
  retransmissions = 0;
  protected closed = false;

  #socket: dgram.Socket | undefined;
  /**
   * A second socket on the same local port, connected to the request port, that carries the
   * requests until the server answers: a connected UDP socket hears the ICMP "port unreachable"
   * of a closed port as ECONNREFUSED, so a request to nothing fails at once instead of after
   * every retry. Answers come from the server's own transfer port, which only the main socket
   * (unconnected) receives.
   */
  #probe: dgram.Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #lastActivity = 0;
  #tries = 0;

  constructor(target: { host: string; port: number }, filename: string, o: ResolvedOptions) {
    this.host = target.host;
    this.port = target.port;
    this.filename = filename;
    this.o = o;
  }

  /** Resolve the server, bind the socket, arm cancellation. Rejects with a typed error. */
  async open(): Promise<void> {
    if (this.o.signal?.aborted) throw new AbortedError('transfer aborted before it started');
    if (isIP(this.host)) {
      // Node reports senders in the RFC 5952 form; compare like with like.
      this.address = isIP(this.host) === 6 ? canonicalIPv6(this.host) : this.host;
    } else {
      try {
        // Loaded only for a host name: an IP literal (the usual case) never pays for node:dns.
        const { lookup } = await import('node:dns/promises');
        this.address = (await lookup(this.host)).address;
      } catch (err) {
        throw new InvalidArgumentError(
          'host',
          `cannot resolve "${this.host}": ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
    }
    const type = isIP(this.address) === 6 ? 'udp6' : 'udp4';
    // reuseAddr lets the probe share the port (only when asked for: two reuse sockets can be
    // given the same port 0, so concurrent transfers keep ports of their own).
    const probing = this.o.detectClosedPort;
    const socket = dgram.createSocket({ type, lookup: literalLookup, reuseAddr: probing });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // exclusive: bound by this process even in a cluster worker (see port-pool.ts).
        socket.bind({ port: 0, address: this.o.localAddress, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw new InvalidArgumentError(
        'localAddress',
        `cannot bind ${this.o.localAddress ?? 'a UDP socket'}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // The kernel caps it at net.core.rmem_max; a smaller queue only costs retransmissions.
    }
    if (this.o.signal?.aborted) {
      socket.close();
      throw new AbortedError('transfer aborted before it started');
    }
    socket.on('message', this.#onMessage);
    socket.on('error', this.#onSocketError);
    this.#socket = socket;
    if (probing) this.#probe = await this.#openProbe(type, socket.address().port);
    this.o.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.o.deadlineMs !== undefined) this.#deadline = setTimeout(this.#onDeadline, this.o.deadlineMs);
  }

  /** The connected twin of the main socket (see #probe); undefined where it cannot be made. */
  async #openProbe(type: 'udp4' | 'udp6', port: number): Promise<dgram.Socket | undefined> {
    const probe = dgram.createSocket({ type, lookup: literalLookup, reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind({ port, address: this.o.localAddress, exclusive: true }, () => {
          probe.connect(this.port, this.address, () => {
            probe.off('error', reject);
            resolve();
          });
        });
      });
    } catch {
      probe.close();
      return undefined;
    }
    probe.on('message', this.#onMessage);
    probe.on('error', this.#onProbeError);
    return probe;
  }

  /** The server answered: its transfer port is known and the probe has done its job. */
  #closeProbe(): void {
    const probe = this.#probe;
    if (!probe) return;
    this.#probe = undefined;
    probe.off('message', this.#onMessage);
    probe.off('error', this.#onProbeError);
    // A late ICMP error must not crash the process.
    probe.on('error', () => {});
    probe.close();
  }

  #onProbeError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'ECONNREFUSED') {
      this.fail(
        new TimeoutError(
          `cannot reach ${this.host}:${this.port}: ECONNREFUSED (no TFTP server listens there)`,
        ),
      );
      return;
    }
    // Anything else: leave the requests to the main socket and its retries.
    this.#closeProbe();
  };

  /** One handler per packet type lives in the subclass; `port` is the sender's port. */
  protected abstract onPacket(p: Packet, port: number): void;
  /** Resend what the peer has not answered (request, last ACK, last DATA). */
  protected abstract retransmit(): void;
  /** Called exactly once, after the socket is closed: `err` undefined means success. */
  protected abstract settle(err: Error | undefined): void;
  /** Text for TimeoutError when the retry budget runs out. */
  protected abstract describeSilence(): string;

  /** Send to the server's transfer port (or the request port before it answered). */
  protected send(buf: Buffer): void {
    this.#socket?.send(buf, this.tid ?? this.port, this.address);
  }

  /** Send a request again from scratch: forget the transfer port of an earlier answer. */
  protected sendRequest(buf: Buffer): void {
    this.tid = undefined;
    if (this.#probe) this.#probe.send(buf);
    else this.#socket?.send(buf, this.port, this.address);
  }

  /** The peer made progress: restart the retransmit budget. Cheap enough for every packet. */
  protected touch(): void {
    this.#lastActivity = Date.now();
    this.#tries = 0;
    if (this.#timer === undefined && !this.closed) this.#armTimer(this.o.retransmitTimeoutMs);
  }

  /** Stop retransmitting while we deliberately hold an ACK back (stream backpressure). */
  protected pauseTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Succeed: send `last` (the final ACK or nothing), then close. */
  protected finish(last?: Buffer): void {
    this.#close(last, undefined);
  }

  /** Fail with `err`; `toPeer` (an ERROR packet) goes to the server first if it has a TID. */
  protected fail(err: Error, toPeer?: Buffer): void {
    this.#close(this.tid !== undefined ? toPeer : undefined, err);
  }

  /** Cancel from outside (e.g. a destroyed stream): ERROR 0 to the server, AbortedError. */
  cancel(reason = 'transfer aborted'): void {
    if (this.closed) return;
    this.fail(new AbortedError(reason), encodeError(TftpErrorCode.NotDefined, reason));
  }

  #armTimer(ms: number): void {
    // One timer per transfer, re-armed lazily: packets only stamp #lastActivity, so the hot
    // path never touches the timer list.
    this.#timer = setTimeout(this.#onTimer, ms);
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    if (this.closed) return;
    const rto = this.o.retransmitTimeoutMs;
    const idle = Date.now() - this.#lastActivity;
    if (idle < rto) {
      this.#armTimer(rto - idle);
      return;
    }
    if (this.#tries >= this.o.retries) {
      this.fail(new TimeoutError(this.describeSilence()), encodeError(TftpErrorCode.NotDefined, 'timed out'));
      return;
    }
    this.#tries++;
    this.retransmissions++;
    this.#lastActivity = Date.now();
    this.retransmit();
    this.#armTimer(rto);
  };

  #onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.closed) return;
    let p: Packet;
    try {
      p = decodePacket(msg);
    } catch {
      return; // Garbage never ends a transfer: the retransmit timer covers a lost packet.
    }
    if (rinfo.address !== this.address) return; // Not our server at all: stay silent.
    this.#closeProbe();
    if (this.tid !== undefined && rinfo.port !== this.tid) {
      // RFC 1350 §4: a packet from another port is a stranger's; tell it, keep our transfer.
      if (p.opcode !== Opcode.ERROR)
        this.#socket?.send(
          encodeError(TftpErrorCode.UnknownTransferId, 'unknown transfer ID'),
          rinfo.port,
          rinfo.address,
        );
      return;
    }
    this.onPacket(p, rinfo.port);
  };

  #onSocketError = (err: NodeJS.ErrnoException): void => {
    // Unreachable networks and the like: for the caller this is "server unreachable".
    this.fail(new TimeoutError(`cannot reach ${this.host}:${this.port}: ${err.code ?? err.message}`));
  };

  #onAbort = (): void => {
    this.cancel('transfer aborted');
  };

  #onDeadline = (): void => {
    this.#deadline = undefined;
    this.fail(
      new TimeoutError(`deadline of ${this.o.deadlineMs} ms exceeded for "${this.filename}"`),
      encodeError(TftpErrorCode.NotDefined, 'deadline exceeded'),
    );
  };

  #close(last: Buffer | undefined, err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.o.signal?.removeEventListener('abort', this.#onAbort);
    this.#closeProbe();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      socket.off('message', this.#onMessage);
      // Keep an error listener: a late ICMP error must not crash the process.
      socket.off('error', this.#onSocketError);
      socket.on('error', () => {});
      if (last && this.tid !== undefined) socket.send(last, this.tid, this.address, () => socket.close());
      else socket.close();
    }
    this.settle(err);
  }
}
