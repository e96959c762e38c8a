// Why a renderer refuses a plan: the server cannot carry it, or the plan has nothing for it.
import { DhcpOptionsError } from '../errors.js';
import { OPTION150_MAX_PER_INSTANCE } from '../option150.js';
import { type DhcpPlan, planName, planV4, planV6 } from '../plan.js';
import type { RendererName } from './names.js';

/**
 * The most option-150 addresses each target can send. Kea 2.2 will not pack an option over
 * 255 bytes (it drops it from the reply) and dnsmasq refuses such a configuration, so both stop
 * at one instance (63 addresses). ISC dhcpd implements RFC 3396; the others are not limited by
 * anything documented.
 */
export const OPTION150_CAPACITY: Readonly<Partial<Record<RendererName, number>>> = {
  kea4: OPTION150_MAX_PER_INSTANCE,
  dnsmasq: OPTION150_MAX_PER_INSTANCE,
};

/** The error a renderer throws when `count` option-150 addresses exceed what `target` carries. */
export function capacityError(target: RendererName, count: number): DhcpOptionsError | undefined {
  const limit = OPTION150_CAPACITY[target];
  if (limit === undefined || count <= limit) return undefined;
  return new DhcpOptionsError(
    'PTFTP_ERR_DHCP_TARGET_LIMIT',
    'v4',
    count,
    `${target} cannot send option 150 longer than 255 bytes (${limit} addresses); ` +
      'use ISC dhcpd, which splits long options (RFC 3396), or list fewer servers',
  );
}

/** The error for a plan with nothing this target's address family can send. */
export function nothingFor(target: RendererName, field: string, what: string): DhcpOptionsError {
  return new DhcpOptionsError('PTFTP_ERR_DHCP_EMPTY', field, '', `${target} needs ${what}`);
}

/**
 * What a renderer that serves both stacks takes from a plan: the addresses and names, checked,
 * or the "nothing to send" error when the plan has none of them.
 */
export function dualStackPlan(
  plan: DhcpPlan,
  target: RendererName,
): { v4: string[]; v6: string[]; name: string | undefined; service: string | undefined } {
  const v4 = planV4(plan);
  const v6 = planV6(plan);
  const name = planName(plan.serverName, 'serverName');
  const service = planName(plan.serviceName, 'serviceName');
  if (v4.length === 0 && v6.length === 0 && name === undefined && service === undefined) {
    throw nothingFor(target, 'v4', 'TFTP addresses or names');
  }
  return { v4, v6, name, service };
}
