import { isDeepStrictEqual } from 'node:util';
import { tryParseHostPort } from '@ptftp/protocol';
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
 * afterwards. What waits for a restart: `limits.ports`, which decides how transfer sockets are
 * bound, and an address change that moves a port between a wildcard and other addresses
 * (`127.0.0.1:69` to `0.0.0.0:69`, `0.0.0.0:69` + `[::]:69` to `[::]:69`): the old and the new
 * socket cannot both be bound, and dual stack is decided when `[::]` is bound.
 */

/** `limits` without `ports`: what a running TFTP server takes. */
function liveLimits(limits: ProxyConfig['limits']): Omit<ProxyConfig['limits'], 'ports'> {
  const { ports: _ports, ...rest } = limits;
  return rest;
}

const portOf = (a: string) => {
  const hp = tryParseHostPort(a, { names: true, zone: true, portZero: true });
  return 'problem' in hp ? '' : String(hp.port);
};
const isV6 = (a: string) => a.startsWith('[');
const isWildcard = (a: string) => a.startsWith('0.0.0.0:') || a.startsWith('[::]:');

/**
 * True when moving from `before` to `after` changes an address that cannot be bound while its
 * neighbour is (or was) bound: the same port, the same family, one of them a wildcard. With
 * `v6WildcardIsDual` (TFTP, whose `[::]` serves IPv4 too unless `0.0.0.0` is listed on that
 * port) a `[::]` and an IPv4 address on one port collide as well. New addresses are compared
 * with the old and the kept ones, removed ones with the kept ones; port 0 never collides.
 */
export function socketChangeNeedsRestart(
  before: readonly string[],
  after: readonly string[],
  v6WildcardIsDual = false,
): boolean {
  const added = after.filter((a) => !before.includes(a));
  const removed = before.filter((a) => !after.includes(a));
  const kept = after.filter((a) => before.includes(a));
  // `[::]:P` is dual stack in a list without `0.0.0.0:P`.
  const dual = (list: readonly string[], port: string) =>
    list.includes(`[::]:${port}`) && !list.includes(`0.0.0.0:${port}`);
  const collide = (x: string, y: string) => {
    if (x === y || portOf(x) === '0' || portOf(x) !== portOf(y)) return false;
    if (isV6(x) === isV6(y)) return isWildcard(x) || isWildcard(y);
    const p = portOf(x);
    return (
      v6WildcardIsDual &&
      (x.startsWith('[::]:') || y.startsWith('[::]:')) &&
      (dual(before, p) || dual(after, p))
    );
  };
  return (
    added.some((x) => [...removed, ...kept].some((y) => collide(x, y))) ||
    removed.some((x) => kept.some((y) => collide(x, y)))
  );
}

/** What a reload did. */
export interface ReloadResult {
  /** Top-level keys whose new values are now in effect. */
  readonly applied: readonly string[];
  /**
   * Settings that changed but wait for a restart (`limits.ports`, `listen`, `http.listen`,
   * `admin.listen`); their running values stay.
   */
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
  const restartRequired: string[] = [];
  if (running.workers !== next.workers) restartRequired.push('workers');
  if (!isDeepStrictEqual(running.limits.ports, next.limits.ports)) restartRequired.push('limits.ports');
  if (socketChangeNeedsRestart(running.listen, next.listen, true)) restartRequired.push('listen');
  const httpList = (c: ProxyConfig) => (c.http.enabled ? c.http.listen : []);
  if (socketChangeNeedsRestart(httpList(running), httpList(next))) restartRequired.push('http.listen');
  const adminList = (c: ProxyConfig) => (c.admin.enabled ? [c.admin.listen] : []);
  if (socketChangeNeedsRestart(adminList(running), adminList(next))) restartRequired.push('admin.listen');
  const effective = keepRunning(running, next, restartRequired);
  const changed = (k: keyof ProxyConfig) => !isDeepStrictEqual(running[k], effective[k]);
  return {
    applied: LIVE_KEYS.filter(changed),
    restartRequired,
    storeReplaced: changed('store'),
  };
}

function keepRunning(
  running: ProxyConfig,
  next: ProxyConfig,
  restartRequired: readonly string[],
): ProxyConfig {
  const out = { ...next, workers: running.workers };
  out.limits = {
    ...liveLimits(next.limits),
    ...(running.limits.ports !== undefined && { ports: running.limits.ports }),
  };
  if (restartRequired.includes('listen')) out.listen = running.listen;
  if (restartRequired.includes('http.listen'))
    out.http = { ...next.http, enabled: running.http.enabled, listen: running.http.listen };
  if (restartRequired.includes('admin.listen')) out.admin = running.admin;
  return out;
}

/**
 * The configuration in effect after a reload: `next`, with what waits for a restart kept
 * from `running` (so `status` reports what the sockets really do).
 */
export function effectiveConfig(
  running: ProxyConfig,
  next: ProxyConfig,
  plan: ReloadResult = planReload(running, next),
): ProxyConfig {
  return keepRunning(running, next, plan.restartRequired);
}
