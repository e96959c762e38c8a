/**
 * A hedged fetch over a cluster's addresses as their health plans them: one shape for every
 * upstream (TFTP, HTTP), so the rule "only silence marks an address down" and the release of
 * planned probes live in one place.
 */
import { AbortedError } from '@ptftp/protocol';
import type { AddressHealth } from './health.js';
import { type HedgeAttempt, hedgedFetch } from './hedge.js';
import { isSilence } from './silence.js';
import type { UpstreamReporter } from './upstream.js';

/** Options of {@link hedgeOverHealth}. */
export interface HealthHedgeOptions {
  /** The upstream's id, for the error when nobody answered. */
  id: string;
  signal: AbortSignal;
  hedgeMs?: number | undefined;
  /** Errors that are the cluster's answer (e.g. "not found"): no other address is asked. */
  isAnswer(error: unknown): boolean;
  /** Longest wait for a probe's verdict when every address is backing off. */
  probeWaitMs: number;
  reporter?: UpstreamReporter | undefined;
}

/**
 * Runs `attempt` on the addresses `health` plans, hedged: an answer marks its address healthy,
 * silence marks it down, any other failure (an ERROR, a 5xx, a limit) came from a live server
 * and leaves it up. When every address is backing off and a probe is in flight, waits for the
 * probe's verdict (bounded) instead of failing at once. Planned addresses never asked are
 * released, or they would never be planned again.
 *
 * @example
 * ```ts
 * const file = await hedgeOverHealth(health, (a) => download(a.address, a.signal), {
 *   id: 'B', signal, isAnswer: (e) => e instanceof FileNotFoundError, probeWaitMs: 2000,
 * });
 * ```
 */
export async function hedgeOverHealth<T>(
  health: AddressHealth,
  attempt: (a: HedgeAttempt) => Promise<T>,
  opts: HealthHedgeOptions,
): Promise<T> {
  const { signal, reporter } = opts;
  if (signal.aborted) throw new AbortedError('fetch aborted', { cause: signal.reason });
  let plan = health.plan();
  if (plan.length === 0) {
    await health.changed(opts.probeWaitMs, signal);
    if (signal.aborted) throw new AbortedError('fetch aborted', { cause: signal.reason });
    plan = health.plan();
  }
  const asked = new Set<string>();
  try {
    return await hedgedFetch(
      plan,
      (a) => {
        asked.add(a.address);
        return attempt(a);
      },
      {
        id: opts.id,
        signal,
        hedgeMs: opts.hedgeMs,
        isAnswer: opts.isAnswer,
        answered: (address) => health.succeeded(address),
        failed: (address, err) => {
          if (isSilence(err)) health.failed(address, err);
          else health.succeeded(address);
          reporter?.error?.(address, err);
        },
        abandoned: (address) => health.released(address),
        silent: (address, err) => {
          health.failed(address, err);
          reporter?.error?.(address, err);
        },
        hedged: (from, to) => reporter?.failover?.(from, to),
      },
    );
  } finally {
    for (const a of plan) if (!asked.has(a)) health.released(a);
  }
}
