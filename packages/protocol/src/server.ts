/**
 * The TFTP server: listening sockets, request admission (limits, rate, duplicates), the
 * handler call, and one session per transfer on its own port (or demultiplexed on the listening
 * socket in single-port mode). Sessions do the protocol; this file does the I/O around them.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type * as TypedEmitterModule from 'typed-emitter';
import { prepareContent, toBlockSource } from './block-source.js';
import { isContent } from './content.js';
import {
  AbortedError,
  AccessViolationError,
  ClosedError,
  InvalidArgumentError,
  isPtftpError,
  LimitError,
  type MalformedPacketError,
  ProtocolError,
  type PtftpError,
  TftpErrorCode,
  wireErrorOf,
} from './errors.js';
import type { ListeningAddress, RequestInfo, TftpServerEvents, TransferInfo } from './events.js';
import type {
  LocalInfo,
  ReadHandler,
  ReadRequest,
  RemoteInfo,
  WriteHandler,
  WriteRequest,
} from './handler.js';
import { type InheritedListenSocket, type ListenSpec, parseListenAddress } from './listen-address.js';
import {
  BLKSIZE_MAX,
  BLKSIZE_MIN,
  type NegotiatedOptions,
  negotiateOptions,
  type OptionLimits,
  type OptionPolicyResult,
  WINDOWSIZE_MAX,
} from './options.js';
import {
  decodePacket,
  encodeError,
  Opcode,
  type Packet,
  type RequestPacket,
  type TftpOptions,
} from './packet.js';
import { PortPool } from './port-pool.js';
import { SourceRateLimiter } from './rate-limit.js';
import { ReadSession } from './read-session.js';
import { BudgetedTransport, SendBudget, type SendBudgetOptions } from './send-budget.js';
import type { SessionCounters, SessionObserver, SessionTiming } from './session-config.js';
import { StrayReplyLimiter } from './stray-limit.js';
import { literalLookup, SocketTransport, sendQuietly, type Transport } from './transport.js';
import { WriteSession } from './write-session.js';

/** Settings of a {@link TftpServer}. Every number has a default; see docs/packages/protocol.md. */
export interface TftpServerOptions {
  /** Produces the content of each requested file. */
  handler: ReadHandler;
  /** Accepts uploads; without it every WRQ gets ERROR 2. */
  writeHandler?: WriteHandler | undefined;
  /** Ceiling for blksize (default 8192; 1468 fits one Ethernet frame). */
  maxBlksize?: number;
  /** Ceiling for windowsize in blocks (default 64). */
  maxWindowsize?: number;
  /**
   * Ceiling for one window in bytes (default 64 KiB): windowsize <= floor(this / blksize). A
   * window must fit the client's socket receive buffer (Linux default ~208 KiB of which a
   * datagram's overhead takes a large share): atftp at blksize 8192 x windowsize 16 stalls on
   * drops with any server, at 8 blocks it runs at full speed.
   */
  maxWindowBytes?: number;
  /** Block number after 65535 unless the client asks with `rollover` (default 0). */
  rollover?: 0 | 1;
  /** Retransmit timeout when the client sends no `timeout` option (default 1000 ms). */
  retransmitTimeoutMs?: number;
  /** Retransmissions in a row without progress before a transfer fails (default 5). */
  retries?: number;
  /** Time without progress before a transfer fails, whatever the client's timeout (default 30 s). */
  inactivityTimeoutMs?: number;
  /** Whole-transfer deadline (default none). */
  transferDeadlineMs?: number | undefined;
  /** Retransmissions before the peer's first answer: bounds reflection (default 2). */
  firstAckRetries?: number;
  /**
   * Before the peer's first ACK, an OACK and its resends total at most this many bytes per
   * byte of request received from that peer (default 1: a spoofed source gets no more than it
   * sent). Repeated requests from the peer raise the allowance; the first OACK always goes out.
   * Without options the answer is DATA 1, bounded by `firstAckRetries` only.
   */
  maxAmplification?: number;
  /** A port per transfer (default), every transfer on the listening port, or a port range. */
  ports?: 'per-transfer' | 'single' | { from: number; to: number };
  /** Concurrent transfers, all sources (default 2048). */
  maxSessions?: number;
  /**
   * Concurrent transfers per source address (default 128). A site of phones behind one NAT
   * address shares it: 128 is a few files in flight for each of 50+ phones booting at once.
   */
  maxSessionsPerSource?: number;
  /**
   * New transfers per second per source address; beyond the burst they are dropped silently
   * (default 50: a NATed site of 100 phones booting together asks ~10 files/s each second).
   * `Infinity` turns it off.
   */
  newSessionsPerSecondPerSource?: number;
  /** Token-bucket size for new transfers per source (default 2 × rate, i.e. 100). */
  burstPerSource?: number;
  /**
   * Per-destination send budget (see send-budget.ts). On by default in single-port and
   * port-range mode, where a blind attacker can reach a transfer with forged ACKs: an address
   * that never sends gets at most `initial` (4) datagrams, and each datagram it sends earns
   * `perReceived` (1) more, so windowsize is capped at `perReceived` there. Bytes delivered ÷
   * bytes forged stay within `perReceived × (blksize + 4) / 4`. Off in per-transfer mode, where
   * the transfer port is the secret; `false` turns it off.
   */
  sendBudget?: SendBudgetOptions | false;
  /** Refuse or clamp options per client. */
  optionPolicy?: (remote: RemoteInfo, requested: Readonly<TftpOptions>) => OptionPolicyResult | undefined;
  /** SO_RCVBUF of listening sockets (default 4 MiB; the kernel caps it at net.core.rmem_max). */
  recvBufferSize?: number;
  /** SO_SNDBUF of listening and transfer sockets (default: the OS default). */
  sendBufferSize?: number;
}

