import { formatIPv6, parseIPv6 } from './address.js';
import { DhcpOptionsError, toHex } from './errors.js';
import { assertAscii, decodeAsciiName } from './option66.js';
import { concat } from './rfc3396.js';

/** DHCPv6 option 17, Vendor-specific Information (RFC 8415 §21.17). */
export const OPTION_VENDOR_OPTS = 17;
/** Cisco's IANA enterprise number. */
export const ENTERPRISE_CISCO = 9;
/** Cisco sub-option 1: TFTP server IPv6 addresses, in order of preference. */
export const CISCO_SUBOPTION_TFTP_SERVERS = 1;
/** Cisco sub-option 2: TFTP service name (resolved by a DNS service query; discouraged). */
export const CISCO_SUBOPTION_TFTP_SERVICE = 2;

/** A vendor sub-option this package does not interpret, kept as it was on the wire. */
export interface VendorSubOption {
  code: number;
  data: Uint8Array;
}

/** One decoded DHCPv6 option 17. */
export interface VendorOption6 {
  enterpriseNumber: number;
  /** Cisco sub-option 1, when the enterprise is 9. */
  tftpServers?: string[];
  /** Cisco sub-option 2, when the enterprise is 9. */
  serviceName?: string;
  /** Sub-options not interpreted above (every sub-option of another enterprise), in order. */
  other: VendorSubOption[];
}

/**
 * Encode DHCPv6 option 17 for enterprise 9 (Cisco) with sub-option 1 (TFTP server IPv6
 * addresses, in order of preference) and/or sub-option 2 (TFTP service name). The result
 * includes the option code and length.
 *
 * @example
 * ```ts
 * encodeCiscoVendorOption6({ addresses: ['2001:db8::10', '2001:db8::11'] });
 * // 00 11 00 28 | 00 00 00 09 | 00 01 00 20 | 2001:db8::10 | 2001:db8::11
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_EMPTY` when neither is given (or the list is
 * empty), `PTFTP_ERR_DHCP_INVALID_ADDRESS` for a non-IPv6 address, `PTFTP_ERR_DHCP_NOT_ASCII`
 * for a service name outside printable ASCII.
 */
export function encodeCiscoVendorOption6(v: {
  addresses?: readonly string[];
  serviceName?: string;
}): Uint8Array {
  const subs: Uint8Array[] = [];
  if (v.addresses !== undefined) {
    if (v.addresses.length === 0) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_EMPTY',
        'option17.suboption1',
        '',
        'needs at least one address',
      );
    }
    const data = new Uint8Array(16 * v.addresses.length);
    v.addresses.forEach((text, i) => {
      data.set(parseIPv6(text, `option17.suboption1[${i}]`).toByteArray(), 16 * i);
    });
    subs.push(tlv16(CISCO_SUBOPTION_TFTP_SERVERS, data, 'option17.suboption1'));
  }
  if (v.serviceName !== undefined) {
    assertAscii(v.serviceName, 'option17.suboption2');
    subs.push(
      tlv16(
        CISCO_SUBOPTION_TFTP_SERVICE,
        Uint8Array.from(v.serviceName, (c) => c.charCodeAt(0)),
        'option17.suboption2',
      ),
    );
  }
  if (subs.length === 0) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', 'option17', '', 'needs addresses or a service name');
  }
  const enterprise = new Uint8Array(4);
  new DataView(enterprise.buffer).setUint32(0, ENTERPRISE_CISCO);
  return tlv16(OPTION_VENDOR_OPTS, concat([enterprise, ...subs]), 'option17');
}

