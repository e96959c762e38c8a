/**
 * @packageDocumentation
 * DHCP payloads that point IP phones at proxy TFTP servers, correct by construction: DHCPv4
 * option 150 (RFC 5859, with RFC 3396 long options) and option 66, the DHCPv6 Cisco
 * vendor-specific option (option 17, enterprise 9, sub-options 1 and 2), a decoder for whole
 * DHCPv4 and DHCPv6 messages (option overload included), ready-to-paste configuration for
 * ISC dhcpd, Kea, dnsmasq, Cisco IOS and Windows Server, and advice on a plan (redundancy,
 * dual stack, unusable addresses, server limits).
 *
 * Pure functions, no I/O; bad input throws a {@link DhcpOptionsError} with a stable `code`,
 * the `field` at fault and the offending `value`.
 *
 * @example
 * ```ts
 * import { analyze, encodeOption150, render } from '@ptftp/dhcp-options';
 *
 * encodeOption150(['10.1.1.10', '10.1.1.11']); // 96 08 0a 01 01 0a 0a 01 01 0b
 * const plan = { v4: ['10.1.1.10', '10.1.1.11'], v6: ['2001:db8::10', '2001:db8::11'] };
 * console.log(render(plan, 'kea4'));
 * for (const f of analyze(plan)) console.log(f.severity, f.message, f.fix);
 * ```
 */

export { analyze, type Finding, type FindingCode, type Severity } from './analyze.js';
export { type Dhcpv4Message, decodeDhcpv4Message, isDhcpv4Message, MAGIC_COOKIE } from './dhcpv4-message.js';
export { type Dhcpv6Message, decodeDhcpv6Message } from './dhcpv6-message.js';
export {
  CISCO_SUBOPTION_TFTP_SERVERS,
  CISCO_SUBOPTION_TFTP_SERVICE,
  decodeVendorOption6,
  decodeVendorOption6Value,
  ENTERPRISE_CISCO,
  encodeCiscoVendorOption6,
  OPTION_VENDOR_OPTS,
  type VendorOption6,
  type VendorSubOption,
} from './dhcpv6-vendor.js';
export { DhcpOptionsError, type DhcpOptionsErrorCode, toHex } from './errors.js';
export { decodeOption66, decodeOption66Value, encodeOption66, OPTION_TFTP_SERVER_NAME } from './option66.js';
export {
  decodeOption150,
  decodeOption150Value,
  encodeOption150,
  encodeOption150Value,
  OPTION_TFTP_SERVER_ADDRESS,
  OPTION150_MAX_PER_INSTANCE,
} from './option150.js';
export type { DhcpPlan } from './plan.js';
export { render } from './render/index.js';
export { isRendererName, RENDERER_NAMES, type RendererName } from './render/names.js';
export { OPTION150_CAPACITY } from './render/refusals.js';
export { encodeLongOption, LONG_OPTION_PIECE, type RawOption } from './rfc3396.js';