interface ResolvedOptions {
  readonly limits: OptionLimits;
  readonly rollover: 0 | 1;
  readonly timing: SessionTiming;
  readonly single: boolean;
  readonly range: { from: number; to: number } | undefined;
  readonly maxSessions: number;
  readonly maxSessionsPerSource: number;
  readonly recvBufferSize: number;
  readonly sendBufferSize: number | undefined;
  readonly sendBudget: SendBudgetOptions | undefined;
}

/** Defaults of the per-source limits (docs/packages/protocol.md explains the choice). */
export const SOURCE_LIMIT_DEFAULTS = {
  maxSessionsPerSource: 128,
  newSessionsPerSecondPerSource: 50,
  burstPerSource: 100,
} as const;

interface Listener {
  readonly socket: dgram.Socket;
  readonly type: 'udp4' | 'udp6';
  readonly ipv6Only: boolean;
  readonly bound: ListeningAddress;
  /** Transfers started from this socket, by peer address then port. */
  readonly sessions: Map<string, Map<number, SessionRecord>>;
  closed: boolean;
  /** Unlistened: takes no new request; closed once nothing running needs it (see closeIfDrained). */
  draining: boolean;
}

/** Destroy the stream of a handler's result, if it has one. */
/** Give back what a read handler handed over: destroy its stream, release its content. */
function releaseResult(result: unknown): void {
  const stream = (result as { stream?: { destroy?: () => void } } | null)?.stream;
  if (typeof stream?.destroy === 'function') stream.destroy();
  const content = (result as { content?: unknown } | null)?.content;
  if (isContent(content)) content.release();
}

/**
 * An IPv6 listening socket is dual stack only for `[::]` with no `0.0.0.0` on its port. An
 * inherited socket keeps the IPV6_V6ONLY its parent chose; mapped IPv4 peers are handled either way.
 */
function wantsIpv6Only(spec: ListenSpec, all: readonly ListenSpec[]): boolean {
  if (spec.family !== 'IPv6' || spec.fd !== undefined) return false;
  return !(spec.address === '::' && !all.some((s) => s.address === '0.0.0.0' && s.port === spec.port));
}

/** The signal a handler sees: made on first use, already aborted if the transfer ended first. */
function recordSignal(record: SessionRecord): AbortSignal {
  if (record.controller === undefined) {
    record.controller = new AbortController();
    if (record.abortReason !== undefined) record.controller.abort(record.abortReason);
  }
  return record.controller.signal;
}

function abortRecordSignal(record: SessionRecord, reason: unknown): void {
  record.abortReason ??= reason;
  record.controller?.abort(reason);
}

interface SessionRecord {
  readonly listener: Listener;
  readonly wireAddress: string;
  readonly wirePort: number;
  readonly remote: RemoteInfo;
  readonly info: RequestInfo;
  readonly opcode: RequestPacket['opcode'];
  /** Created when the handler first reads `signal`: an AbortSignal costs about 1 KiB. */
  controller: AbortController | undefined;
  /** Why the transfer ended early, kept for a `signal` read after the fact. */
  abortReason: unknown;
  readonly startedAt: number;
  session: ReadSession | WriteSession | undefined;
  socket: dgram.Socket | undefined;
  transport: Transport | undefined;
  localPort: number;
  granted: TftpOptions;
  ended: boolean;
  /** Bytes of this request the peer sent, repeats included: its reflection allowance. */
  requestBytes: number;
}

