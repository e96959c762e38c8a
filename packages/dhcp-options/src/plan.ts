import ipaddr from 'ipaddr.js';
import { parseIPv4, parseIPv6 } from './address.js';
import { DhcpOptionsError } from './errors.js';
import { assertAscii } from './option66.js';
import { MAX_OPTION_LENGTH } from './rfc3396.js';

/**
 * What an operator wants the phones to learn from DHCP: one plan, rendered for any server.
 *
 * @example
 * ```ts
 * const plan: DhcpPlan = {
 *   v4: ['10.1.1.10', '10.1.1.11'],
 *   v6: ['2001:db8::10', '2001:db8::11'],
 *   scope: { subnet4: '10.1.1.0/24', subnet6: '2001:db8::/64', poolName: 'VOICE' },
 *   endpoints: { ipv4: true, ipv6: true },
 * };
 * ```
 */
export interface DhcpPlan {
  /** IPv4 TFTP server addresses for option 150, in order of preference. */
  v4?: string[];
  /** IPv6 TFTP server addresses for DHCPv6 option 17 enterprise 9 sub-option 1, in order. */
  v6?: string[];
  /** A TFTP server name for option 66 (a discouraged alternative to option 150). */
  serverName?: string;
  /** A TFTP service name for DHCPv6 sub-option 2 (a discouraged alternative to sub-option 1). */
  serviceName?: string;
  /** Where the options apply; without it they are rendered server-wide (global). */
  scope?: { subnet4?: string; subnet6?: string; poolName?: string };
  /** Which stacks the phones use; drives the dual-stack advice. */
  endpoints?: { ipv4?: boolean; ipv6?: boolean };
}

/** A subnet in the forms the renderers need. */
export interface Subnet {
  /** `10.1.1.0/24`, network address normalised. */
  cidr: string;
  network: string;
  prefixLength: number;
  /** Dotted netmask (IPv4 only), for ISC and IOS. */
  netmask?: string;
}

/** Parse `scope.subnet4`: an IPv4 CIDR whose host bits may be set (they are cleared). */
export function parseSubnet4(text: string): Subnet {
  if (!ipaddr.IPv4.isValidCIDR(text) || !ipaddr.IPv4.isValidFourPartDecimal(text.split('/')[0]!)) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ARGUMENT',
      'scope.subnet4',
      text,
      'not an IPv4 CIDR like 10.1.1.0/24',
    );
  }
  const [, prefixLength] = ipaddr.IPv4.parseCIDR(text);
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  return {
    cidr: `${network}/${prefixLength}`,
    network,
    prefixLength,
    netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString(),
  };
}

/** Parse `scope.subnet6`: an IPv6 CIDR like `2001:db8::/64`. */
export function parseSubnet6(text: string): Subnet {
  if (!ipaddr.IPv6.isValidCIDR(text)) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ARGUMENT',
      'scope.subnet6',
      text,
      'not an IPv6 CIDR like 2001:db8::/64',
    );
  }
  const [, prefixLength] = ipaddr.IPv6.parseCIDR(text);
  const network = ipaddr.IPv6.networkAddressFromCIDR(text).toString();
  return { cidr: `${network}/${prefixLength}`, network, prefixLength };
}

/** True when the plan carries something for DHCPv4 (option 150 or 66). */
export function hasV4(plan: DhcpPlan): boolean {
  return (plan.v4?.length ?? 0) > 0 || plan.serverName !== undefined;
}

/** True when the plan carries something for DHCPv6 (option 17 sub-option 1 or 2). */
export function hasV6(plan: DhcpPlan): boolean {
  return (plan.v6?.length ?? 0) > 0 || plan.serviceName !== undefined;
}

/** The IPv4 addresses of a plan, validated and in canonical form. */
export function planV4(plan: DhcpPlan): string[] {
  return (plan.v4 ?? []).map((a, i) => parseIPv4(a, `v4[${i}]`).toString());
}

/** The IPv6 addresses of a plan, validated and in canonical (RFC 5952) form. */
export function planV6(plan: DhcpPlan): string[] {
  return (plan.v6 ?? []).map((a, i) => parseIPv6(a, `v6[${i}]`).toString());
}

/**
 * A name as it will be pasted into a configuration file. Quotes, backslashes and commas are
 * refused: host names never contain them, and each server escapes them differently (Kea
 * splits string data on commas), so allowing them would make a renderer emit a wrong value.
 */
export function planName(name: string | undefined, field: 'serverName' | 'serviceName'): string | undefined {
  if (name === undefined) return undefined;
  assertAscii(name, field);
  const bad = /["\\,]/.exec(name);
  if (bad) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ARGUMENT',
      field,
      name,
      `character ${JSON.stringify(bad[0])} cannot be carried safely in server configurations`,
    );
  }
  if (name.length > MAX_OPTION_LENGTH - 1) {
    // 254, not 255: dnsmasq appends a NUL to option 66.
    throw new DhcpOptionsError('PTFTP_ERR_DHCP_LENGTH', field, name.length, 'a name is at most 254 bytes');
  }
  return name;
}

/** A pool or tag name: one word, because IOS and dnsmasq read it as one token. */
export function planPoolName(plan: DhcpPlan): string | undefined {
  const name = plan.scope?.poolName;
  if (name === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ARGUMENT',
      'scope.poolName',
      name,
      'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return name;
}
