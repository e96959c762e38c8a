import ipaddr from 'ipaddr.js';
import { DhcpOptionsError } from './errors.js';
import { OPTION150_MAX_PER_INSTANCE } from './option150.js';
import { type DhcpPlan, planName } from './plan.js';
import type { RendererName } from './render/names.js';
import { OPTION150_CAPACITY } from './render/refusals.js';

/** How bad a finding is: `error` breaks phones, `warning` risks it, `info` is advice. */
export type Severity = 'error' | 'warning' | 'info';

/** Stable codes of the advice rules, for callers that filter or suppress findings. */
export type FindingCode =
  | 'PTFTP_DHCP_NO_TFTP_SERVER'
  | 'PTFTP_DHCP_INVALID_ADDRESS'
  | 'PTFTP_DHCP_INVALID_NAME'
  | 'PTFTP_DHCP_UNUSABLE_ADDRESS'
  | 'PTFTP_DHCP_LINK_LOCAL_V6'
  | 'PTFTP_DHCP_DUPLICATE_ADDRESS'
  | 'PTFTP_DHCP_SINGLE_SERVER'
  | 'PTFTP_DHCP_V6_ENDPOINTS_WITHOUT_V6_TFTP'
  | 'PTFTP_DHCP_V4_ENDPOINTS_WITHOUT_V4_TFTP'
  | 'PTFTP_DHCP_V6_TFTP_WITHOUT_V6_ENDPOINTS'
  | 'PTFTP_DHCP_PROXY_MUST_LISTEN_V6'
  | 'PTFTP_DHCP_TARGET_LIMIT'
  | 'PTFTP_DHCP_LONG_OPTION'
  | 'PTFTP_DHCP_ISC_DROPS_OPTION150'
  | 'PTFTP_DHCP_TARGET_FAMILY'
  | 'PTFTP_DHCP_OPTION66_INSTEAD_OF_150'
  | 'PTFTP_DHCP_OPTION66_WITH_150'
  | 'PTFTP_DHCP_SERVICE_NAME_INSTEAD_OF_ADDRESSES'
  | 'PTFTP_DHCP_UNVERIFIED_TARGET';

/** One piece of advice about a plan. */
export interface Finding {
  severity: Severity;
  code: FindingCode;
  message: string;
  /** What to change. */
  fix: string;
  /** The renderer the finding is about, when it is target-specific. */
  target?: RendererName;
  /** The plan entry at fault (`v4[1]`, `serverName`...), when there is one. */
  field?: string;
}

const V4_TARGETS: readonly RendererName[] = ['isc', 'kea4'];
const V6_TARGETS: readonly RendererName[] = ['isc6', 'kea6'];

// Ranges a phone can never reach a TFTP server at. Link-local is refused for IPv4 because
// 169.254/16 only exists when DHCP has failed, which is exactly when option 150 is not heard.
const UNUSABLE_V4 = new Set(['unspecified', 'loopback', 'multicast', 'broadcast', 'linkLocal']);
const UNUSABLE_V6 = new Set(['unspecified', 'loopback', 'multicast']);

/**
 * Review a plan and return findings, most severe first. Rules: no TFTP server at all; a single
 * server (no redundancy: the spec recommends two per cluster); IPv6 endpoints without an IPv6
 * TFTP address and the reverse (the dual-stack failure); duplicate addresses; addresses that
 * cannot serve phones; more addresses than the target can carry; option 66 or sub-option 2
 * used where addresses are recommended.
 *
 * @example
 * ```ts
 * analyze({ v4: ['10.1.1.10'] });
 * // [{ severity: 'warning', code: 'PTFTP_DHCP_SINGLE_SERVER', message: ..., fix: 'Add a second ...' }]
 * analyze({ v4: new Array(64).fill(0).map((_, i) => `10.1.1.${i + 1}`) }, { target: 'kea4' });
 * // [... { severity: 'error', code: 'PTFTP_DHCP_TARGET_LIMIT', target: 'kea4', ... }]
 * ```
 */
