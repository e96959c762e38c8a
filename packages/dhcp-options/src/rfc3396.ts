import { DhcpOptionsError } from './errors.js';

/**
 * The largest piece a careful encoder puts in one instance of a long option. 252 is the
 * largest multiple of 4 (an IPv4 address) that fits the 255-byte limit, so a receiver that
 * does not implement RFC 3396 still reads every instance as whole addresses.
 */
export const LONG_OPTION_PIECE = 252;

/** The most bytes one DHCPv4 option instance can hold (its length is one octet). */
export const MAX_OPTION_LENGTH = 255;

/**
 * Encode `data` as one or more instances of option `code` (RFC 3396 §6): consecutive
 * instances of the same code that the receiver concatenates. `piece` is the most bytes per
 * instance; callers pass a multiple of their element size so pieces split on whole elements.
 */
export function encodeLongOption(code: number, data: Uint8Array, piece = LONG_OPTION_PIECE): Uint8Array {
  const count = Math.max(1, Math.ceil(data.length / piece));
  const out = new Uint8Array(data.length + 2 * count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const chunk = data.subarray(i * piece, Math.min(data.length, (i + 1) * piece));
    out[at++] = code;
    out[at++] = chunk.length;
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** One option as found on the wire: its code and its value bytes. */
export interface RawOption {
  code: number;
  data: Uint8Array;
}

/**
 * The value of the option whose code byte is at `at`, checked against the end of `bytes`: a
 * missing length octet is reported on `field`, a length past the end on `lengthField`.
 */
function valueAt(
  bytes: Uint8Array,
  at: number,
  code: number,
  field: string,
  lengthField: string,
): Uint8Array {
  if (at + 1 >= bytes.length) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_TRUNCATED', field, code, `option ${code} has no length octet`);
  }
  const len = bytes[at + 1]!;
  if (at + 2 + len > bytes.length) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_TRUNCATED',
      lengthField,
      len,
      `length ${len} runs past the end of the data (${bytes.length - at - 2} bytes left)`,
    );
  }
  return bytes.subarray(at + 2, at + 2 + len);
}

/**
 * Split a DHCPv4 options area into instances, in wire order. Pad (0) is skipped and End (255)
 * stops the walk, as RFC 2132 §3 says; anything after End is padding by definition.
 */
export function readOptionArea(bytes: Uint8Array, field: string): RawOption[] {
  const out: RawOption[] = [];
  let at = 0;
  while (at < bytes.length) {
    const code = bytes[at]!;
    if (code === 0) {
      at++;
      continue;
    }
    if (code === 255) break;
    const data = valueAt(bytes, at, code, field, `${field}.option${code}`);
    out.push({ code, data });
    at += 2 + data.length;
  }
  return out;
}

/**
 * Join every instance of each code byte-wise, in order (RFC 3396 §5). Decoders must do this
 * before interpreting a value: ISC dhcpd splits long options on byte boundaries, so an
 * address can straddle two instances.
 */
export function concatenateInstances(options: readonly RawOption[]): Map<number, Uint8Array> {
  const parts = new Map<number, Uint8Array[]>();
  for (const { code, data } of options) {
    const list = parts.get(code);
    if (list) list.push(data);
    else parts.set(code, [data]);
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) out.set(code, concat(list));
  return out;
}

export function concat(list: readonly Uint8Array[]): Uint8Array {
  const total = list.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of list) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * Read bytes that must hold only instances of option `code` (what the encoders here return)
 * and return the concatenated value.
 */
export function readSingleCode(bytes: Uint8Array, code: number, field: string): Uint8Array {
  const instances: Uint8Array[] = [];
  let at = 0;
  if (bytes.length === 0) throw new DhcpOptionsError('PTFTP_ERR_DHCP_TRUNCATED', field, '', 'no bytes');
  while (at < bytes.length) {
    const got = bytes[at]!;
    if (got !== code) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_UNEXPECTED_CODE',
        field,
        got,
        `expected option ${code} at byte ${at}, found option ${got}`,
      );
    }
    const data = valueAt(bytes, at, code, field, field);
    instances.push(data);
    at += 2 + data.length;
  }
  return concat(instances);
}
