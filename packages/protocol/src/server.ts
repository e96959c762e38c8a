/**
 * The TFTP server's coordinator: it routes each datagram of a listening socket, asks admission
 * and starts the transfer. Its rooms: server-options, server-listeners, admission (pure
 * decisions), transfer-setup, transfer-socket, transfer-end, session-table (see
 * docs/architecture.md). Sessions do the protocol; these rooms do the I/O around them.
 */
import type dgram from 'node:dgram';
import { admitRequest, isRequestOpcode, knownPeerAction, malformedRequestCode } from './admission.js';
import {
  AbortedError,
  ClosedError,
  InvalidArgumentError,
  type MalformedPacketError,
  wireErrorOf,
} from './errors.js';
import { type ListeningAddress, type RequestInfo, type TftpServerEvents, TypedEmitter } from './events.js';
import { type InheritedListenSocket, parseListenAddress } from './listen-address.js';
import { decodePacket, encodeError, Opcode, type Packet, type RequestPacket } from './packet.js';
import { PortPool } from './port-pool.js';
import { SourceRateLimiter } from './rate-limit.js';
import { ReadSession } from './read-session.js';
import { SendBudget } from './send-budget.js';
import { bindListener, type Listener, ListenerSet, toRemote } from './server-listeners.js';
import {
  type LiveServerOptions,
  type ResolvedOptions,
  rateOf,
  reconfigured,
  resolveOptions,
  type TftpServerOptions,
} from './server-options.js';
import { abortRecordSignal, newRecord, SessionTable } from './session-table.js';
import { StrayReplyLimiter } from './stray-limit.js';
import { abortRecord, refuseRecord, removeRecord, type TransferHost } from './transfer-end.js';
import { runTransfer } from './transfer-setup.js';
import { UNKNOWN_TID } from './transfer-socket.js';
import { sendQuietly } from './transport.js';

export {
  type DatagramSocketFactory,
  type LiveServerOptions,
  SOURCE_LIMIT_DEFAULTS,
  type TftpServerOptions,
} from './server-options.js';

/**
 * A TFTP server (RFC 1350, 2347, 2348, 2349, 7440) on one or more addresses, IPv4 and IPv6.
 * `C` is the type of the `context` its handlers' results carry back on the transfer events.
 *
 * @example
 * ```ts
 * import { createServer, FileNotFoundError } from '@ptftp/protocol';
 *
 * const files = new Map([['SEP001122334455.cnf.xml', Buffer.from('<device/>')]]);
 * const server = createServer({
 *   handler: ({ filename }) => {
 *     const data = files.get(filename);
 *     if (!data) throw new FileNotFoundError(filename);
 *     return { data, context: { asked: Date.now() } };
 *   },
 * });
 * server.on('transferComplete', (s) => console.log(s.filename, s.bytes, s.context?.asked));
 * await server.listen(['127.0.0.1:6969', '[::1]:6969']);
 * // ...
 * await server.close({ graceMs: 5000 });
 * ```
 */
export class TftpServer<C = unknown> extends TypedEmitter<TftpServerEvents<C>> {
  private opts: TftpServerOptions<C>;
  private config: ResolvedOptions;
  private readonly table = new SessionTable();
  private readonly limiter: SourceRateLimiter;
  private readonly strays = new StrayReplyLimiter();
  private readonly sockets: ListenerSet;
  /** What the transfer rooms use of this server. */
  private readonly host: TransferHost;
  private closing: Promise<void> | undefined;

  constructor(opts: TftpServerOptions<C>) {
    super();
    this.config = resolveOptions(opts);
    this.opts = opts;
    const { rate, burst } = rateOf(opts);
    this.limiter = new SourceRateLimiter(rate, burst);
    this.sockets = new ListenerSet({
      bind: (spec, all) =>
        bindListener(spec, all, this.config, (l, msg, rinfo) => this.onListenerMessage(l, msg, rinfo)),
      holds: (l) => this.table.holds(l, this.config.single),
      closing: () => this.closing !== undefined,
    });
    const server = this;
    this.host = {
      // Read when used: configure() replaces the settings, not the sockets' (ports, buffers).
      get config() {
        return server.config;
      },
      get opts() {
        return server.opts as TftpServerOptions;
      },
      pool: new PortPool(this.config.range, this.config.createSocket),
      budget: this.config.sendBudget && new SendBudget(this.config.sendBudget),
      strays: this.strays,
      table: this.table,
      sockets: this.sockets,
      malformed: (err, remote) => this.emit('malformedPacket', err, remote),
      emit: (event, ...args) => this.emit(event, ...(args as never)),
    };
  }

