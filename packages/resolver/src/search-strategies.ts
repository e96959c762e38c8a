/**
 * How the clusters are searched for one name (`lookup` in the resolver's settings): one after
 * another, or up to `fanout` at once with the first found winning. A strategy only orders the
 * asking; `ask` (the resolver's fetch room) does the asking, and answers found, missing or
 * unreachable (it rejects only when aborted). Per-address hedging within one cluster is the
 * upstream's business (hedge.ts, hedged-health.ts).
 */
import { AbortedError } from '@ptftp/protocol';
import type { CacheFill } from './resolver-cache.js';
import type { UpstreamResult } from './upstream.js';

/** One cluster's answer for one name. */
export type Attempt =
  | {
      kind: 'found';
      clusterId: string;
      /** The file, arriving; `done` settles when the upstream is through. */
      fill: CacheFill;
      done: Promise<UpstreamResult>;
      address: string | undefined;
      /** The upstream returned the file whole (it did not stream into the fill). */
      whole: boolean;
      /** Aborts this cluster's fetch (a losing parallel answer). */
      abort?: (reason: unknown) => void;
    }
  | { kind: 'missing'; clusterId: string }
  | { kind: 'unreachable'; clusterId: string; error: unknown };

export type FoundAttempt = Extract<Attempt, { kind: 'found' }>;

/** The winner, if any, and the clusters that could not be asked. */
export interface SearchResult {
  found?: Attempt;
  failures: Array<{ address: string; error: unknown }>;
}

/** Asks one cluster (by ID) for the name being searched. */
export type AskCluster = (clusterId: string, signal: AbortSignal) => Promise<Attempt>;

/**
 * Asks the clusters one after another, in order, until one has the file.
 *
 * @example
 * ```ts
 * const { found, failures } = await searchSequential(['B', 'C'], signal, (id, s) => ask(id, name, s));
 * ```
 */
export async function searchSequential(
  ids: string[],
  signal: AbortSignal,
  ask: AskCluster,
): Promise<SearchResult> {
  const failures: Array<{ address: string; error: unknown }> = [];
  for (const id of ids) {
    const attempt = await ask(id, signal);
    if (attempt.kind === 'found') return { found: attempt, failures };
    if (attempt.kind === 'unreachable') failures.push({ address: id, error: attempt.error });
  }
  return { failures };
}

/**
 * Asks up to `fanout` clusters at once, starting the next when one answers "not found".
 * The first cluster that has the file wins; answers that arrive in the same turn of the
 * event loop are ranked by preference. The others are aborted.
 *
 * @example
 * ```ts
 * const { found, failures } = await searchParallel(['B', 'C', 'D'], 4, signal, (id, s) => ask(id, name, s));
 * ```
 */
export function searchParallel(
  ids: string[],
  fanout: number,
  signal: AbortSignal,
  ask: AskCluster,
): Promise<SearchResult> {
  return new Promise((resolve, reject) => {
    const failures: Array<{ address: string; error: unknown }> = [];
    const running = new Map<string, AbortController>();
    const winners: Array<{ rank: number; attempt: FoundAttempt }> = [];
    let next = 0;
    let settled = false;

    const finish = (value?: { found?: Attempt; failures: typeof failures }, error?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      for (const c of running.values()) c.abort(new AbortedError('another cluster answered first'));
      running.clear();
      if (error !== undefined) reject(error);
      else resolve(value!);
    };
    const onAbort = () => finish(undefined, new AbortedError('fetch aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });

    const launch = () => {
      while (!settled && winners.length === 0 && running.size < fanout && next < ids.length) {
        const rank = next++;
        const id = ids[rank]!;
        const controller = new AbortController();
        running.set(id, controller);
        ask(id, controller.signal).then(
          (attempt) => {
            running.delete(id);
            if (attempt.kind === 'found') attempt.abort = (reason) => controller.abort(reason);
            if (settled) {
              if (attempt.kind === 'found') dropAttempt(attempt);
              return;
            }
            if (attempt.kind === 'found') {
              winners.push({ rank, attempt });
              if (winners.length === 1) {
                setImmediate(() => {
                  winners.sort((a, b) => a.rank - b.rank);
                  // Answers that lost (or all of them, when the search was aborted meanwhile).
                  for (const w of winners.slice(settled ? 0 : 1)) dropAttempt(w.attempt);
                  finish({ found: winners[0]!.attempt, failures });
                });
              }
              return;
            }
            if (attempt.kind === 'unreachable') failures.push({ address: id, error: attempt.error });
            launch();
            if (running.size === 0 && next >= ids.length && winners.length === 0) finish({ failures });
          },
          (err) => {
            running.delete(id);
            if (settled) return;
            finish(undefined, err);
          },
        );
      }
    };
    launch();
    if (running.size === 0 && winners.length === 0) finish({ failures });
  });
}

/** A cluster's answer that is not used: its fetch is stopped and nothing of it kept. */
function dropAttempt(attempt: FoundAttempt): void {
  const reason = new AbortedError('another cluster answered first');
  attempt.abort?.(reason);
  attempt.fill.fail(reason);
  attempt.done.catch(() => {});
}
