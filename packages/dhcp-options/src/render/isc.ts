import { type DhcpPlan, parseSubnet4, parseSubnet6, planName, planV4, planV6 } from '../plan.js';
import { nothingFor } from './refusals.js';

/**
 * ISC dhcpd (DHCPv4). Option 150 has no built-in name in dhcpd, so the definition comes first;
 * `tftp-server-name` (66) is built in. dhcpd splits long options itself (RFC 3396), so no
 * address count is refused. dhcpd only sends what the client's parameter request list (55)
 * names, and phones do not always name 150: the rendering appends 150 (hex 96) and 66 (42) to
 * that list, as Kea's `always-send` and dnsmasq's `dhcp-option-force` do.
 */
export function renderIsc(plan: DhcpPlan): string {
  const v4 = planV4(plan);
  const name = planName(plan.serverName, 'serverName');
  if (v4.length === 0 && name === undefined)
    throw nothingFor('isc', 'v4', 'option 150 addresses or a server name');
  const lines = ['# TFTP servers for IP phones (option 150, RFC 5859), rendered by ptftp'];
  const body: string[] = [];
  if (v4.length > 0) {
    lines.push('option voip-tftp-server code 150 = array of ip-address;');
    body.push(`option voip-tftp-server ${v4.join(', ')};`);
  }
  if (name !== undefined) body.push(`option tftp-server-name "${name}";`);
  const codes = [...(v4.length > 0 ? ['96'] : []), ...(name !== undefined ? ['42'] : [])];
  body.push(
    '# Send them even to a client whose parameter request list (55) does not name them.',
    'if exists dhcp-parameter-request-list {',
    `  option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, ${codes.join(':')});`,
    '}',
  );
  const subnet = plan.scope?.subnet4;
  if (subnet === undefined) return `${[...lines, ...body].join('\n')}\n`;
  const s = parseSubnet4(subnet);
  return `${[...lines, '', `subnet ${s.network} netmask ${s.netmask} {`, ...body.map((l) => `  ${l}`), '}'].join('\n')}\n`;
}

/**
 * ISC dhcpd6. The Cisco sub-options live in an option space of their own with 16-bit codes
 * and lengths, encapsulated in the vendor option (vsio) under enterprise 9.
 *
 * Unlike the v4 rendering, nothing here forces option 17 on a client that did not ask for it,
 * because ISC dhcpd -6 offers no way to: it adds vendor options only when 17 is in the
 * server's fixed list for the message type or in the ORO (option 6) of the client's own
 * request, and it reads that ORO from the request alone. A configured
 * `option dhcp6.oro = concat(...)`, the v6 twin of the v4 parameter-list append, is accepted
 * and ignored (tested with dhcpd 4.4.3 in test/interop-isc6.spec.ts). The rendering says so in
 * a comment and names the servers that can force it (Kea's `always-send`, dnsmasq's
 * `dhcp-option-force`).
 */
export function renderIsc6(plan: DhcpPlan): string {
  const v6 = planV6(plan);
  const service = planName(plan.serviceName, 'serviceName');
  if (v6.length === 0 && service === undefined) {
    throw nothingFor('isc6', 'v6', 'IPv6 TFTP addresses or a service name');
  }
  const lines = [
    '# TFTP servers for IP phones (DHCPv6 option 17, enterprise 9), rendered by ptftp',
    '# ISC dhcpd -6 sends option 17 only to a client whose Option Request Option (6) asks',
    '# for 17, and no setting forces it (a dhcp6.oro append is ignored). Cisco phones ask for',
    '# it; for clients that do not, use Kea (always-send) or dnsmasq (dhcp-option-force).',
    'option space cisco code width 2 length width 2;',
    'option cisco.tftp-servers code 1 = array of ip6-address;',
    'option cisco.tftp-service code 2 = text;',
    'option vsio.cisco code 9 = encapsulate cisco;',
  ];
  const body: string[] = [];
  if (v6.length > 0) body.push(`option cisco.tftp-servers ${v6.join(', ')};`);
  if (service !== undefined) body.push(`option cisco.tftp-service "${service}";`);
  const subnet = plan.scope?.subnet6;
  if (subnet === undefined) return `${[...lines, ...body].join('\n')}\n`;
  const s = parseSubnet6(subnet);
  return `${[...lines, '', `subnet6 ${s.cidr} {`, ...body.map((l) => `  ${l}`), '}'].join('\n')}\n`;
}