export function analyze(plan: DhcpPlan, opts: { target?: RendererName } = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const target = opts.target;

  const v4 = checkAddresses(plan.v4 ?? [], 'v4', add);
  const v6 = checkAddresses(plan.v6 ?? [], 'v6', add);
  const serverName = checkName(plan.serverName, 'serverName', add);
  const serviceName = checkName(plan.serviceName, 'serviceName', add);
  const hasV4 = (plan.v4?.length ?? 0) > 0 || serverName !== undefined;
  const hasV6 = (plan.v6?.length ?? 0) > 0 || serviceName !== undefined;

  if (!hasV4 && !hasV6) {
    add({
      severity: 'error',
      code: 'PTFTP_DHCP_NO_TFTP_SERVER',
      message: 'The plan gives phones no TFTP server: no IPv4 or IPv6 address and no name.',
      fix: 'List the proxy TFTP server addresses: --v4 for option 150, --v6 for DHCPv6 sub-option 1.',
    });
  }

  for (const [family, list, where] of [
    ['IPv4', v4, 'option 150'],
    ['IPv6', v6, 'DHCPv6 option 17 sub-option 1'],
  ] as const) {
    if (new Set(list).size === 1) {
      add({
        severity: 'warning',
        code: 'PTFTP_DHCP_SINGLE_SERVER',
        message: `Only one ${family} TFTP server (${list[0]}) in ${where}: phones cannot fail over when it is down.`,
        fix: `Add a second proxy TFTP server to ${where}; two per cluster is the recommended, redundant design.`,
        field: family === 'IPv4' ? 'v4' : 'v6',
      });
    }
  }

  const endpoints = plan.endpoints ?? {};
  if (endpoints.ipv6 === true && !hasV6) {
    add({
      severity: 'error',
      code: 'PTFTP_DHCP_V6_ENDPOINTS_WITHOUT_V6_TFTP',
      message:
        'Endpoints use IPv6 but the plan has no IPv6 TFTP address: IPv6-only phones never find a TFTP server.',
      fix: 'Add the proxy TFTP servers IPv6 addresses (--v6) so DHCPv6 sends the Cisco sub-option 1.',
      field: 'v6',
    });
  }
  if (endpoints.ipv4 === true && !hasV4) {
    add({
      severity: 'error',
      code: 'PTFTP_DHCP_V4_ENDPOINTS_WITHOUT_V4_TFTP',
      message:
        'Endpoints use IPv4 but the plan has no IPv4 TFTP address: IPv4 phones never find a TFTP server.',
      fix: 'Add the proxy TFTP servers IPv4 addresses (--v4) for option 150.',
      field: 'v4',
    });
  }
  if (hasV6 && endpoints.ipv6 === false) {
    add({
      severity: 'warning',
      code: 'PTFTP_DHCP_V6_TFTP_WITHOUT_V6_ENDPOINTS',
      message:
        'IPv6 TFTP addresses are advertised but the endpoints are marked IPv4-only: a phone that learns an IPv6 ' +
        'TFTP address and reaches a server listening on IPv4 only never gets its files and never registers.',
      fix: 'Either remove the IPv6 TFTP addresses from the plan or make the proxy and the endpoints dual-stack.',
      field: 'v6',
    });
  } else if (v6.length > 0) {
    add({
      severity: 'info',
      code: 'PTFTP_DHCP_PROXY_MUST_LISTEN_V6',
      message: `Phones will fetch files from ${v6.join(', ')}: a proxy that listens on IPv4 only leaves them unregistered.`,
      fix: 'Make the proxy TFTP server listen on these IPv6 addresses as well as on IPv4.',
      field: 'v6',
    });
  }

  if (serverName !== undefined) {
    add(
      v4.length === 0
        ? {
            severity: 'warning',
            code: 'PTFTP_DHCP_OPTION66_INSTEAD_OF_150',
            message: `Option 66 (${serverName}) is the only IPv4 pointer: it is a discouraged alternative to option 150, carries one name, and depends on DNS.`,
            fix: 'Send option 150 with the proxy TFTP server addresses (two for redundancy) instead of option 66.',
            field: 'serverName',
          }
        : {
            severity: 'info',
            code: 'PTFTP_DHCP_OPTION66_WITH_150',
            message:
              'Both option 150 and option 66 are sent; Cisco phones use option 150 and the two can drift apart.',
            fix: 'Drop option 66 unless other devices on the scope need it.',
            field: 'serverName',
          },
    );
  }
  if (serviceName !== undefined && v6.length === 0) {
    add({
      severity: 'warning',
      code: 'PTFTP_DHCP_SERVICE_NAME_INSTEAD_OF_ADDRESSES',
      message: `DHCPv6 sub-option 2 (${serviceName}) is the only IPv6 pointer: it is a discouraged alternative resolved by a DNS service query.`,
      fix: 'Send sub-option 1 with the proxy TFTP server IPv6 addresses instead.',
      field: 'serviceName',
    });
  }

  const count4 = (plan.v4 ?? []).length;
  if (target !== undefined) {
    const limit = OPTION150_CAPACITY[target];
    if (limit !== undefined && count4 > limit) {
      add({
        severity: 'error',
        code: 'PTFTP_DHCP_TARGET_LIMIT',
        message: `${count4} IPv4 TFTP addresses need ${count4 * 4} bytes of option 150; ${target} cannot send more than 255 bytes (${limit} addresses).`,
        fix: 'List fewer servers (phones only need two or three), or use ISC dhcpd, which splits long options (RFC 3396).',
        target,
        field: 'v4',
      });
    }
    if (V4_TARGETS.includes(target) && !hasV4 && hasV6) {
      add(familyFinding(target, 'IPv4', 'isc6 or kea6'));
    }
    if (V6_TARGETS.includes(target) && !hasV6 && hasV4) {
      add(familyFinding(target, 'IPv6', 'isc or kea4'));
    }
    // With both families in the plan, a one-family target silently leaves the other out.
    if (V4_TARGETS.includes(target) && hasV4 && hasV6) {
      add(halfRendered(target, 'IPv4', 'IPv6', target === 'isc' ? 'isc6' : 'kea6'));
    }
    if (V6_TARGETS.includes(target) && hasV6 && hasV4) {
      add(halfRendered(target, 'IPv6', 'IPv4', target === 'isc6' ? 'isc' : 'kea4'));
    }
    if (target === 'windows') {
      add({
        severity: 'info',
        code: 'PTFTP_DHCP_UNVERIFIED_TARGET',
        message:
          'The Windows Server commands follow Microsoft documentation; ptftp cannot load them in its tests.',
        fix: 'Run the commands on a test DHCP server first and check a reply (for example with tshark).',
        target,
      });
    }
  }
  if (
    count4 > OPTION150_MAX_PER_INSTANCE &&
    (target === undefined || OPTION150_CAPACITY[target] === undefined)
  ) {
    add({
      severity: 'warning',
      code: 'PTFTP_DHCP_LONG_OPTION',
      message: `${count4} IPv4 TFTP addresses do not fit one option 150 (63 at most): it becomes an RFC 3396 long option that Kea and dnsmasq cannot send and some phones may not join.`,
      fix: 'List fewer servers; two per cluster is the recommended design.',
      field: 'v4',
      ...(target === undefined ? {} : { target }),
    });
  }

  if (count4 >= ISC_DROPS_FROM && (target === undefined || target === 'isc')) {
    add({
      severity: 'warning',
      code: 'PTFTP_DHCP_ISC_DROPS_OPTION150',
      message: `${count4} IPv4 TFTP addresses need ${count4 * 4} bytes of option 150: ISC dhcpd leaves the whole option out, without a word, of a reply in the default 576-byte DHCP message (from ${ISC_DROPS_FROM} addresses, measured with dhcpd 4.4.3).`,
      fix: 'List fewer servers (two or three per cluster), or make sure the phones send a larger maximum message size (option 57).',
      field: 'v4',
      ...(target === undefined ? {} : { target }),
    });
  }

  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  return findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/**
 * The address count from which ISC dhcpd 4.4.3 silently drops option 150 from a DHCPACK to a
 * client that sent no option 57 (test/interop-isc.spec.ts measures 71 sent, 72 dropped).
 */
const ISC_DROPS_FROM = 72;

function familyFinding(target: RendererName, family: string, other: string): Finding {
  return {
    severity: 'error',
    code: 'PTFTP_DHCP_TARGET_FAMILY',
    message: `${target} only sends ${family} options, and the plan has no ${family} TFTP server.`,
    fix: `Render for ${other} instead, or add ${family} TFTP addresses.`,
    target,
  };
}

function halfRendered(target: RendererName, sent: string, left: string, other: RendererName): Finding {
  return {
    severity: 'warning',
    code: 'PTFTP_DHCP_TARGET_FAMILY',
    message: `${target} renders only the ${sent} part of the plan; its ${left} TFTP servers are not in this configuration.`,
    fix: `Render the plan again with --format ${other} for the ${left} servers.`,
    target,
  };
}

/** Validate and classify a list; returns the canonical texts of the usable addresses. */
function checkAddresses(list: readonly string[], key: 'v4' | 'v6', add: (f: Finding) => void): string[] {
  const usable: string[] = [];
  const seen = new Map<string, number>();
  const where = key === 'v4' ? 'option 150' : 'DHCPv6 sub-option 1';
  list.forEach((text, i) => {
    const field = `${key}[${i}]`;
    const addr = parse(text, key);
    if (typeof addr === 'string') {
      add({
        severity: 'error',
        code: 'PTFTP_DHCP_INVALID_ADDRESS',
        message: `${field} ${JSON.stringify(text)}: ${addr}.`,
        fix:
          key === 'v4'
            ? 'Use a dotted-quad IPv4 address; IPv6 addresses go in --v6.'
            : 'Use an IPv6 address; IPv4 addresses go in --v4.',
        field,
      });
      return;
    }
    const canonical = addr.toString();
    const first = seen.get(canonical);
    if (first !== undefined) {
      add({
        severity: 'warning',
        code: 'PTFTP_DHCP_DUPLICATE_ADDRESS',
        message: `${field} ${text} repeats ${key}[${first}]: the duplicate adds no redundancy and takes a failover slot.`,
        fix: `Remove ${field}, or replace it with a different proxy TFTP server.`,
        field,
      });
      return;
    }
    seen.set(canonical, i);
    const range = addr.range();
    if ((key === 'v4' ? UNUSABLE_V4 : UNUSABLE_V6).has(range)) {
      add({
        severity: 'error',
        code: 'PTFTP_DHCP_UNUSABLE_ADDRESS',
        message: `${field} ${text} is a ${range} address: phones cannot reach a TFTP server there through ${where}.`,
        fix: 'Use the unicast address the proxy TFTP server listens on in the phones network.',
        field,
      });
      return;
    }
    if (key === 'v6' && range === 'linkLocal') {
      add({
        severity: 'warning',
        code: 'PTFTP_DHCP_LINK_LOCAL_V6',
        message: `${field} ${text} is link-local: only phones on the proxy's own link can reach it, and a relayed scope cannot.`,
        fix: 'Use a global or unique-local address of the proxy TFTP server.',
        field,
      });
    }
    usable.push(canonical);
  });
  return usable;
}

function parse(text: string, key: 'v4' | 'v6'): ipaddr.IPv4 | ipaddr.IPv6 | string {
  if (key === 'v4') {
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
    return ipaddr.IPv6.isValid(text) ? 'an IPv6 address cannot go in option 150' : 'not an IPv4 address';
  }
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) {
    return ipaddr.IPv4.isValid(text)
      ? 'an IPv4 address cannot go in DHCPv6 sub-option 1'
      : 'not an IPv6 address';
  }
  const addr = ipaddr.IPv6.parse(text);
  return addr.isIPv4MappedAddress() ? 'an IPv4-mapped address is not reachable over IPv6' : addr;
}

function checkName(
  name: string | undefined,
  field: 'serverName' | 'serviceName',
  add: (f: Finding) => void,
): string | undefined {
  try {
    return planName(name, field);
  } catch (err) {
    if (!(err instanceof DhcpOptionsError)) throw err;
    add({
      severity: 'error',
      code: 'PTFTP_DHCP_INVALID_NAME',
      message: err.message,
      fix: 'Use a host name or dotted address in plain ASCII (letters, digits, ".", "-").',
      field,
    });
    return undefined;
  }
}
