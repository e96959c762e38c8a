import type { CacheStatus } from './metrics.js';
import type { ProxyStatus } from './proxy-types.js';

/** One worker of `ptftp serve --workers N`, as `ptftp status` lists it. */
export interface WorkerStatus {
  /** 1..N: the slot, kept by the worker that replaces a dead one. */
  readonly slot: number;
  readonly pid: number | undefined;
  /** `running` answered; `starting` or `restarting` has no server to ask yet; `silent` did not answer in time. */
  readonly state: 'running' | 'starting' | 'restarting' | 'silent';
  /** Times this slot's worker died and was started again. */
  readonly restarts: number;
  readonly activeSessions?: { tftp: number; http: number } | undefined;
}

/** The whole server's status: the workers' statuses summed, and each worker on its own. */
export type ClusterStatus = ProxyStatus & { readonly workers: readonly WorkerStatus[] };

const CACHE_COUNTS = [
  'entries',
  'bytes',
  'memoryBytes',
  'diskBytes',
  'hits',
  'misses',
  'inflightFetches',
  'inflightBytes',
  'waitingFetches',
  'budgetRefusals',
] as const satisfies readonly (keyof CacheStatus)[];

/**
 * The statuses of N workers as one server: sessions, cache counts and fetches add up (each
 * worker has its own cache tiers, so entries and bytes add up too; with `cache.shared` a file
 * cached by two workers counts twice, as it takes room in both). Addresses and clusters are the
 * same in every worker: the first one's are shown. Shared cache: up only if every worker is.
 * Reloads are the primary's own count (it forwards each reload to every worker).
 *
 * @example
 * ```ts
 * const whole = sumStatuses([a, b], { applied: 1, rejected: 0 }, workers);
 * whole.activeSessions.tftp; // a.activeSessions.tftp + b.activeSessions.tftp
 * ```
 */
export function sumStatuses(
  statuses: readonly ProxyStatus[],
  reloads: ProxyStatus['reloads'],
  workers: readonly WorkerStatus[],
): ClusterStatus {
  const first = statuses[0];
  const cache = Object.fromEntries(CACHE_COUNTS.map((k) => [k, 0])) as unknown as CacheStatus;
  let tftp = 0;
  let http = 0;
  let shared: CacheStatus['shared'];
  for (const s of statuses) {
    tftp += s.activeSessions.tftp;
    http += s.activeSessions.http;
    for (const k of CACHE_COUNTS) cache[k] += s.cache[k] ?? 0;
    if (s.cache.shared)
      shared = {
        up: (shared?.up ?? true) && s.cache.shared.up,
        errors: (shared?.errors ?? 0) + s.cache.shared.errors,
      };
  }
  const started = statuses.map((s) => s.startedAt).filter((t): t is string => t !== undefined);
  const startedAt = started.sort()[0];
  return {
    state: first ? 'running' : 'idle',
    startedAt,
    uptimeSeconds: startedAt ? Math.round((Date.now() - Date.parse(startedAt)) / 1000) : 0,
    addresses: first?.addresses ?? { tftp: [], http: [] },
    activeSessions: { tftp, http },
    cache: shared ? { ...cache, shared } : cache,
    clusters: first?.clusters ?? [],
    reloads,
    workers,
  };
}
