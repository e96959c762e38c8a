import { DhcpOptionsError, toHex } from './errors.js';
import { MAX_OPTION_LENGTH, readSingleCode } from './rfc3396.js';

/** DHCPv4 option 66, TFTP Server Name (RFC 2132 §9.4). */
export const OPTION_TFTP_SERVER_NAME = 66;

/**
 * Check that `text` is printable 7-bit ASCII, the NVT ASCII subset that host names and dotted
 * addresses use. Phones compare the name byte for byte, so a UTF-8 name that looks right in
 * a config file would silently fail to resolve.
 */
export function assertAscii(text: string, field: string): void {
  if (typeof text !== 'string' || text.length === 0) {
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', field, String(text ?? ''), 'needs a non-empty name');
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_NOT_ASCII',
        field,
        text,
        `character ${i} (U+${c.toString(16).padStart(4, '0')}) is not printable ASCII`,
      );
    }
  }
}

/**
 * Encode DHCPv4 option 66 (code, length, name). No trailing NUL is added: RFC 2132 says the
 * option is not NUL-terminated, and receivers strip one if a server (dnsmasq) adds it.
 *
 * @example
 * ```ts
 * encodeOption66('tftp.example.com'); // 42 10 74 66 74 70 ... (0x42 = 66, 0x10 = 16 bytes)
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_EMPTY`, `PTFTP_ERR_DHCP_NOT_ASCII`, or
 * `PTFTP_ERR_DHCP_LENGTH` past 255 bytes.
 */
export function encodeOption66(name: string): Uint8Array {
  assertAscii(name, 'option66');
  if (name.length > MAX_OPTION_LENGTH) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_LENGTH',
      'option66',
      name.length,
      `a server name is at most ${MAX_OPTION_LENGTH} bytes`,
    );
  }
  const out = new Uint8Array(2 + name.length);
  out[0] = OPTION_TFTP_SERVER_NAME;
  out[1] = name.length;
  for (let i = 0; i < name.length; i++) out[2 + i] = name.charCodeAt(i);
  return out;
}

/**
 * Decode option 66 given with its code and length octets. Trailing NULs are stripped
 * (dnsmasq sends one).
 *
 * @example
 * ```ts
 * decodeOption66(encodeOption66('tftp.example.com')); // 'tftp.example.com'
 * ```
 */
export function decodeOption66(bytes: Uint8Array): string {
  return decodeOption66Value(readSingleCode(bytes, OPTION_TFTP_SERVER_NAME, 'option66'));
}

/** Decode the value of option 66 (without code and length). */
export function decodeOption66Value(value: Uint8Array): string {
  return decodeAsciiName(value, 'option66');
}

/** Printable ASCII with any trailing NULs removed; shared with DHCPv6 sub-option 2. */
export function decodeAsciiName(value: Uint8Array, field: string): string {
  let end = value.length;
  while (end > 0 && value[end - 1] === 0) end--;
  if (end === 0) throw new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', field, toHex(value), 'carries no name');
  let text = '';
  for (let i = 0; i < end; i++) {
    const c = value[i]!;
    if (c < 0x20 || c > 0x7e) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_NOT_ASCII',
        field,
        toHex(value),
        `byte ${i} (0x${c.toString(16).padStart(2, '0')}) is not printable ASCII`,
      );
    }
    text += String.fromCharCode(c);
  }
  return text;
}