/**
 * Decode exactly one DHCPv6 option 17 (with its code and length). Enterprise 9 sub-options 1
 * and 2 are interpreted; every other sub-option, and every sub-option of other enterprises,
 * is kept in `other`.
 *
 * @example
 * ```ts
 * const v = decodeVendorOption6(bytes);
 * if (v.enterpriseNumber === 9) console.log(v.tftpServers); // ['2001:db8::10', '2001:db8::11']
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_UNEXPECTED_CODE` when the option is not 17,
 * `PTFTP_ERR_DHCP_TRUNCATED`, `PTFTP_ERR_DHCP_LENGTH` (trailing bytes, sub-option 1 not a
 * multiple of 16), `PTFTP_ERR_DHCP_EMPTY`, `PTFTP_ERR_DHCP_NOT_ASCII`.
 */
export function decodeVendorOption6(bytes: Uint8Array): VendorOption6 {
  if (bytes.length < 4) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_TRUNCATED',
      'option17',
      toHex(bytes),
      'shorter than an option header',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = view.getUint16(0);
  if (code !== OPTION_VENDOR_OPTS) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_UNEXPECTED_CODE',
      'option17',
      code,
      `found option ${code}, not 17`,
    );
  }
  const len = view.getUint16(2);
  if (4 + len > bytes.length) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_TRUNCATED',
      'option17',
      len,
      `length ${len} runs past the end of the data (${bytes.length - 4} bytes left)`,
    );
  }
  if (4 + len < bytes.length) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_LENGTH',
      'option17',
      len,
      `${bytes.length - 4 - len} bytes follow the option; pass one option`,
    );
  }
  return decodeVendorOption6Value(bytes.subarray(4));
}

/** Decode the value of option 17 (enterprise number and sub-options, no option header). */
export function decodeVendorOption6Value(value: Uint8Array): VendorOption6 {
  if (value.length < 4) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_TRUNCATED',
      'option17.enterpriseNumber',
      toHex(value),
      'needs 4 bytes of enterprise number',
    );
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: VendorOption6 = { enterpriseNumber: view.getUint32(0), other: [] };
  const cisco = out.enterpriseNumber === ENTERPRISE_CISCO;
  const servers: string[] = [];
  let sawServers = false;
  for (const sub of readTlv16(value.subarray(4), 'option17')) {
    if (cisco && sub.code === CISCO_SUBOPTION_TFTP_SERVERS) {
      const field = 'option17.suboption1';
      if (sub.data.length === 0)
        throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', field, 0, 'carries no address');
      if (sub.data.length % 16 !== 0) {
        throw new DhcpOptionsError(
          'PTFTP_ERR_DHCP_LENGTH',
          field,
          sub.data.length,
          'length is not a multiple of 16 (one IPv6 address)',
        );
      }
      for (let at = 0; at < sub.data.length; at += 16) servers.push(formatIPv6(sub.data, at));
      sawServers = true;
    } else if (cisco && sub.code === CISCO_SUBOPTION_TFTP_SERVICE) {
      out.serviceName = decodeAsciiName(sub.data, 'option17.suboption2');
    } else {
      out.other.push(sub);
    }
  }
  if (sawServers) out.tftpServers = servers;
  return out;
}

/** Split `bytes` into 16-bit code / 16-bit length TLVs (DHCPv6 options and vendor sub-options). */
export function readTlv16(bytes: Uint8Array, field: string): VendorSubOption[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: VendorSubOption[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_TRUNCATED',
        field,
        toHex(bytes.subarray(at)),
        `${bytes.length - at} stray bytes where a 4-byte header belongs`,
      );
    }
    const code = view.getUint16(at);
    const len = view.getUint16(at + 2);
    if (at + 4 + len > bytes.length) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_TRUNCATED',
        `${field}.${code}`,
        len,
        `length ${len} runs past the end of the data (${bytes.length - at - 4} bytes left)`,
      );
    }
    out.push({ code, data: bytes.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return out;
}

function tlv16(code: number, data: Uint8Array, field: string): Uint8Array {
  if (data.length > 0xffff) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_LENGTH', field, data.length, 'longer than 65535 bytes');
  }
  const out = new Uint8Array(4 + data.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, code);
  view.setUint16(2, data.length);
  out.set(data, 4);
  return out;
}
