import { type DhcpPlan, parseSubnet4, parseSubnet6, planName, planV4, planV6 } from '../plan.js';
import { capacityError, nothingFor } from './refusals.js';

type KeaOption = Record<string, string | boolean>;

/**
 * Kea DHCPv4 as a JSON fragment to merge into `kea-dhcp4.conf`. Code 150 needs an
 * option-def; every option carries `always-send` because Kea otherwise sends only what the
 * client's parameter request list names.
 */
export function renderKea4(plan: DhcpPlan): string {
  const v4 = planV4(plan);
  const name = planName(plan.serverName, 'serverName');
  if (v4.length === 0 && name === undefined)
    throw nothingFor('kea4', 'v4', 'option 150 addresses or a server name');
  const limit = capacityError('kea4', v4.length);
  if (limit) throw limit;
  const dhcp4: Record<string, unknown> = {};
  const data: KeaOption[] = [];
  if (v4.length > 0) {
    dhcp4['option-def'] = [
      { name: 'cisco-tftp-servers', code: 150, space: 'dhcp4', type: 'ipv4-address', array: true },
    ];
    data.push({ name: 'cisco-tftp-servers', data: v4.join(', '), 'always-send': true });
  }
  if (name !== undefined) data.push({ name: 'tftp-server-name', data: name, 'always-send': true });
  const subnet = plan.scope?.subnet4;
  if (subnet === undefined) dhcp4['option-data'] = data;
  else dhcp4.subnet4 = [{ subnet: parseSubnet4(subnet).cidr, 'option-data': data }];
  return `${JSON.stringify({ Dhcp4: dhcp4 }, null, 2)}\n`;
}

/**
 * Kea DHCPv6 as a JSON fragment to merge into `kea-dhcp6.conf`. Kea 2.2 needs both the
 * `vendor-opts` entry (or it answers only clients that sent enterprise 9 themselves) and
 * `always-send` on the sub-options (or it sends an empty option 17).
 */
export function renderKea6(plan: DhcpPlan): string {
  const v6 = planV6(plan);
  const service = planName(plan.serviceName, 'serviceName');
  if (v6.length === 0 && service === undefined) {
    throw nothingFor('kea6', 'v6', 'IPv6 TFTP addresses or a service name');
  }
  const defs: Record<string, unknown>[] = [];
  const data: KeaOption[] = [{ name: 'vendor-opts', data: '9', 'always-send': true }];
  if (v6.length > 0) {
    defs.push({ name: 'cisco-tftp-servers', code: 1, space: 'vendor-9', type: 'ipv6-address', array: true });
    data.push({ name: 'cisco-tftp-servers', space: 'vendor-9', data: v6.join(', '), 'always-send': true });
  }
  if (service !== undefined) {
    defs.push({ name: 'cisco-tftp-service', code: 2, space: 'vendor-9', type: 'string' });
    data.push({ name: 'cisco-tftp-service', space: 'vendor-9', data: service, 'always-send': true });
  }
  const dhcp6: Record<string, unknown> = { 'option-def': defs };
  const subnet = plan.scope?.subnet6;
  if (subnet === undefined) dhcp6['option-data'] = data;
  else dhcp6.subnet6 = [{ subnet: parseSubnet6(subnet).cidr, 'option-data': data }];
  return `${JSON.stringify({ Dhcp6: dhcp6 }, null, 2)}\n`;
}
