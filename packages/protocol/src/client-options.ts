/**
 * The client's side of option negotiation (RFC 2347/2348/2349/7440): check what the caller
 * asked for, turn it into request options, and judge the server's OACK against the request.
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError, OptionNegotiationError } from './errors.js';
import { PacketLimits, type TftpOptions } from './packet.js';

/** Where a TFTP server listens. */
export interface TftpTarget {
  /** Host name, IPv4 address, or IPv6 literal without brackets. */
  host: string;
  /** UDP port; 69 by default. */
  port?: number;
}

/** What the server granted, reported once per transfer through `onNegotiated`. */
export interface TftpNegotiated {
  /** Block size in use (512 when the server granted none). */
  blksize: number;
  /** Window size in use (1 when the server granted none). */
  windowsize: number;
  /** Transfer size announced by the server (downloads) or sent by us (uploads). */
  tsize: number | undefined;
  /** Options exactly as the server's OACK listed them; empty when it sent no OACK. */
  oack: TftpOptions;
  /** The server's transfer port (its TID). */
  remotePort: number;
  /** True when the server refused our options with ERROR 8 and we asked again without. */
  retriedWithoutOptions: boolean;
}

/** Options of one transfer. Every field is optional; the defaults suit a LAN. */
export interface TftpTransferOptions {
  /** RFC 2348 block size to ask for (8..65464). Not sent when omitted (512). */
  blksize?: number;
  /** RFC 7440 window size to ask for (1..65535); downloads only. Not sent when omitted (1). */
  windowsize?: number;
  /** RFC 2349 timeout in seconds (1..255), sent as an option; also the default retransmit timeout. */
  timeout?: number;
  /** Ask for (download) or announce (upload) the RFC 2349 transfer size. Default true. */
  tsize?: boolean;
  /** Block number after 65535: 0 (default, what most servers do) or 1; sent as `rollover` when given. */
  rollover?: 0 | 1;
  /** Transfer mode; `netascii` translates line ends. Default `octet`. */
  mode?: 'octet' | 'netascii';
  /** Wait this long for an answer before retransmitting. Default `timeout` * 1000, else 1000 ms. */
  retransmitTimeoutMs?: number;
  /** Retransmissions without an answer before giving up with TimeoutError. Default 5. */
  retries?: number;
  /** Whole-transfer deadline in ms; TimeoutError when exceeded. None by default. */
  deadlineMs?: number;
  /** Cancels the transfer: AbortedError, and an ERROR 0 to the server. */
  signal?: AbortSignal;
  /** Called after every block received or acknowledged, with bytes so far and the announced size. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Called once when the server's first answer fixes the transfer parameters. */
  onNegotiated?: (info: TftpNegotiated) => void;
  /** Local address to bind (picks the interface, and IPv4 vs IPv6). */
  localAddress?: string;
  /** Largest download accepted, in bytes (after netascii decoding); LimitError beyond it. */
  maxBytes?: number;
  /**
   * Fail at once when nothing listens on the server's port (ICMP port unreachable, reported as
   * ECONNREFUSED) instead of after every retry. The requests then go out through a second
   * socket sharing the local port (SO_REUSEADDR) and connected to the server, so keep it to
   * one transfer at a time, as `ptftp get` does: two concurrent transfers could be given the
   * same shared port. Default false.
   *
   * @example
   * ```ts
   * await tftpGet({ host: '10.0.0.5', port: 69 }, 'a.cnf.xml', { detectClosedPort: true });
   * ```
   */
  detectClosedPort?: boolean;
  /**
   * Further RFC 2347 options to send in the request, e.g. a private marker such as
   * `{ 'ptftp-proxied': '1' }`. Servers ignore options they do not know; one that echoes an
   * extra option in its OACK is accepted. Names of the standard options are refused here.
   */
  extraOptions?: Readonly<Record<string, string>>;
}

/** Options of an upload: `size` announces the length of a stream (tsize) and is checked. */
export type TftpPutOptions = TftpTransferOptions & { size?: number };

/** Data an upload sends. */
export type TftpPutSource = Uint8Array | Readable;

/** Transfer options after defaults and checks. */
export interface ResolvedOptions {
  blksize: number | undefined;
  windowsize: number | undefined;
  timeout: number | undefined;
  tsize: boolean;
  rollover: 0 | 1 | undefined;
  mode: 'octet' | 'netascii';
  retransmitTimeoutMs: number;
  retries: number;
  deadlineMs: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((bytes: number, total: number | undefined) => void) | undefined;
  onNegotiated: ((info: TftpNegotiated) => void) | undefined;
  localAddress: string | undefined;
  maxBytes: number | undefined;
  detectClosedPort: boolean;
  extraOptions: Readonly<Record<string, string>> | undefined;
}

