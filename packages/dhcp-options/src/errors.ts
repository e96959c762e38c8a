/**
 * Stable codes of every error this package throws. They are literal types so that callers can
 * narrow on `err.code` without string matching on messages.
 */
export type DhcpOptionsErrorCode =
  /** Not an address, or an address of the wrong family (IPv6 in option 150, IPv4 in sub-option 1). */
  | 'PTFTP_ERR_DHCP_INVALID_ADDRESS'
  /** A length field that the option's format forbids (not a multiple of 4 or 16, too long). */
  | 'PTFTP_ERR_DHCP_LENGTH'
  /** A length field that points past the end of the data. */
  | 'PTFTP_ERR_DHCP_TRUNCATED'
  /** An address list or name with nothing in it. */
  | 'PTFTP_ERR_DHCP_EMPTY'
  /** A name that is not printable 7-bit ASCII. */
  | 'PTFTP_ERR_DHCP_NOT_ASCII'
  /** The bytes are a different option or message than the decoder expects. */
  | 'PTFTP_ERR_DHCP_UNEXPECTED_CODE'
  /** Two DHCPv6 option-17 instances for one enterprise number (RFC 8415 §21.17 forbids it). */
  | 'PTFTP_ERR_DHCP_DUPLICATE'
  /** A configuration target that cannot carry the plan (Kea/dnsmasq and option 150 over 255 bytes). */
  | 'PTFTP_ERR_DHCP_TARGET_LIMIT'
  /** An argument outside the API's domain (unknown renderer, bad subnet). */
  | 'PTFTP_ERR_DHCP_INVALID_ARGUMENT';

/**
 * The brand of every `@ptftp` error (`Symbol.for`, so the same symbol in every package). This
 * package stands alone and may not depend on `@ptftp/protocol`, where the root class
 * `PtftpError` lives: its error class carries the same brand, `code` and `wire` instead of
 * extending it, so `isPtftpError` from `@ptftp/protocol` accepts it and a TFTP server answers
 * it with ERROR 0 "internal error" (never with its message).
 */
const PTFTP_ERROR_BRAND: unique symbol = Symbol.for('ptftp.error');

/**
 * The one error class of `@ptftp/dhcp-options`. `field` names the option, sub-option or plan
 * entry at fault and `value` is the offending input (an address as given, a length, or bytes as
 * hex), so that a CLI or UI can point at it without parsing the message.
 *
 * @example
 * ```ts
 * try {
 *   encodeOption150(['2001:db8::1']);
 * } catch (err) {
 *   if (err instanceof DhcpOptionsError && err.code === 'PTFTP_ERR_DHCP_INVALID_ADDRESS') {
 *     console.log(err.field, err.value); // option150[0] 2001:db8::1
 *   }
 * }
 * ```
 */
export class DhcpOptionsError extends Error {
  readonly code: DhcpOptionsErrorCode;
  readonly field: string;
  readonly value: string | number;

  constructor(code: DhcpOptionsErrorCode, field: string, value: string | number, problem: string) {
    super(`${field}: ${problem} (value: ${typeof value === 'string' ? JSON.stringify(value) : value})`);
    this.name = 'DhcpOptionsError';
    this.code = code;
    this.field = field;
    this.value = value;
  }

  get [PTFTP_ERROR_BRAND](): true {
    return true;
  }

  /** Never meant for a TFTP peer: a server that meets this error answers ERROR 0 "internal error". */
  get wire(): undefined {
    return undefined;
  }
}

/** Bytes as lowercase hex, for error values and the CLI. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
