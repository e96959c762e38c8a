import { type DhcpPlan, parseSubnet4, parseSubnet6, planPoolName } from '../plan.js';
import { capacityError, dualStackPlan } from './refusals.js';

/**
 * dnsmasq. `dhcp-option-force` sends the options even to a client that did not ask for them
 * (the same job as Kea's `always-send`). The name is always quoted: an unquoted IP literal
 * would be sent as 4 binary bytes instead of text.
 */
export function renderDnsmasq(plan: DhcpPlan): string {
  const { v4, v6, name, service } = dualStackPlan(plan, 'dnsmasq');
  const limit = capacityError('dnsmasq', v4.length);
  if (limit) throw limit;
  const pool = planPoolName(plan);
  const tag = pool === undefined ? '' : `tag:${pool},`;
  const lines = ['# TFTP servers for IP phones, rendered by ptftp'];
  if (pool !== undefined) {
    // The options apply only to clients whose dhcp-range sets this tag.
    const ranges = [
      plan.scope?.subnet4 && parseSubnet4(plan.scope.subnet4).cidr,
      plan.scope?.subnet6 && parseSubnet6(plan.scope.subnet6).cidr,
    ]
      .filter(Boolean)
      .join(' and ');
    lines.push(`# Set the tag on the voice range${ranges ? ` (${ranges})` : ''}: dhcp-range=set:${pool},...`);
  }
  if (v4.length > 0) lines.push(`dhcp-option-force=${tag}150,${v4.join(',')}`);
  if (name !== undefined) lines.push(`dhcp-option-force=${tag}66,"${name}"`);
  if (v6.length > 0)
    lines.push(`dhcp-option-force=${tag}vi-encap:9,option6:1,${v6.map((a) => `[${a}]`).join(',')}`);
  if (service !== undefined) lines.push(`dhcp-option-force=${tag}vi-encap:9,option6:2,"${service}"`);
  return `${lines.join('\n')}\n`;
}
