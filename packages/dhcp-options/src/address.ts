import ipaddr from 'ipaddr.js';
import { DhcpOptionsError } from './errors.js';

/**
 * Strict address parsing shared by the codecs. Only canonical forms are accepted: ipaddr.js
 * alone would also take `10.1` or `0x0a.1.1.10`, which inet_aton-style parsers read
 * differently from what an operator meant, so a DHCP payload built from them would be silently
 * wrong.
 */
export function parseIPv4(text: string, field: string): ipaddr.IPv4 {
  if (typeof text !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const isV6 = typeof text === 'string' && ipaddr.IPv6.isValid(text);
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ADDRESS',
      field,
      String(text),
      isV6 ? 'an IPv6 address cannot go in an IPv4 field' : 'not a dotted-quad IPv4 address',
    );
  }
  return ipaddr.IPv4.parse(text);
}

export function parseIPv6(text: string, field: string): ipaddr.IPv6 {
  if (typeof text !== 'string' || !ipaddr.IPv6.isValid(text) || text.includes('%')) {
    const isV4 = typeof text === 'string' && ipaddr.IPv4.isValid(text);
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ADDRESS',
      field,
      String(text),
      isV4
        ? 'an IPv4 address cannot go in an IPv6 field'
        : text.includes?.('%')
          ? 'a zone index has no meaning to another host'
          : 'not an IPv6 address',
    );
  }
  const addr = ipaddr.IPv6.parse(text);
  if (addr.isIPv4MappedAddress()) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ADDRESS',
      field,
      text,
      'an IPv4-mapped address is not reachable over IPv6; put the IPv4 address in option 150',
    );
  }
  return addr;
}

/** Bytes of a parsed address, network order. */
export function addressBytes(addr: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  return addr.toByteArray();
}

/** The dotted-quad text of 4 bytes at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text of 16 bytes at `offset`. */
export function formatIPv6(bytes: Uint8Array, offset: number): string {
  return ipaddr.fromByteArray(Array.from(bytes.subarray(offset, offset + 16))).toString();
}

/** Canonical text of any address, so that `2001:0db8::10` and `2001:db8::10` compare equal. */
export function canonical(text: string): string | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text).toString();
  return undefined;
}
