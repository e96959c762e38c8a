import { formatIPv4 } from './address.js';
import { DhcpOptionsError, toHex } from './errors.js';
import { decodeOption66Value, OPTION_TFTP_SERVER_NAME } from './option66.js';
import { decodeOption150Value, OPTION_TFTP_SERVER_ADDRESS } from './option150.js';
import { concatenateInstances, type RawOption, readOptionArea } from './rfc3396.js';

/** RFC 2131 §3: the four octets that open the options area. */
export const MAGIC_COOKIE = Uint8Array.from([99, 130, 83, 99]);

/** Option 52, Option Overload (RFC 2132 §9.3). */
export const OPTION_OVERLOAD = 52;
/** Option 53, DHCP Message Type. */
export const OPTION_MESSAGE_TYPE = 53;

// BOOTP header layout (RFC 2131 §2, figure 1).
const SNAME_OFFSET = 44;
const SNAME_LENGTH = 64;
const FILE_OFFSET = 108;
const FILE_LENGTH = 128;
const OPTIONS_OFFSET = 240;

/** A decoded DHCPv4 (BOOTP) message, with the TFTP options interpreted. */
export interface Dhcpv4Message {
  /** 1 = BOOTREQUEST, 2 = BOOTREPLY. */
  op: number;
  xid: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address (`hlen` bytes, at most 16). */
  chaddr: Uint8Array;
  /** Option 53 (1 = DISCOVER ... 5 = ACK, 8 = INFORM), when present. */
  messageType?: number;
  /** Option 52: 1 = `file` holds options, 2 = `sname` does, 3 = both; 0 without overload. */
  overload: number;
  /** The `sname` header field as text, when it is not overloaded with options. */
  sname?: string;
  /** The `file` header field as text, when it is not overloaded with options. */
  file?: string;
  /** Every option's value, instances joined per RFC 3396 in wire order (options, file, sname). */
  options: Map<number, Uint8Array>;
  /** Every instance as found, in wire order, for tools that show the layout. */
  instances: RawOption[];
  /** Option 150, decoded. */
  tftpServers?: string[];
  /** Option 66, decoded. */
  tftpServerName?: string;
}

/**
 * Decode a whole DHCPv4 message (236-byte BOOTP header, magic cookie, options) and pull out
 * options 150 and 66. Long options (RFC 3396) are joined before decoding, and with option 52
 * the `file` and then the `sname` fields are read as more option space, which is the layout
 * ISC dhcpd sends when the options area is full.
 *
 * @example
 * ```ts
 * const msg = decodeDhcpv4Message(udpPayload);
 * msg.tftpServers; // ['10.1.1.10', '10.1.1.11']
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_TRUNCATED` for a short message or an option that
 * runs past its area, `PTFTP_ERR_DHCP_UNEXPECTED_CODE` without the magic cookie, and the
 * option decoders' errors for a malformed option 150 or 66.
 */
export function decodeDhcpv4Message(bytes: Uint8Array): Dhcpv4Message {
  if (bytes.length < OPTIONS_OFFSET) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_TRUNCATED',
      'dhcpv4',
      bytes.length,
      `a DHCPv4 message is at least ${OPTIONS_OFFSET} bytes (header and magic cookie)`,
    );
  }
  if (!isDhcpv4Message(bytes)) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_UNEXPECTED_CODE',
      'dhcpv4.magicCookie',
      toHex(bytes.subarray(236, 240)),
      'not the DHCP magic cookie 63825363',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const instances = readOptionArea(bytes.subarray(OPTIONS_OFFSET), 'dhcpv4.options');
  // RFC 2132 §9.3: option 52 is only meaningful in the options field itself.
  const overloadOption = instances.find((o) => o.code === OPTION_OVERLOAD);
  const overload = overloadOption?.data.length === 1 ? overloadOption.data[0]! & 3 : 0;
  const file = bytes.subarray(FILE_OFFSET, FILE_OFFSET + FILE_LENGTH);
  const sname = bytes.subarray(SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH);
  if (overload & 1) instances.push(...readOptionArea(file, 'dhcpv4.file'));
  if (overload & 2) instances.push(...readOptionArea(sname, 'dhcpv4.sname'));

  const options = concatenateInstances(instances);
  const hlen = Math.min(bytes[2]!, 16);
  const msg: Dhcpv4Message = {
    op: bytes[0]!,
    xid: view.getUint32(4),
    ciaddr: formatIPv4(bytes, 12),
    yiaddr: formatIPv4(bytes, 16),
    siaddr: formatIPv4(bytes, 20),
    giaddr: formatIPv4(bytes, 24),
    chaddr: bytes.slice(28, 28 + hlen),
    overload,
    options,
    instances,
  };
  const type = options.get(OPTION_MESSAGE_TYPE);
  if (type?.length === 1) msg.messageType = type[0]!;
  if (!(overload & 2)) setIfText(msg, 'sname', sname);
  if (!(overload & 1)) setIfText(msg, 'file', file);
  const v150 = options.get(OPTION_TFTP_SERVER_ADDRESS);
  if (v150) msg.tftpServers = decodeOption150Value(v150);
  const v66 = options.get(OPTION_TFTP_SERVER_NAME);
  if (v66) msg.tftpServerName = decodeOption66Value(v66);
  return msg;
}

/** True when `bytes` is long enough for a BOOTP header and carries the DHCP magic cookie. */
export function isDhcpv4Message(bytes: Uint8Array): boolean {
  if (bytes.length < OPTIONS_OFFSET) return false;
  for (let i = 0; i < 4; i++) if (bytes[236 + i] !== MAGIC_COOKIE[i]) return false;
  return true;
}

function setIfText(msg: Dhcpv4Message, key: 'sname' | 'file', field: Uint8Array): void {
  const end = field.indexOf(0);
  const used = field.subarray(0, end === -1 ? field.length : end);
  if (used.length > 0) msg[key] = String.fromCharCode(...used);
}
