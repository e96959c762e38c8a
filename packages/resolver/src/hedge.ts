/**
 * Hedged requests over the addresses of one cluster: ask the first address; when it has not
 * answered after `hedgeMs`, ask the next one too, and so on; the first answer wins and the
 * others are aborted. A dead first address then costs a phone `hedgeMs` (300 ms by default)
 * instead of a full retransmission cycle. An address that fails fast (refused, an ERROR) lets
 * the next one start at once.
 *
 * A streaming fetch must not mix bytes from two addresses: an attempt `claim`s the fetch before
 * it writes its first byte; the claim aborts the others, and from then on the fetch stands or
 * falls with that address (no failover after a byte was written).
 */
import { AbortedError, TimeoutError } from '@ptftp/protocol';
import { UpstreamUnreachableError } from './errors.js';

/** Default delay before the next address is asked too. */
export const DEFAULT_HEDGE_MS = 300;

/** What one attempt gets from {@link hedgedFetch}. */
export interface HedgeAttempt {
  readonly address: string;
  /** Fires when another address won, or the whole fetch was aborted. */
  readonly signal: AbortSignal;
  /**
   * Call before writing the first byte to a sink. True: this address won, the others are
   * aborted. False: another address won first; stop (the signal is aborted too).
   */
  claim(): boolean;
  /** The address has shown life (its first DATA, response headers): it is slow, not silent. */
  alive(): void;
}

/** How {@link hedgedFetch} reports each address's end. */
export interface HedgeCallbacks {
  /** The address answered (a file, or an answer such as "not found"). */
  answered?(address: string): void;
  /** The address failed; the fetch goes on with the others unless it had claimed. */
  failed?(address: string, error: unknown): void;
  /** The attempt was cut short because another address won or the fetch was aborted. */
  abandoned?(address: string): void;
  /**
   * Another address answered while this one had said nothing for at least `hedgeMs`: it counts
   * as silent (else a dead first address would cost every later request `hedgeMs`).
   */
  silent?(address: string, error: unknown): void;
  /** The next address is asked because `from` was silent or failed. */
  hedged?(from: string, to: string): void;
}

/** Options of {@link hedgedFetch}. */
export interface HedgeOptions extends HedgeCallbacks {
  /** The upstream's id, for the error when nobody answered. */
  id: string;
  signal: AbortSignal;
  /** Wait this long for an answer before asking the next address too (default 300 ms). */
  hedgeMs?: number;
  /** Errors that are an answer for the whole cluster (e.g. "not found"): no other address is asked. */
  isAnswer?(error: unknown): boolean;
}

/**
 * Run `attempt` on the addresses of `plan`, hedged. Resolves with the first success; rejects
 * with an answer error (`isAnswer`), with the claimed attempt's error, with `AbortedError`, or
 * with `UpstreamUnreachableError` when every address failed.
 *
 * @example
 * ```ts
 * const data = await hedgedFetch(['10.0.0.1:69', '10.0.0.2:69'], ({ address, signal }) =>
 *   download(address, name, signal), { id: 'B', signal, hedgeMs: 300 });
 * ```
 */
export function hedgedFetch<T>(
  plan: readonly string[],
  attempt: (a: HedgeAttempt) => Promise<T>,
  opts: HedgeOptions,
): Promise<T> {
  const hedgeMs = opts.hedgeMs ?? DEFAULT_HEDGE_MS;
  return new Promise<T>((resolve, reject) => {
    const running = new Map<string, AbortController>();
    const launchedAt = new Map<string, number>();
    const alive = new Set<string>();
    const failures: Array<{ address: string; error: unknown }> = [];
    let next = 0;
    let settled = false;
    let claimed: string | undefined;
    let timer: NodeJS.Timeout | undefined;

    const stopOthers = (keep: string | undefined, reason: unknown) => {
      const now = performance.now();
      for (const [address, c] of running) {
        if (address === keep) continue;
        running.delete(address);
        c.abort(reason);
        const quietMs = now - (launchedAt.get(address) ?? now);
        if (keep !== undefined && !alive.has(address) && quietMs >= hedgeMs)
          opts.silent?.(
            address,
            new TimeoutError(`no answer in ${Math.round(quietMs)} ms while ${keep} answered`),
          );
        else opts.abandoned?.(address);
      }
    };
    const settle = (fn: () => void, keep?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      stopOthers(keep, new AbortedError('another address answered first'));
      // Addresses never asked were not tried: nothing to report for them.
      fn();
    };
    const onAbort = () =>
      settle(() => reject(new AbortedError('fetch aborted', { cause: opts.signal.reason })));

    const launch = (from?: string) => {
      clearTimeout(timer);
      if (settled || claimed !== undefined || next >= plan.length) return;
      const address = plan[next++]!;
      if (from !== undefined) opts.hedged?.(from, address);
      const controller = new AbortController();
      running.set(address, controller);
      launchedAt.set(address, performance.now());
      const claim = () => {
        if (settled || (claimed !== undefined && claimed !== address) || controller.signal.aborted)
          return false;
        claimed = address;
        alive.add(address);
        clearTimeout(timer);
        stopOthers(address, new AbortedError('another address started sending first'));
        return true;
      };
      const showedLife = () => void alive.add(address);
      attempt({ address, signal: controller.signal, claim, alive: showedLife }).then(
        (value) => {
          if (!running.delete(address)) return;
          opts.answered?.(address);
          settle(() => resolve(value), address);
        },
        (error: unknown) => {
          if (!running.delete(address)) return;
          if (opts.isAnswer?.(error)) {
            opts.answered?.(address);
            settle(() => reject(error), address);
            return;
          }
          opts.failed?.(address, error);
          failures.push({ address, error });
          if (claimed === address) {
            settle(() => reject(error), address);
            return;
          }
          launch(address);
          if (running.size === 0 && (next >= plan.length || claimed !== undefined))
            settle(() => reject(new UpstreamUnreachableError(opts.id, failures)));
        },
      );
      if (next < plan.length) timer = setTimeout(() => launch(address), hedgeMs);
    };

    if (opts.signal.aborted) {
      onAbort();
      return;
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (plan.length === 0) {
      settle(() => reject(new UpstreamUnreachableError(opts.id, [])));
      return;
    }
    launch();
  });
}
