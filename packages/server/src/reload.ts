import { isDeepStrictEqual } from 'node:util';
import type { ProxyConfig } from './config-schema.js';

/** Top-level keys whose change takes effect on reload. */
const LIVE_KEYS = [
  'store',
  'primaryId',
  'clusters',
  'discovery',
  'commonFiles',
  'cache',
  'upstream',
  'signing',
  'peerAddresses',
  'dhcp',
  'log',
  'limits',
  'listen',
  'http',
  'admin',
] as const satisfies readonly (keyof ProxyConfig)[];
/**
 * Sockets (`listen`, `http`, `admin`) are rebound on reload: new addresses bound first, old
 * ones closed after, so transfers in progress finish. `limits` applies to transfers that start
 * afterwards. Only `limits.ports`, which decides how transfer sockets are bound, waits for a
 * restart.
 */
const RESTART_KEYS = [] as const satisfies readonly (keyof ProxyConfig)[];

/** `limits` without `ports`: what a running TFTP server takes. */
function liveLimits(limits: ProxyConfig['limits']): Omit<ProxyConfig['limits'], 'ports'> {
  const { ports: _ports, ...rest } = limits;
  return rest;
}

/** What a reload did. */
export interface ReloadResult {
  /** Top-level keys whose new values are now in effect. */
  readonly applied: readonly string[];
  /** Keys that changed but wait for a restart (top-level, or `limits.ports`); the running values stay. */
  readonly restartRequired: readonly string[];
  /** True when the local store was replaced (its folder changed). */
  readonly storeReplaced: boolean;
}

/**
 * Compare the running configuration with a new one and say which changes apply live.
 * Pure, so that the rules can be tested without sockets.
 *
 * @example
 * ```ts
 * planReload(running, next); // { applied: ['clusters'], restartRequired: [], storeReplaced: false }
 * ```
 */
export function planReload(running: ProxyConfig, next: ProxyConfig): ReloadResult {
  const changed = (k: keyof ProxyConfig) =>
    k === 'limits'
      ? !isDeepStrictEqual(liveLimits(running.limits), liveLimits(next.limits))
      : !isDeepStrictEqual(running[k], next[k]);
  const restartRequired: string[] = RESTART_KEYS.filter(changed);
  if (!isDeepStrictEqual(running.limits.ports, next.limits.ports)) restartRequired.push('limits.ports');
  return {
    applied: LIVE_KEYS.filter(changed),
    restartRequired,
    storeReplaced: changed('store'),
  };
}

/**
 * The configuration in effect after a reload: live keys from `next`, restart-only keys kept
 * from `running` (so `status` reports what the sockets really do).
 */
export function effectiveConfig(running: ProxyConfig, next: ProxyConfig): ProxyConfig {
  const out = { ...next };
  for (const k of RESTART_KEYS) (out as Record<string, unknown>)[k] = running[k];
  out.limits = {
    ...liveLimits(next.limits),
    ...(running.limits.ports !== undefined && { ports: running.limits.ports }),
  };
  return out;
}