  /**
   * Replace the limits, timers and option policy while the server runs. Transfers that start
   * afterwards get the new values; running ones finish under those they started with. A key
   * left out returns to its default. Socket settings (`ports`, buffer sizes, `createSocket`)
   * and the handlers stay as constructed. Invalid values throw InvalidArgumentError and change
   * nothing.
   *
   * @example
   * ```ts
   * server.configure({ maxSessions: 4096, retransmitTimeoutMs: 2000 });
   * ```
   */
  configure(live: LiveServerOptions): void {
    if (this.closing) throw new ClosedError('server is closed');
    const next = reconfigured(this.opts, live);
    this.config = next.config;
    this.opts = next.opts;
    // Sources keep their token buckets: a reload must not refill every bucket.
    this.limiter.reconfigure(next.rate.rate, next.rate.burst);
  }

  /** Addresses bound so far. */
  get addresses(): ListeningAddress[] {
    return this.sockets.addresses();
  }

  /** Transfers running (including a write's short dally after its last ACK). */
  get activeSessions(): number {
    return this.table.size;
  }

  /**
   * Bind the listening sockets. `[::]` is dual stack unless `0.0.0.0` is also asked for on the
   * same port. Port 0 picks a free port; read the result for it. On a failure nothing stays bound.
   */
  async listen(
    addresses: Array<string | { address: string; port: number } | InheritedListenSocket>,
  ): Promise<ListeningAddress[]> {
    if (this.closing) throw new ClosedError('server is closed');
    if (!Array.isArray(addresses) || addresses.length === 0)
      throw new InvalidArgumentError('addresses', 'at least one listening address is required');
    const listening = await this.sockets.open(addresses.map(parseListenAddress));
    for (const l of listening) this.emit('listening', { ...l.bound });
    return listening.map((l) => ({ ...l.bound }));
  }

  /**
   * Stop listening on one bound address (as `addresses` reports it; the other addresses stay).
   * Transfers already running continue: with a port per transfer they have sockets of their
   * own; in single-port mode the socket stays open, taking no new request, until they end.
   * Resolves false when no such address is bound.
   *
   * @example
   * ```ts
   * const [old] = server.addresses;
   * await server.listen(['10.1.1.20:69']);
   * server.unlisten(old); // phones asking the old address now get ICMP port unreachable
   * ```
   */
  unlisten(address: { address: string; port: number }): boolean {
    return this.sockets.unlisten(address);
  }

  /**
   * Stop accepting requests, let running transfers finish for up to `graceMs` (default 0), then
   * abort the rest (their peers get ERROR 0) and release every socket.
   */
  close(opts: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(opts.graceMs ?? 0);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    // In single-port mode the listening sockets carry the running transfers.
    if (!this.config.single) this.sockets.closeAll();
    if (this.table.size > 0 && graceMs > 0) await this.table.drained(graceMs);
    for (const record of this.table.snapshot())
      abortRecord(this.host, record, new ClosedError('server closed'));
    this.sockets.closeAll();
    this.emit('close');
  }