const UNKNOWN_TID = encodeError(TftpErrorCode.UnknownTransferId, 'unknown transfer ID');
const ignore = (): void => {};

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min)
    throw new InvalidArgumentError(name, `${value} is not a number >= ${min}`);
  return value;
}

function resolveOptions(opts: TftpServerOptions): ResolvedOptions {
  if (typeof opts?.handler !== 'function')
    throw new InvalidArgumentError('handler', 'a read handler is required');
  const maxBlksize = Math.min(BLKSIZE_MAX, positive('maxBlksize', opts.maxBlksize, 8192, BLKSIZE_MIN));
  let maxWindowsize = Math.min(WINDOWSIZE_MAX, positive('maxWindowsize', opts.maxWindowsize, 64));
  const maxWindowBytes = positive('maxWindowBytes', opts.maxWindowBytes, 64 * 1024, BLKSIZE_MIN);
  const ports = opts.ports ?? 'per-transfer';
  const sendBudget =
    opts.sendBudget === false || ports === 'per-transfer' ? undefined : (opts.sendBudget ?? {});
  // A window wider than what one ACK earns would only be cut short by the budget.
  if (sendBudget !== undefined)
    maxWindowsize = Math.min(maxWindowsize, Math.max(1, new SendBudget(sendBudget).perReceived));
  let range: { from: number; to: number } | undefined;
  if (typeof ports === 'object') {
    const { from, to } = ports;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > 65535 || from > to)
      throw new InvalidArgumentError('ports', `range ${from}-${to} is not within 1..65535 with from <= to`);
    range = { from, to };
  } else if (ports !== 'per-transfer' && ports !== 'single') {
    throw new InvalidArgumentError('ports', `"${String(ports)}" is not 'per-transfer', 'single' or a range`);
  }
  if (opts.rollover !== undefined && opts.rollover !== 0 && opts.rollover !== 1)
    throw new InvalidArgumentError('rollover', `${String(opts.rollover)} is not 0 or 1`);
  return {
    limits: { maxBlksize, maxWindowsize, maxWindowBytes },
    rollover: opts.rollover ?? 0,
    timing: {
      retransmitTimeoutMs: positive('retransmitTimeoutMs', opts.retransmitTimeoutMs, 1000),
      retries: positive('retries', opts.retries, 5, 0),
      firstAckRetries: positive('firstAckRetries', opts.firstAckRetries, 2, 0),
      maxAmplification: positive('maxAmplification', opts.maxAmplification, 1, 0),
      inactivityTimeoutMs: positive('inactivityTimeoutMs', opts.inactivityTimeoutMs, 30_000),
      transferDeadlineMs:
        opts.transferDeadlineMs === undefined
          ? undefined
          : positive('transferDeadlineMs', opts.transferDeadlineMs, 0),
    },
    single: ports === 'single',
    range,
    maxSessions: positive('maxSessions', opts.maxSessions, 2048),
    maxSessionsPerSource: positive(
      'maxSessionsPerSource',
      opts.maxSessionsPerSource,
      SOURCE_LIMIT_DEFAULTS.maxSessionsPerSource,
    ),
    recvBufferSize: positive('recvBufferSize', opts.recvBufferSize, 4 << 20),
    sendBufferSize:
      opts.sendBufferSize === undefined ? undefined : positive('sendBufferSize', opts.sendBufferSize, 0),
    sendBudget,
  };
}

/** The options {@link TftpServer.configure} changes on a running server. */
export type LiveServerOptions = Omit<
  TftpServerOptions,
  'handler' | 'writeHandler' | 'ports' | 'recvBufferSize' | 'sendBufferSize' | 'sendBudget'
>;

const LIVE_OPTION_KEYS = new Set<keyof LiveServerOptions>([
  'maxBlksize',
  'maxWindowsize',
  'maxWindowBytes',
  'rollover',
  'retransmitTimeoutMs',
  'retries',
  'inactivityTimeoutMs',
  'transferDeadlineMs',
  'firstAckRetries',
  'maxAmplification',
  'maxSessions',
  'maxSessionsPerSource',
  'newSessionsPerSecondPerSource',
  'burstPerSource',
  'optionPolicy',
]);

function rateOf(opts: TftpServerOptions): { rate: number; burst: number } {
  const rate = positive(
    'newSessionsPerSecondPerSource',
    opts.newSessionsPerSecondPerSource,
    SOURCE_LIMIT_DEFAULTS.newSessionsPerSecondPerSource,
    0,
  );
  const burst = positive(
    'burstPerSource',
    opts.burstPerSource,
    opts.newSessionsPerSecondPerSource === undefined
      ? SOURCE_LIMIT_DEFAULTS.burstPerSource
      : Math.max(1, Number.isFinite(rate) ? 2 * rate : 1),
  );
  return { rate, burst };
}