function intIn(field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidArgumentError(
      field,
      typeof value === 'number' && Number.isInteger(value)
        ? `${value} is out of range: allowed ${min}..${max}`
        : `${String(value)} is not a whole number (allowed ${min}..${max})`,
    );
  return value;
}

function positive(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(field, `${String(value)} is not a positive number`);
  return value;
}

/** Check every field of `opts` and fill in the defaults. Throws InvalidArgumentError. */
export function resolveOptions(opts: TftpTransferOptions = {}): ResolvedOptions {
  const mode = opts.mode ?? 'octet';
  if (mode !== 'octet' && mode !== 'netascii')
    throw new InvalidArgumentError('mode', `${JSON.stringify(mode)} is not "octet" or "netascii"`);
  if (opts.rollover !== undefined && opts.rollover !== 0 && opts.rollover !== 1)
    throw new InvalidArgumentError('rollover', `${String(opts.rollover)} is not 0 or 1`);
  if (opts.tsize !== undefined && typeof opts.tsize !== 'boolean')
    throw new InvalidArgumentError('tsize', `${String(opts.tsize)} is not a boolean`);
  const timeout = intIn('timeout', opts.timeout, 1, 255);
  const maxBytes = opts.maxBytes;
  if (maxBytes !== undefined && (typeof maxBytes !== 'number' || !(maxBytes >= 0)))
    throw new InvalidArgumentError('maxBytes', `${String(maxBytes)} is not a non-negative number`);
  if (opts.localAddress !== undefined && typeof opts.localAddress !== 'string')
    throw new InvalidArgumentError('localAddress', `${String(opts.localAddress)} is not a string`);
  const extraOptions = checkExtraOptions(opts.extraOptions);
  return {
    blksize: intIn('blksize', opts.blksize, 8, PacketLimits.maxBlockSize),
    windowsize: intIn('windowsize', opts.windowsize, 1, 65535),
    timeout,
    tsize: opts.tsize ?? true,
    rollover: opts.rollover,
    mode,
    retransmitTimeoutMs:
      positive('retransmitTimeoutMs', opts.retransmitTimeoutMs) ??
      (timeout !== undefined ? timeout * 1000 : 1000),
    retries: intIn('retries', opts.retries, 0, 1000) ?? 5,
    deadlineMs: positive('deadlineMs', opts.deadlineMs),
    signal: opts.signal,
    onProgress: opts.onProgress,
    onNegotiated: opts.onNegotiated,
    localAddress: opts.localAddress,
    maxBytes,
    detectClosedPort: opts.detectClosedPort === true,
    extraOptions,
  };
}

const STANDARD_OPTIONS = new Set(['blksize', 'timeout', 'tsize', 'windowsize', 'rollover']);

function checkExtraOptions(
  extra: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (extra === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(extra)) {
    const name = rawName.toLowerCase();
    if (name.length === 0 || name.includes('\0') || STANDARD_OPTIONS.has(name))
      throw new InvalidArgumentError(`extraOptions.${rawName}`, 'not a private option name');
    if (typeof value !== 'string' || value.includes('\0'))
      throw new InvalidArgumentError(
        `extraOptions.${rawName}`,
        `${String(value)} is not a string without NUL`,
      );
    out[name] = value;
  }
  return out;
}

/** Check a target and fill in the port. Throws InvalidArgumentError. */
export function resolveTarget(target: TftpTarget): { host: string; port: number } {
  if (typeof target?.host !== 'string' || target.host.length === 0)
    throw new InvalidArgumentError('host', `${JSON.stringify(target?.host)} is not a host name or address`);
  let host = target.host;
  // Accept a bracketed IPv6 literal too, since that is how people copy it from URLs.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: intIn('port', target.port, 1, 65535) ?? 69 };
}

/** Check a file name the way servers will decode it (packet.ts limits). */
export function checkFilename(filename: string): void {
  if (typeof filename !== 'string' || filename.length === 0)
    throw new InvalidArgumentError('filename', 'empty file name');
  if (filename.includes('\0')) throw new InvalidArgumentError('filename', 'contains NUL');
  const n = Buffer.byteLength(filename);
  if (n > PacketLimits.maxFilenameBytes)
    throw new InvalidArgumentError('filename', `${n} bytes, over ${PacketLimits.maxFilenameBytes}`);
}

