import { type DhcpPlan, parseSubnet4, parseSubnet6, planPoolName } from '../plan.js';
import { dualStackPlan } from './refusals.js';

/**
 * Cisco IOS / IOS XE DHCP server pools. The IPv4 pool carries option 150 (and 66); the IPv6
 * pool carries the Cisco vendor-specific block with sub-options 1 and 2.
 */
export function renderIos(plan: DhcpPlan): string {
  const { v4, v6, name, service } = dualStackPlan(plan, 'ios');
  const pool = planPoolName(plan) ?? 'VOICE';
  const lines = ['! TFTP servers for IP phones, rendered by ptftp'];
  if (v4.length > 0 || name !== undefined) {
    lines.push(`ip dhcp pool ${pool}`);
    if (plan.scope?.subnet4) {
      const s = parseSubnet4(plan.scope.subnet4);
      lines.push(` network ${s.network} ${s.netmask}`);
    }
    if (v4.length > 0) lines.push(` option 150 ip ${v4.join(' ')}`);
    if (name !== undefined) lines.push(` option 66 ascii "${name}"`);
    lines.push('!');
  }
  if (v6.length > 0 || service !== undefined) {
    lines.push(`ipv6 dhcp pool ${pool}`);
    if (plan.scope?.subnet6) lines.push(` address prefix ${parseSubnet6(plan.scope.subnet6).cidr}`);
    lines.push(' vendor-specific 9');
    if (v6.length > 0) lines.push(`  suboption 1 address ${v6.join(' ')}`);
    if (service !== undefined) lines.push(`  suboption 2 ascii "${service}"`);
    lines.push('!');
  }
  return `${lines.join('\n')}\n`;
}
