import { type DhcpPlan, parseSubnet4, parseSubnet6 } from '../plan.js';
import { dualStackPlan } from './refusals.js';

/**
 * Windows Server DHCP (the DhcpServer PowerShell module). Option 150 is not predefined on
 * Windows, so its definition comes first; option 66 ("Boot Server Host Name") is. For IPv6 the
 * Cisco sub-options need a vendor class for enterprise 9. The cmdlets and parameters are
 * Microsoft's documented ones; ptftp's tests cannot run them.
 */
export function renderWindows(plan: DhcpPlan): string {
  const { v4, v6, name, service } = dualStackPlan(plan, 'windows');
  const scope = plan.scope?.subnet4 ? ` -ScopeId ${parseSubnet4(plan.scope.subnet4).network}` : '';
  const prefix = plan.scope?.subnet6 ? ` -Prefix ${parseSubnet6(plan.scope.subnet6).network}` : '';
  const lines = ['# TFTP servers for IP phones, rendered by ptftp (run in an elevated PowerShell)'];
  if (v4.length > 0) {
    lines.push(
      'Add-DhcpServerv4OptionDefinition -Name "Cisco TFTP" -OptionId 150 -Type IPv4Address -MultiValued',
      `Set-DhcpServerv4OptionValue${scope} -OptionId 150 -Value ${v4.join(',')}`,
    );
  }
  if (name !== undefined) lines.push(`Set-DhcpServerv4OptionValue${scope} -OptionId 66 -Value "${name}"`);
  if (v6.length > 0 || service !== undefined) {
    lines.push('Add-DhcpServerv6Class -Name "Cisco" -Type Vendor -VendorId 9 -Data "Cisco"');
    if (v6.length > 0) {
      lines.push(
        'Add-DhcpServerv6OptionDefinition -Name "Cisco TFTP" -OptionId 1 -Type IPv6Address -MultiValued -VendorClass "Cisco"',
        `Set-DhcpServerv6OptionValue${prefix} -VendorClass "Cisco" -OptionId 1 -Value ${v6.join(',')}`,
      );
    }
    if (service !== undefined) {
      lines.push(
        'Add-DhcpServerv6OptionDefinition -Name "Cisco TFTP service" -OptionId 2 -Type String -VendorClass "Cisco"',
        `Set-DhcpServerv6OptionValue${prefix} -VendorClass "Cisco" -OptionId 2 -Value "${service}"`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
