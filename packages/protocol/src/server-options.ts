/**
 * The server's settings: what a {@link TftpServerOptions} may say, its defaults, and their
 * validation into the resolved form the other rooms read. Pure: no socket is touched here.
 */
import dgram from 'node:dgram';
import { InvalidArgumentError } from './errors.js';
import type { ReadHandler, RemoteInfo, WriteHandler } from './handler.js';
import {
  BLKSIZE_MAX,
  BLKSIZE_MIN,
  type NegotiatedOptions,
  type OptionLimits,
  type OptionPolicyResult,
  WINDOWSIZE_MAX,
} from './options.js';
import type { TftpOptions } from './packet.js';
import { SendBudget, type SendBudgetOptions } from './send-budget.js';
import type { SessionTiming } from './session-config.js';

/**
 * Makes the server's datagram sockets, listening and per-transfer alike (default
 * `dgram.createSocket`). Another datagram path (a test harness, a userspace stack) plugs in
 * here; the server binds, sends and closes what it returns as it would a `dgram.Socket`.
 *
 * @example
 * ```ts
 * import dgram from 'node:dgram';
 *
 * let made = 0;
 * const server = createServer({
 *   handler,
 *   createSocket: (options) => {
 *     made++;
 *     return dgram.createSocket(options);
 *   },
 * });
 * ```
 */
export type DatagramSocketFactory = (options: dgram.SocketOptions) => dgram.Socket;

/** Settings of a {@link TftpServer}. Every number has a default; see docs/packages/protocol.md. */
export interface TftpServerOptions<C = unknown> {
  /** Produces the content of each requested file (and, optionally, a `context` for its events). */
  handler: ReadHandler<C>;
  /** Accepts uploads; without it every WRQ gets ERROR 2. */
  writeHandler?: WriteHandler<C> | undefined;
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
  /** Makes every datagram socket of the server (default `dgram.createSocket`). */
  createSocket?: DatagramSocketFactory | undefined;
}

/** Validated settings with every default filled in. */
export interface ResolvedOptions {
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
  readonly createSocket: DatagramSocketFactory;
}

/** Defaults of the per-source limits (docs/packages/protocol.md explains the choice). */
export const SOURCE_LIMIT_DEFAULTS = {
  maxSessionsPerSource: 128,
  newSessionsPerSecondPerSource: 50,
  burstPerSource: 100,
} as const;

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min)
    throw new InvalidArgumentError(name, `${value} is not a number >= ${min}`);
  return value;
}

/** Validate `opts` and fill in the defaults; InvalidArgumentError names the bad field. */
export function resolveOptions(opts: TftpServerOptions): ResolvedOptions {
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
    createSocket: opts.createSocket ?? dgram.createSocket,
  };
}

/** The options {@link TftpServer.configure} changes on a running server. */
export type LiveServerOptions = Omit<
  TftpServerOptions,
  'handler' | 'writeHandler' | 'ports' | 'recvBufferSize' | 'sendBufferSize' | 'sendBudget' | 'createSocket'
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

/**
 * The options after a `configure(live)`: the socket settings and handlers of `current`, the
 * rest from `live` (a key left out returns to its default). Throws InvalidArgumentError, and
 * changes nothing, on a key that cannot change on a running server or an invalid value.
 */
export function reconfigured<C>(
  current: TftpServerOptions<C>,
  live: LiveServerOptions,
): { opts: TftpServerOptions<C>; config: ResolvedOptions; rate: { rate: number; burst: number } } {
  if (typeof live !== 'object' || live === null)
    throw new InvalidArgumentError('options', 'an object of server options is required');
  for (const key of Object.keys(live)) {
    if (!LIVE_OPTION_KEYS.has(key as keyof LiveServerOptions))
      throw new InvalidArgumentError(
        key,
        'only limits, timers and the option policy change on a running server',
      );
  }
  const next: TftpServerOptions<C> = {
    handler: current.handler,
    writeHandler: current.writeHandler,
    ports: current.ports,
    recvBufferSize: current.recvBufferSize,
    sendBufferSize: current.sendBufferSize,
    createSocket: current.createSocket,
    ...live,
  };
  return { opts: next, config: resolveOptions(next), rate: rateOf(next) };
}

/** The per-source token bucket: new transfers per second and burst. */
export function rateOf(opts: TftpServerOptions): { rate: number; burst: number } {
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
export function timingFor(config: ResolvedOptions, n: NegotiatedOptions): SessionTiming {
  const t = config.timing;
  return n.timeoutMs === undefined ? t : { ...t, retransmitTimeoutMs: n.timeoutMs };
}