/**
 * The options a request carries. Downloads ask for tsize with 0 (RFC 2349); uploads announce
 * the size when known. Options the caller left unset are not sent, so a plain request stays
 * RFC 1350-only.
 */
export function requestOptions(
  o: ResolvedOptions,
  kind: 'read' | 'write',
  uploadSize: number | undefined,
): TftpOptions {
  const req: TftpOptions = {};
  if (o.blksize !== undefined) req.blksize = String(o.blksize);
  if (o.timeout !== undefined) req.timeout = String(o.timeout);
  if (o.tsize) {
    if (kind === 'read') req.tsize = '0';
    else if (uploadSize !== undefined) req.tsize = String(uploadSize);
  }
  if (kind === 'read' && o.windowsize !== undefined) req.windowsize = String(o.windowsize);
  if (o.rollover !== undefined) req.rollover = String(o.rollover);
  if (o.extraOptions) Object.assign(req, o.extraOptions);
  return req;
}

/** Parameters an accepted OACK fixes. */
export interface Granted {
  blksize: number;
  windowsize: number;
  tsize: number | undefined;
  rollover: 0 | 1;
}

function decimal(option: string, value: string): number {
  // RFC 2347 values are decimal ASCII; reject signs, blanks, hex, exponents. A fractional zero
  // ("2.0", as py3tftp writes its timeout) is the same whole number, so it is accepted.
  const m = /^([0-9]{1,15})(?:\.0+)?$/.exec(value);
  if (!m) throw new OptionNegotiationError(option, `value "${value}" is not a whole number`);
  return Number(m[1]);
}

/**
 * Options a server may add without being asked when it only states the RFC 1350 default
 * (tftpy adds `blksize 512`): they change nothing, so curl, atftp and tftp-hpa accept them.
 */
const HARMLESS_DEFAULTS: Readonly<Record<string, number>> = { blksize: 512, windowsize: 1, rollover: 0 };

/**
 * Judge an OACK against the request (RFC 2347: a server may only acknowledge options that
 * were asked for; RFC 2348/7440: it may lower blksize/windowsize, never raise them; RFC 2349:
 * timeout must be echoed unchanged). Lenient where it costs nothing, like other clients: an
 * unrequested option stating its default, a value with a fractional zero. Throws
 * OptionNegotiationError; the caller then sends ERROR 8.
 */
export function acceptOack(requested: TftpOptions, oack: TftpOptions, kind: 'read' | 'write'): Granted {
  const granted: Granted = { blksize: 512, windowsize: 1, tsize: undefined, rollover: 0 };
  for (const [name, value] of Object.entries(oack)) {
    const asked = requested[name];
    if (asked === undefined) {
      const harmless = HARMLESS_DEFAULTS[name];
      if (harmless !== undefined && /^[0-9]/.test(value) && decimal(name, value) === harmless) continue;
      throw new OptionNegotiationError(name, `acknowledged but not requested (${value})`);
    }
    // A private option we sent (extraOptions) may be echoed; it fixes nothing here.
    if (!STANDARD_OPTIONS.has(name)) continue;
    const n = decimal(name, value);
    switch (name) {
      case 'blksize':
        if (n < 8 || n > Number(asked))
          throw new OptionNegotiationError(name, `granted ${n}, outside 8..${asked} as requested`);
        granted.blksize = n;
        break;
      case 'windowsize':
        if (n < 1 || n > Number(asked))
          throw new OptionNegotiationError(name, `granted ${n}, outside 1..${asked} as requested`);
        granted.windowsize = n;
        break;
      case 'timeout':
        if (n !== Number(asked)) throw new OptionNegotiationError(name, `granted ${n}, requested ${asked}`);
        break;
      case 'tsize':
        // On a write the server echoes our size; anything else is a confused server.
        if (kind === 'write' && n !== Number(asked))
          throw new OptionNegotiationError(name, `granted ${n}, announced ${asked}`);
        granted.tsize = n;
        break;
      case 'rollover':
        if (n !== Number(asked)) throw new OptionNegotiationError(name, `granted ${n}, requested ${asked}`);
        granted.rollover = n as 0 | 1;
        break;
      default:
        throw new OptionNegotiationError(name, `unknown option acknowledged (${value})`);
    }
  }
  return granted;
}