/** A transfer's timers: the server's, with the client's `timeout` option as retransmit timeout. */
function timingFor(config: ResolvedOptions, n: NegotiatedOptions): SessionTiming {
  const t = config.timing;
  return n.timeoutMs === undefined ? t : { ...t, retransmitTimeoutMs: n.timeoutMs };
}

function isRequestOpcode(msg: Buffer): boolean {
  return msg.length >= 2 && msg[0] === 0 && (msg[1] === Opcode.RRQ || msg[1] === Opcode.WRQ);
}

/** IPv4 peers of a dual-stack socket arrive as ::ffff:a.b.c.d; report them as IPv4. */
function toRemote(rinfo: dgram.RemoteInfo): RemoteInfo {
  if (rinfo.family === 'IPv6' && rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.'))
    return { address: rinfo.address.slice(7), port: rinfo.port, family: 'IPv4' };
  return { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/** The ERROR a refused request gets: a PtftpError speaks for itself, anything else stays generic. */
function toWireError(err: unknown, what: string): { error: PtftpError; code: number; message: string } {
  if (isPtftpError(err)) return { error: err as PtftpError, ...wireErrorOf(err) };
  return { error: new AbortedError(`${what} failed`, { cause: err }), code: 0, message: 'internal error' };
}

/**
 * A TFTP server (RFC 1350, 2347, 2348, 2349, 7440) on one or more addresses, IPv4 and IPv6.
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
 *     return data;
 *   },
 * });
 * server.on('transferComplete', (s) => console.log(s.filename, s.bytes));
 * await server.listen(['127.0.0.1:6969', '[::1]:6969']);
 * // ...
 * await server.close({ graceMs: 5000 });
 * ```
 */
export class TftpServer extends (EventEmitter as new () => TypedEmitterModule.default<TftpServerEvents>) {
  private opts: TftpServerOptions;
  private config: ResolvedOptions;
  private readonly bound: Listener[] = [];
  private readonly records = new Set<SessionRecord>();
  private readonly perSource = new Map<string, number>();
  private readonly limiter: SourceRateLimiter;
  private readonly pool: PortPool;
  private readonly strays = new StrayReplyLimiter();
  private readonly budget: SendBudget | undefined;
  private drainWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  constructor(opts: TftpServerOptions) {
    super();
    this.config = resolveOptions(opts);
    this.opts = opts;
    const { rate, burst } = rateOf(opts);
    this.limiter = new SourceRateLimiter(rate, burst);
    this.pool = new PortPool(this.config.range);
    this.budget = this.config.sendBudget && new SendBudget(this.config.sendBudget);
  }

  /**
   * Replace the limits, timers and option policy while the server runs. Transfers that start
   * afterwards get the new values; running ones finish under those they started with. A key
   * left out returns to its default. Socket settings (`ports`, buffer sizes) and the handlers
   * stay as constructed. Invalid values throw InvalidArgumentError and change nothing.
   *
   * @example
   * ```ts
   * server.configure({ maxSessions: 4096, retransmitTimeoutMs: 2000 });
   * ```
   */
  configure(live: LiveServerOptions): void {
    if (this.closing) throw new ClosedError('server is closed');
    if (typeof live !== 'object' || live === null)
      throw new InvalidArgumentError('options', 'an object of server options is required');
    for (const key of Object.keys(live)) {
      if (!LIVE_OPTION_KEYS.has(key as keyof LiveServerOptions))
        throw new InvalidArgumentError(
          key,
          'only limits, timers and the option policy change on a running server',
        );
    }
    const next: TftpServerOptions = {
      handler: this.opts.handler,
      writeHandler: this.opts.writeHandler,
      ports: this.opts.ports,
      recvBufferSize: this.opts.recvBufferSize,
      sendBufferSize: this.opts.sendBufferSize,
      ...live,
    };
    const config = resolveOptions(next);
    const { rate, burst } = rateOf(next);
    this.config = config;
    this.opts = next;
    // Sources keep their token buckets: a reload must not refill every bucket.
    this.limiter.reconfigure(rate, burst);
  }

  /** Addresses bound so far. */
  get addresses(): ListeningAddress[] {
    return this.bound.filter((l) => !l.closed && !l.draining).map((l) => ({ ...l.bound }));
  }

  /** Transfers running (including a write's short dally after its last ACK). */
  get activeSessions(): number {
    return this.records.size;
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
    const specs = addresses.map(parseListenAddress);
    // Sockets bound by earlier calls count for the dual-stack rule too.
    const all = [
      ...specs,
      ...this.addresses.map((a) => ({ address: a.address, port: a.port, family: a.family })),
    ];
    const opened: Listener[] = [];
    const revived: Listener[] = [];
    const result: Listener[] = [];
    try {
      for (const spec of specs) {
        // An address unlistened while its transfers still run keeps its socket: take it back
        // rather than fail to bind the same address (EADDRINUSE).
        const draining = this.drainingListener(spec, all);
        if (draining !== undefined) {
          draining.draining = false;
          revived.push(draining);
          result.push(draining);
          continue;
        }
        const l = await this.bindListener(spec, all);
        opened.push(l);
        result.push(l);
      }
    } catch (err) {
      for (const l of opened) l.socket.close();
      for (const l of revived) {
        l.draining = true;
        this.closeIfDrained(l);
      }
      throw err;
    }
    this.bound.push(...opened);
    // An unlisten() of a taken-back address while later ones were binding wins: it is not reported.
    const listening = result.filter((l) => !l.closed && !l.draining);
    for (const l of listening) this.emit('listening', { ...l.bound });
    return listening.map((l) => ({ ...l.bound }));
  }

  /** The draining socket that `spec` asks for again, if it is bound the way `spec` wants. */
  private drainingListener(spec: ListenSpec, all: readonly ListenSpec[]): Listener | undefined {
    if (spec.fd !== undefined || spec.port === 0) return undefined;
    return this.bound.find(
      (l) =>
        l.draining &&
        !l.closed &&
        l.bound.address === spec.address &&
        l.bound.port === spec.port &&
        l.ipv6Only === wantsIpv6Only(spec, all),
    );
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
    const l = this.bound.find(
      (x) => !x.closed && !x.draining && x.bound.address === address.address && x.bound.port === address.port,
    );
    if (l === undefined) return false;
    l.draining = true;
    this.closeIfDrained(l);
    return true;
  }

  /**
   * Close an unlistened socket once nothing needs it: in single-port mode, when its transfers
   * are over; with a port per transfer, when no request admitted on it still waits for its own
   * socket (a refusal or ERROR for it goes out from here).
   */
  private closeIfDrained(l: Listener): void {
    if (!l.draining || l.closed) return;
    for (const ports of l.sessions.values())
      for (const record of ports.values()) if (this.config.single || record.transport === undefined) return;
    this.closeListener(l);
    // Gone for good: a server rebound many times keeps no trace of its old sockets.
    const i = this.bound.indexOf(l);
    if (i >= 0 && !this.closing) this.bound.splice(i, 1);
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
    if (!this.config.single) for (const l of this.bound) this.closeListener(l);
    if (this.records.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const record of [...this.records]) this.abortRecord(record, new ClosedError('server closed'));
    for (const l of this.bound) this.closeListener(l);
    this.emit('close');
  }

  private closeListener(l: Listener): void {
    if (l.closed) return;
    l.closed = true;
    l.socket.close();
  }

  private async bindListener(spec: ListenSpec, all: readonly ListenSpec[]): Promise<Listener> {
    const type = spec.family === 'IPv6' ? 'udp6' : 'udp4';
    const ipv6Only = wantsIpv6Only(spec, all);
    const socket = dgram.createSocket({
      type,
      ipv6Only,
      lookup: literalLookup as never,
      recvBufferSize: this.config.recvBufferSize,
      ...(this.config.sendBufferSize ? { sendBufferSize: this.config.sendBufferSize } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      const bound = () => {
        socket.off('error', reject);
        resolve();
      };
      if (spec.fd !== undefined) socket.bind({ fd: spec.fd }, bound);
      else socket.bind(spec.port, spec.address, bound);
    });
    const a = socket.address();
    if (spec.fd !== undefined && a.family !== spec.family) {
      socket.close();
      throw new InvalidArgumentError(
        'family',
        `descriptor ${spec.fd} is an ${a.family} socket (${a.address}), not ${spec.family}`,
      );
    }
    const listener: Listener = {
      socket,
      type,
      ipv6Only,
      bound: { address: a.address, port: a.port, family: spec.family },
      sessions: new Map(),
      closed: false,
      draining: false,
    };
    // Errors after bind (e.g. ICMP-triggered ECONNREFUSED on some stacks) must not crash the host.
    socket.on('error', ignore);
    socket.on('message', (msg, rinfo) => this.onListenerMessage(listener, msg, rinfo));
    return listener;
  }

  private onListenerMessage(listener: Listener, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const existing = listener.sessions.get(rinfo.address)?.get(rinfo.port);
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
        // A request we cannot parse is refused, not ignored. A name or mode we cannot read is
        // an access violation (a NUL inside a name shows up as a bad mode); the rest is illegal.
        const code =
          malformed.field === 'filename' || malformed.field === 'mode'
            ? TftpErrorCode.AccessViolation
            : TftpErrorCode.IllegalOperation;
        sendQuietly(
          listener.socket,
          encodeError(code, `malformed request: ${malformed.message}`),
          rinfo.port,
          rinfo.address,
        );
      }
      return;
    }
    if (existing !== undefined) {
      const isRequest = packet.opcode === Opcode.RRQ || packet.opcode === Opcode.WRQ;
      const sameRequest =
        (packet.opcode === Opcode.RRQ || packet.opcode === Opcode.WRQ) &&
        packet.filename === existing.info.filename &&
        packet.opcode === existing.opcode;
      if (sameRequest) {
        // A repeated request is the peer asking again: it raises what may be resent before its
        // first ACK, so a lost OACK is answered while a spoofed source still gets <= 1x.
        existing.requestBytes += rinfo.size;
        if (existing.session instanceof ReadSession)
          existing.session.allowRequestBytes(existing.requestBytes);
      }
      if (!isRequest || sameRequest) {
        // Single-port mode demultiplexes here; otherwise this is a retransmitted request, and a
        // second session for the same client port would double the traffic.
        if (this.config.single) {
          this.budget?.received(rinfo.address);
          existing.session?.handle(packet);
        }
        return;
      }
      // Another file from the same port: the client moved on (phones reuse their port), so a
      // lost last ACK must not hold its next request back until the old session times out.
      // With a port per transfer both run side by side (the old one ends on its own, or on the
      // client's ERROR 5), so a forged request from a phone's address and port cannot cut its
      // transfer short. Single-port mode tells transfers apart by the peer's port only: there
      // the new request replaces the old transfer.
      if (existing.session === undefined) {
        // The first request still waits for its handler: its client gave up and the port asks
        // for another file now (a phone's next socket often reuses the port). Its answer, sent
        // later, would reach this client as the first DATA of the file it asked for, so the
        // waiting request is dropped unanswered; a live client that asked it repeats its request.
        abortRecordSignal(existing, new AbortedError('another request came from the same port'));
        this.removeRecord(existing);
      } else if (this.config.single) existing.session.supersede();
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
        if (this.strays.allow(rinfo.address))
          sendQuietly(listener.socket, UNKNOWN_TID, rinfo.port, rinfo.address);
    }
  }

  private onRequest(listener: Listener, req: RequestPacket, rinfo: dgram.RemoteInfo): void {
    const remote = toRemote(rinfo);
    const info: RequestInfo = {
      filename: req.filename,
      mode: req.mode,
      options: req.options,
      remote,
      opcode: req.opcode === Opcode.RRQ ? 'RRQ' : 'WRQ',
    };
    this.emit('request', info);
    const refuse = (err: PtftpError): void => {
      sendQuietly(
        listener.socket,
        encodeError(wireErrorOf(err).code, wireErrorOf(err).message),
        rinfo.port,
        rinfo.address,
      );
      this.emit('requestRefused', err, info);
    };
    if (this.closing) {
      refuse(new ClosedError('server is shutting down'));
      return;
    }
    if (!this.limiter.take(remote.address)) {
      // Silence, not an ERROR: a spoofed flood must not turn this server into a reflector.
      this.emit(
        'requestRefused',
        new LimitError('newSessionsPerSecondPerSource', `${remote.address} is over its request rate`),
        info,
      );
      return;
    }
    if (req.mode === 'mail') {
      refuse(new ProtocolError('mode "mail" is not supported', TftpErrorCode.IllegalOperation));
      return;
    }
    if (req.opcode === Opcode.WRQ && this.opts.writeHandler === undefined) {
      refuse(new AccessViolationError(req.filename, 'write requests are not accepted'));
      return;
    }
    if (this.records.size >= this.config.maxSessions) {
      refuse(new LimitError('maxSessions', `server busy: ${this.config.maxSessions} transfers running`));
      return;
    }
    const fromSource = this.perSource.get(remote.address) ?? 0;
    if (fromSource >= this.config.maxSessionsPerSource) {
      refuse(
        new LimitError(
          'maxSessionsPerSource',
          `${fromSource} transfers already running for ${remote.address}`,
        ),
      );
      return;
    }
    const record: SessionRecord = {
      listener,
      wireAddress: rinfo.address,
      wirePort: rinfo.port,
      remote,
      info,
      opcode: req.opcode,
      controller: undefined,
      abortReason: undefined,
      startedAt: performance.now(),
      session: undefined,
      socket: undefined,
      transport: undefined,
      localPort: 0,
      granted: {},
      ended: false,
      requestBytes: rinfo.size,
    };
    this.addRecord(record);
    this.runTransfer(record, req).catch((err: unknown) => this.refuseRecord(record, err, 'transfer setup'));
  }

  private async runTransfer(record: SessionRecord, req: RequestPacket): Promise<void> {
    const { remote, listener } = record;
    // The settings in force when the request was admitted: a configure() during the handler's
    // await must not change what this transfer negotiates.
    const config = this.config;
    const opts = this.opts;
    const local: LocalInfo = { address: listener.bound.address, port: listener.bound.port };
    const mode = req.mode as 'octet' | 'netascii';
    const netascii = mode === 'netascii';
    const policy = opts.optionPolicy?.(remote, req.options);
    // The request a handler sees; `signal` is a getter so that its AbortController is made only
    // for handlers that read it.
    const transferRequest = <T extends object>(extra: T) => ({
      filename: req.filename,
      mode,
      options: req.options,
      remote,
      local,
      ...extra,
      get signal() {
        return recordSignal(record);
      },
    });
    let start: (transport: Transport, observer: SessionObserver) => ReadSession | WriteSession;
    let negotiated: NegotiatedOptions;
    let dispose: () => void = ignore;
    if (req.opcode === Opcode.RRQ) {
      let result: Awaited<ReturnType<ReadHandler>>;
      try {
        result = await opts.handler(transferRequest({}) satisfies ReadRequest);
      } catch (err) {
        this.refuseRecord(record, err, 'read handler');
        return;
      }
      // A stream or content handle the handler gave is ours to release exactly once on every
      // way out below (it may hold a file descriptor that nothing else would close); once the
      // session runs, its block source releases it.
      const handed = result;
      dispose = () => {
        dispose = ignore;
        releaseResult(handed);
      };
      if (record.ended) {
        dispose();
        return;
      }
      let content: ReturnType<typeof prepareContent>;
      try {
        content = prepareContent(result, netascii);
        if (content.kind === 'content' && content.size === undefined && !netascii && 'tsize' in req.options) {
          // Content still arriving: tsize is answered once the upstream has said its size.
          content = { ...content, size: await content.content.whenSized(recordSignal(record)) };
          if (record.ended) {
            dispose();
            return;
          }
        }
        negotiated = negotiateOptions(req.options, {
          direction: 'read',
          size: content.size,
          limits: config.limits,
          policy,
          defaultRollover: config.rollover,
        });
      } catch (err) {
        dispose();
        throw err;
      }
      const n = negotiated;
      const prepared = content;
      start = (transport, observer) =>
        new ReadSession(
          transport,
          toBlockSource(prepared, n.blksize, n.windowsize, netascii),
          n,
          timingFor(config, n),
          observer,
        );
    } else {
      negotiated = negotiateOptions(req.options, {
        direction: 'write',
        limits: config.limits,
        policy,
        defaultRollover: config.rollover,
      });
      const writeReq: WriteRequest = transferRequest({ size: negotiated.tsize });
      let sink: Awaited<ReturnType<WriteHandler>>;
      try {
        sink = await opts.writeHandler!(writeReq);
      } catch (err) {
        this.refuseRecord(record, err, 'write handler');
        return;
      }
      const accepted = sink;
      dispose = () => accepted.abort?.(new ClosedError('server closed'));
      if (record.ended) {
        dispose();
        return;
      }
      const n = negotiated;
      start = (transport, observer) =>
        new WriteSession(transport, sink, n, netascii, timingFor(config, n), observer);
    }
    record.granted = negotiated.oack;
    let transport: Transport;
    try {
      transport = await this.openTransport(record);
    } catch (err) {
      dispose();
      throw err;
    }
    if (record.ended) {
      dispose();
      return;
    }
    record.transport = transport;
    this.closeIfDrained(listener);
    const session = start(transport, this.observerFor(record));
    if (session instanceof ReadSession) session.allowRequestBytes(record.requestBytes);
    record.session = session;
    this.emit('transferStart', {
      filename: req.filename,
      mode,
      remote,
      direction: req.opcode === Opcode.RRQ ? 'read' : 'write',
      options: negotiated.oack,
      blksize: negotiated.blksize,
      windowsize: negotiated.windowsize,
    } satisfies TransferInfo);
    session.start();
  }

  private async openTransport(record: SessionRecord): Promise<Transport> {
    const { listener } = record;
    if (this.config.single)
      return this.budgeted(new SocketTransport(listener.socket, record.wireAddress, record.wirePort, false));
    const socket = await this.pool.open({
      type: listener.type,
      address: listener.bound.address,
      ipv6Only: listener.ipv6Only,
      sendBufferSize: this.config.sendBufferSize,
    });
    record.socket = socket;
    record.localPort = socket.address().port;
    // Send errors arrive here (sends carry no callback): a lost packet, which retransmission covers.
    socket.on('error', ignore);
    socket.on('message', (msg, rinfo) => this.onTransferMessage(record, socket, msg, rinfo));
    return this.budgeted(new SocketTransport(socket, record.wireAddress, record.wirePort, true));
  }

  /** A transfer's transport under the per-destination send budget, when one is on. */
  private budgeted(transport: SocketTransport): Transport {
    if (this.budget === undefined) return transport;
    return new BudgetedTransport(transport, this.budget, transport.peerAddress);
  }

  private onTransferMessage(
    record: SessionRecord,
    socket: dgram.Socket,
    msg: Buffer,
    rinfo: dgram.RemoteInfo,
  ): void {
    if (rinfo.port !== record.wirePort || rinfo.address !== record.wireAddress) {
      // RFC 1350 §4: a stranger gets ERROR 5 and the transfer goes on untouched; an ERROR is never answered.
      if (msg.length >= 2 && msg[0] === 0 && msg[1] === Opcode.ERROR) return;
      if (this.strays.allow(rinfo.address)) sendQuietly(socket, UNKNOWN_TID, rinfo.port, rinfo.address);
      return;
    }
    this.budget?.received(rinfo.address);
    const session = record.session;
    // The per-block message of a read: an ACK goes straight in, with no packet object decoded.
    if (msg.length === 4 && msg[0] === 0 && msg[1] === Opcode.ACK && session instanceof ReadSession) {
      session.ack((msg[2]! << 8) | msg[3]!);
      return;
    }
    let packet: Packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      this.emit('malformedPacket', err as MalformedPacketError, record.remote);
      return;
    }
    session?.handle(packet);
  }

  private observerFor(record: SessionRecord): SessionObserver {
    return {
      complete: (c: SessionCounters) => {
        this.emit('transferComplete', {
          filename: record.info.filename,
          remote: record.remote,
          direction: record.info.opcode === 'RRQ' ? 'read' : 'write',
          bytes: c.bytes,
          blocks: c.blocks,
          durationMs: performance.now() - record.startedAt,
          retransmissions: c.retransmissions,
          options: record.granted,
        });
      },
      fail: (err: PtftpError) => {
        abortRecordSignal(record, err);
        this.emit('transferError', err, record.info);
      },
      released: () => this.removeRecord(record),
    };
  }

  /** The request dies before its session runs: ERROR from the listening socket, then cleanup. */
  private refuseRecord(record: SessionRecord, err: unknown, what: string): void {
    if (record.ended) return;
    const wire = toWireError(err, what);
    sendQuietly(
      record.listener.socket,
      encodeError(wire.code, wire.message),
      record.wirePort,
      record.wireAddress,
    );
    abortRecordSignal(record, wire.error);
    this.emit('transferError', wire.error, record.info);
    this.removeRecord(record);
  }

  private abortRecord(record: SessionRecord, err: PtftpError): void {
    if (record.session) {
      record.session.abort(err, true);
      return;
    }
    abortRecordSignal(record, err);
    this.emit('transferError', err, record.info);
    this.removeRecord(record);
  }

  private addRecord(record: SessionRecord): void {
    this.records.add(record);
    const byAddress = record.listener.sessions;
    let ports = byAddress.get(record.wireAddress);
    if (ports === undefined) {
      ports = new Map();
      byAddress.set(record.wireAddress, ports);
    }
    ports.set(record.wirePort, record);
    this.perSource.set(record.remote.address, (this.perSource.get(record.remote.address) ?? 0) + 1);
  }

  private removeRecord(record: SessionRecord): void {
    if (record.ended) return;
    record.ended = true;
    this.records.delete(record);
    const ports = record.listener.sessions.get(record.wireAddress);
    if (ports?.get(record.wirePort) === record) {
      ports.delete(record.wirePort);
      if (ports.size === 0) record.listener.sessions.delete(record.wireAddress);
    }
    this.closeIfDrained(record.listener);
    const count = (this.perSource.get(record.remote.address) ?? 1) - 1;
    if (count <= 0) this.perSource.delete(record.remote.address);
    else this.perSource.set(record.remote.address, count);
    if (record.socket) {
      if (this.config.range) this.pool.release(record.localPort);
      record.socket.close();
    }
    if (this.records.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
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
export function createServer(opts: TftpServerOptions): TftpServer {
  return new TftpServer(opts);
}
