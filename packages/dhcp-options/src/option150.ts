import { formatIPv4, parseIPv4 } from './address.js';
import { DhcpOptionsError } from './errors.js';
import { encodeLongOption, readSingleCode } from './rfc3396.js';

/** DHCPv4 option 150, TFTP Server Address (RFC 5859). */
export const OPTION_TFTP_SERVER_ADDRESS = 150;

/** The most addresses one instance of option 150 holds (255 / 4). */
export const OPTION150_MAX_PER_INSTANCE = 63;

/**
 * Encode DHCPv4 option 150 from IPv4 addresses, in order of preference. The result includes
 * the code and length octets. Past 63 addresses it is an RFC 3396 long option: several
 * instances of 252 bytes (whole addresses) each.
 *
 * @example
 * ```ts
 * encodeOption150(['10.1.1.10', '10.1.1.11']);
 * // Uint8Array [0x96, 0x08, 0x0a, 0x01, 0x01, 0x0a, 0x0a, 0x01, 0x01, 0x0b]
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_EMPTY` for no address, `PTFTP_ERR_DHCP_INVALID_ADDRESS`
 * for anything that is not a dotted-quad IPv4 address (an IPv6 address included).
 */
export function encodeOption150(addresses: readonly string[]): Uint8Array {
  return encodeLongOption(OPTION_TFTP_SERVER_ADDRESS, encodeOption150Value(addresses));
}

/** The value of option 150 alone (no code or length): 4 bytes per address. */
export function encodeOption150Value(addresses: readonly string[]): Uint8Array {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', 'option150', '', 'needs at least one IPv4 address');
  }
  const out = new Uint8Array(addresses.length * 4);
  addresses.forEach((text, i) => {
    out.set(parseIPv4(text, `option150[${i}]`).toByteArray(), i * 4);
  });
  return out;
}

/**
 * Decode option 150 given with its code and length octets, as one instance or as several
 * consecutive instances (RFC 3396), which are joined before being split into addresses.
 *
 * @example
 * ```ts
 * decodeOption150(Uint8Array.from([0x96, 0x04, 10, 1, 1, 10])); // ['10.1.1.10']
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_LENGTH` when the joined value is not a multiple of
 * 4 bytes, `PTFTP_ERR_DHCP_EMPTY` for a zero-length value, `PTFTP_ERR_DHCP_TRUNCATED` and
 * `PTFTP_ERR_DHCP_UNEXPECTED_CODE` for bytes that are not option 150 instances.
 */
export function decodeOption150(bytes: Uint8Array): string[] {
  return decodeOption150Value(readSingleCode(bytes, OPTION_TFTP_SERVER_ADDRESS, 'option150'));
}

/** Decode the value of option 150 (already joined, without code and length). */
export function decodeOption150Value(value: Uint8Array): string[] {
  if (value.length === 0) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', 'option150', 0, 'carries no address');
  }
  if (value.length % 4 !== 0) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_LENGTH',
      'option150',
      value.length,
      'length is not a multiple of 4 (one IPv4 address)',
    );
  }
  const out: string[] = [];
  for (let at = 0; at < value.length; at += 4) out.push(formatIPv4(value, at));
  return out;
}
