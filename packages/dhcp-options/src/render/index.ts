import { DhcpOptionsError } from '../errors.js';
import type { DhcpPlan } from '../plan.js';
import { renderDnsmasq } from './dnsmasq.js';
import { renderIos } from './ios.js';
import { renderIsc, renderIsc6 } from './isc.js';
import { renderKea4, renderKea6 } from './kea.js';
import type { RendererName } from './names.js';
import { renderWindows } from './windows.js';

const renderers: Record<RendererName, (plan: DhcpPlan) => string> = {
  isc: renderIsc,
  isc6: renderIsc6,
  kea4: renderKea4,
  kea6: renderKea6,
  dnsmasq: renderDnsmasq,
  ios: renderIos,
  windows: renderWindows,
};

/**
 * Render ready-to-paste configuration for one DHCP server from a plan. Addresses are
 * validated and written in canonical form.
 *
 * @example
 * ```ts
 * render({ v4: ['10.1.1.10', '10.1.1.11'] }, 'dnsmasq');
 * // # TFTP servers for IP phones, rendered by ptftp
 * // dhcp-option-force=150,10.1.1.10,10.1.1.11
 * ```
 * @throws DhcpOptionsError `PTFTP_ERR_DHCP_TARGET_LIMIT` when the target cannot carry the
 * plan (Kea and dnsmasq past 63 option-150 addresses), `PTFTP_ERR_DHCP_EMPTY` when the plan
 * has nothing for the target's address family, and the address and name errors.
 */
export function render(plan: DhcpPlan, target: RendererName): string {
  const renderer = Object.hasOwn(renderers, target) ? renderers[target] : undefined;
  if (!renderer) {
    throw new DhcpOptionsError(
      'PTFTP_ERR_DHCP_INVALID_ARGUMENT',
      'target',
      String(target),
      `unknown renderer; use one of ${Object.keys(renderers).join(', ')}`,
    );
  }
  return renderer(plan);
}
