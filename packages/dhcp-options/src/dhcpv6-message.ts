import { formatIPv6 } from './address.js';
import {
  decodeVendorOption6Value,
  OPTION_VENDOR_OPTS,
  readTlv16,
  type VendorOption6,
} from './dhcpv6-vendor.js';
import { DhcpOptionsError } from './errors.js';

/** RFC 8415 §7.3 message types that carry a relay header instead of a transaction id. */
const RELAY_FORW = 12;
const RELAY_REPL = 13;
/** Option 9, Relay Message: the relayed message inside a relay header. */
const OPTION_RELAY_MSG = 9;

/** A decoded DHCPv6 message. Relay messages are unwrapped down to the client's message. */
export interface Dhcpv6Message {
  /** 7 = REPLY, 11 = INFORMATION-REQUEST, 2 = ADVERTISE... of the innermost message. */
  messageType: number;
  transactionId: number;
  /** Relay headers crossed on the way in, outermost first. */
  relays: Array<{ messageType: number; hopCount: number; linkAddress: string; peerAddress: string }>;
  /** Every option of the innermost message, by code; a code may repeat (option 17 does). */
  options: Map<number, Uint8Array[]>;
  /** Every option 17 instance, decoded. */
  vendorOptions: VendorOption6[];
  /** Cisco (enterprise 9) sub-option 1, decoded. */
  tftpServers?: string[];
  /** Cisco (enterprise 9) sub-option 2, decoded. */
  serviceName?: string;
}

// Relay nesting is bounded by HOP_COUNT_LIMIT (32, RFC 8415 §7.6); stop there too.
const MAX_RELAY_DEPTH = 32;
/**
 * The highest message type IANA has assigned (RFC 8415 1-13, leasequery, DHCPv4-over-DHCPv6,
 * active leasequery, failover: up to 35). A first byte past it (or 0) is not DHCPv6 at all.
 */
const MAX_MESSAGE_TYPE = 35;

/**
 * Decode a DHCPv6 message (a UDP payload on ports 546/547) and its Cisco vendor option.
 *
 * @example
 * ```ts
 * decodeDhcpv6Message(reply).tftpServers; // ['2001:db8::10', '2001:db8::11']
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_TRUNCATED` for short data, `PTFTP_ERR_DHCP_UNEXPECTED_CODE`
 * for a first byte that is no DHCPv6 message type, `PTFTP_ERR_DHCP_DUPLICATE`
 * for two option-17 instances of one enterprise (RFC 8415 §21.17), and the vendor option
 * decoder's errors.
 */
export function decodeDhcpv6Message(bytes: Uint8Array): Dhcpv6Message {
  const relays: Dhcpv6Message['relays'] = [];
  let current = bytes;
  for (let depth = 0; ; depth++) {
    if (current.length < 4) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_TRUNCATED',
        'dhcpv6',
        current.length,
        'shorter than a header',
      );
    }
    const type = current[0]!;
    if (type !== RELAY_FORW && type !== RELAY_REPL) break;
    if (current.length < 34) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_TRUNCATED',
        'dhcpv6.relay',
        current.length,
        'shorter than a relay header',
      );
    }
    if (depth >= MAX_RELAY_DEPTH) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_LENGTH',
        'dhcpv6.relay',
        depth,
        'more relay headers than 32 hops',
      );
    }
    relays.push({
      messageType: type,
      hopCount: current[1]!,
      linkAddress: formatIPv6(current, 2),
      peerAddress: formatIPv6(current, 18),
    });
    const inner = readTlv16(current.subarray(34), 'dhcpv6.relay').find((o) => o.code === OPTION_RELAY_MSG);
    if (!inner) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_TRUNCATED',
        'dhcpv6.relay',
        type,
        'relay message without option 9',
      );
    }
    current = inner.data;
  }
  const messageType = current[0]!;
  if (messageType === 0 || messageType > MAX_MESSAGE_TYPE) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_UNEXPECTED_CODE',
      'dhcpv6.msgType',
      messageType,
      `not a DHCPv6 message type (1..${MAX_MESSAGE_TYPE})`,
    );
  }
  const view = new DataView(current.buffer, current.byteOffset, current.byteLength);
  const options = new Map<number, Uint8Array[]>();
  for (const { code, data } of readTlv16(current.subarray(4), 'dhcpv6.options')) {
    const list = options.get(code);
    if (list) list.push(data);
    else options.set(code, [data]);
  }
  const msg: Dhcpv6Message = {
    messageType: current[0]!,
    transactionId: view.getUint32(0) & 0xffffff,
    relays,
    options,
    vendorOptions: [],
  };
  const seen = new Set<number>();
  for (const data of options.get(OPTION_VENDOR_OPTS) ?? []) {
    const vendor = decodeVendorOption6Value(data);
    if (seen.has(vendor.enterpriseNumber)) {
      throw new DhcpOptionsError(
        'PTFTP_ERR_DHCP_DUPLICATE',
        'dhcpv6.option17',
        vendor.enterpriseNumber,
        'two option-17 instances carry the same enterprise number',
      );
    }
    seen.add(vendor.enterpriseNumber);
    msg.vendorOptions.push(vendor);
    if (vendor.tftpServers) msg.tftpServers = vendor.tftpServers;
    if (vendor.serviceName !== undefined) msg.serviceName = vendor.serviceName;
  }
  return msg;
}
