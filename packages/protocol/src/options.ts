/**
 * Option negotiation for a TFTP server (RFC 2347 OACK, RFC 2348 blksize, RFC 2349 timeout and
 * tsize, RFC 7440 windowsize, and the nonstandard `rollover`). Pure: requested options and the
 * server's ceilings in, granted values and the OACK content out.
 */
import type { TftpOptions } from './packet.js';

/** RFC 2348 bounds of `blksize`. */
export const BLKSIZE_MIN = 8;
export const BLKSIZE_MAX = 65464;
/** RFC 1350 block size when no option is granted. */
export const DEFAULT_BLKSIZE = 512;
/** RFC 2349 bounds of `timeout`, in seconds. */
export const TIMEOUT_MIN_S = 1;
export const TIMEOUT_MAX_S = 255;
/** RFC 7440 bounds of `windowsize`. */
export const WINDOWSIZE_MIN = 1;
export const WINDOWSIZE_MAX = 65535;

/**
 * What a per-client policy decides about one request's options (see
 * `TftpServerOptions.optionPolicy`). Everything left out keeps the server-wide setting.
 */
export interface OptionPolicyResult {
  /** Option names never granted to this client (e.g. `['blksize']` for a UEFI stack that breaks). */
  readonly refuse?: readonly string[];
  /** Grant no option at all: the transfer runs as plain RFC 1350. */
  readonly refuseAll?: boolean;
  /** A lower blksize ceiling for this client (e.g. a path MTU over a VPN). */
  readonly maxBlksize?: number;
  /** A lower windowsize ceiling for this client. */
  readonly maxWindowsize?: number;
}

/** Server-wide ceilings that negotiation applies. */
export interface OptionLimits {
  readonly maxBlksize: number;
  readonly maxWindowsize: number;
  /** Bytes in flight per window: windowsize is lowered to `floor(maxWindowBytes / blksize)`. */
  readonly maxWindowBytes: number;
}

/** The outcome of negotiation: the values a session runs with and what the OACK says. */
export interface NegotiatedOptions {
  readonly blksize: number;
  readonly windowsize: number;
  /** Retransmit timeout asked by the client, in ms, or undefined to keep the server's. */
  readonly timeoutMs: number | undefined;
  /** The transfer size: the file size for an RRQ (when known), the client's for a WRQ. */
  readonly tsize: number | undefined;
  /** Block number after 65535: 0 (default) or 1. */
  readonly rollover: 0 | 1;
  /** Granted options in request order; an OACK is sent only when this is not empty. */
  readonly oack: TftpOptions;
}

/** Context of one negotiation. */
export interface NegotiationInput {
  readonly direction: 'read' | 'write';
  /** Bytes the server will send (RRQ), when known; answers `tsize`. */
  readonly size?: number | undefined;
  readonly limits: OptionLimits;
  readonly policy?: OptionPolicyResult | undefined;
  /** Block number after 65535 when the client does not ask (default 0). */
  readonly defaultRollover?: 0 | 1 | undefined;
}

const DECIMAL = /^[0-9]{1,10}$/;

/** Parse a decimal option value; undefined for anything that is not a plain non-negative integer. */
export function parseOptionInteger(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Decide which options a server grants. Invalid or unknown options are ignored (not echoed,
 * no ERROR 8), because a client that sent them still works without them (RFC 2347 §3).
 *
 * @example
 * ```ts
 * const n = negotiateOptions(
 *   { blksize: '9000', tsize: '0', windowsize: '64' },
 *   { direction: 'read', size: 4096, limits: { maxBlksize: 1468, maxWindowsize: 64, maxWindowBytes: 65536 } },
 * );
 * // n.blksize === 1468, n.windowsize === 44, n.oack: { blksize: '1468', tsize: '4096', windowsize: '44' }
 * ```
 */
export function negotiateOptions(
  requested: Readonly<TftpOptions>,
  input: NegotiationInput,
): NegotiatedOptions {
  const { limits, policy } = input;
  const oack: TftpOptions = {};
  let blksize = DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutMs: number | undefined;
  let tsize: number | undefined;
  let rollover: 0 | 1 = input.defaultRollover ?? 0;
  if (policy?.refuseAll) return { blksize, windowsize, timeoutMs, tsize, rollover, oack };
  const refused = new Set(policy?.refuse?.map((n) => n.toLowerCase()));
  const blkCeiling = Math.max(BLKSIZE_MIN, Math.min(limits.maxBlksize, policy?.maxBlksize ?? BLKSIZE_MAX));

  for (const [name, value] of Object.entries(requested)) {
    if (refused.has(name)) continue;
    const n = parseOptionInteger(value);
    switch (name) {
      case 'blksize':
        // Values above 65464 are clamped like any other value over the ceiling; below 8 is nonsense.
        if (n === undefined || n < BLKSIZE_MIN) break;
        blksize = Math.min(n, blkCeiling);
        oack.blksize = String(blksize);
        break;
      case 'timeout':
        // RFC 2349: the server may not change the value, only accept or ignore it.
        if (n === undefined || n < TIMEOUT_MIN_S || n > TIMEOUT_MAX_S) break;
        timeoutMs = n * 1000;
        oack.timeout = String(n);
        break;
      case 'tsize':
        if (n === undefined) break;
        if (input.direction === 'write') {
          tsize = n;
          oack.tsize = String(n);
        } else if (input.size !== undefined) {
          tsize = input.size;
          oack.tsize = String(input.size);
        }
        break;
      case 'windowsize':
        if (n === undefined || n < WINDOWSIZE_MIN || n > WINDOWSIZE_MAX) break;
        windowsize = n;
        oack.windowsize = value;
        break;
      case 'rollover':
        if (value !== '0' && value !== '1') break;
        rollover = value === '1' ? 1 : 0;
        oack.rollover = value;
        break;
      default:
        break;
    }
  }
  if (oack.windowsize !== undefined) {
    // The byte budget depends on the final blksize, so the window is clamped after the loop.
    const byBytes = Math.floor(limits.maxWindowBytes / blksize);
    const ceiling = Math.min(limits.maxWindowsize, policy?.maxWindowsize ?? WINDOWSIZE_MAX, byBytes);
    windowsize = Math.max(WINDOWSIZE_MIN, Math.min(windowsize, ceiling));
    oack.windowsize = String(windowsize);
  }
  return { blksize, windowsize, timeoutMs, tsize, rollover, oack };
}