  private onListenerMessage(listener: Listener, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = (packet: Buffer) => sendQuietly(listener.socket, packet, rinfo.port, rinfo.address);
    const existing = this.table.lookup(listener, rinfo.address, rinfo.port);
    // Unlistened: only the transfers still running on this socket are answered; no request
    // (not even a new one from a port with a running transfer) starts anything here.
    if (listener.draining && (existing === undefined || isRequestOpcode(msg))) return;
    let packet: Packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      const malformed = err as MalformedPacketError;
      const remote = toRemote(rinfo);
      this.emit('malformedPacket', malformed, remote);
      if (existing === undefined && isRequestOpcode(msg) && this.limiter.take(remote.address)) {
        // A request we cannot parse is refused, not ignored (admission.ts says with which code).
        reply(encodeError(malformedRequestCode(malformed), `malformed request: ${malformed.message}`));
      }
      return;
    }
    if (existing !== undefined) {
      const started = existing.session !== undefined;
      const { single } = this.config;
      const action = knownPeerAction(packet, existing.info.filename, existing.opcode, started, single);
      if (action === 'repeat') {
        // A repeated request is the peer asking again: it raises what may be resent before its
        // first ACK, so a lost OACK is answered while a spoofed source still gets <= 1x.
        existing.requestBytes += rinfo.size;
        if (existing.session instanceof ReadSession)
          existing.session.allowRequestBytes(existing.requestBytes);
      }
      if (action === 'repeat' || action === 'transfer') {
        // Single-port mode demultiplexes here; otherwise this is a retransmitted request, and a
        // second session for the same client port would double the traffic.
        if (this.config.single) {
          this.host.budget?.received(rinfo.address);
          existing.session?.handle(packet);
        }
        return;
      }
      if (action === 'drop-waiting') {
        abortRecordSignal(existing, new AbortedError('another request came from the same port'));
        removeRecord(this.host, existing);
      } else if (action === 'supersede') existing.session?.supersede();
    }
    switch (packet.opcode) {
      case Opcode.RRQ:
      case Opcode.WRQ:
        this.onRequest(listener, packet, rinfo);
        return;
      case Opcode.ERROR:
        // Never answer an ERROR: two servers could bounce errors forever.
        return;
      default:
        // A stray ACK/DATA/OACK: rationed (see stray-limit.ts), never one reply per packet.
        if (this.strays.allow(rinfo.address)) reply(UNKNOWN_TID);
    }
  }

  private onRequest(listener: Listener, req: RequestPacket, rinfo: dgram.RemoteInfo): void {
    const remote = toRemote(rinfo);
    const opcode = req.opcode === Opcode.RRQ ? 'RRQ' : 'WRQ';
    const info: RequestInfo = {
      filename: req.filename,
      mode: req.mode,
      options: req.options,
      remote,
      opcode,
    };
    this.emit('request', info);
    const closing = this.closing !== undefined;
    const admission = admitRequest({
      opcode,
      mode: req.mode,
      filename: req.filename,
      source: remote.address,
      closing,
      // No token is spent on a request a closing server refuses anyway.
      withinRate: !closing && this.limiter.take(remote.address),
      writable: this.opts.writeHandler !== undefined,
      sessions: this.table.size,
      maxSessions: this.config.maxSessions,
      fromSource: this.table.fromSource(remote.address),
      maxSessionsPerSource: this.config.maxSessionsPerSource,
    });
    if (!admission.admit) {
      const err = admission.error;
      if (admission.answer) {
        const wire = wireErrorOf(err);
        sendQuietly(listener.socket, encodeError(wire.code, wire.message), rinfo.port, rinfo.address);
      }
      this.emit('requestRefused', err, info);
      return;
    }
    const record = newRecord(listener, rinfo, remote, info, req.opcode);
    this.table.add(record);
    runTransfer(this.host, record, req).catch((err: unknown) =>
      refuseRecord(this.host, record, err, 'transfer setup'),
    );
  }
}

/**
 * Create a {@link TftpServer}; call `listen()` to start it.
 *
 * @example
 * ```ts
 * import { createFsHandler, createServer } from '@ptftp/protocol';
 *
 * const server = createServer({ handler: createFsHandler('/srv/tftp'), maxBlksize: 1468 });
 * const [addr] = await server.listen(['[::]:6969']);
 * console.log(`TFTP on port ${addr.port}`);
 * ```
 */
export function createServer<C = unknown>(opts: TftpServerOptions<C>): TftpServer<C> {
  return new TftpServer<C>(opts);
}
