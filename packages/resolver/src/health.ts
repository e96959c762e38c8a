import type { AddressStatus } from './upstream.js';

/** Options of {@link AddressHealth}. */
export interface AddressHealthOptions {
  /** Back-off after the first failure (default 1000 ms); doubles per further failure. */
  backoffMs?: number;
  /** Upper bound of the back-off (default 30 000 ms). */
  maxBackoffMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface State {
  failures: number;
  lastError?: string;
  nextRetryAt?: number;
  probing: boolean;
}

/**
 * Per-address health with exponential back-off, shared by every request of one upstream.
 *
 * An address that failed is skipped until its back-off ends, so a dead address costs one
 * timeout rather than one per request; then exactly one request probes it while the others
 * keep using the healthy addresses.
 *
 * @example
 * ```ts
 * const health = new AddressHealth(['10.0.0.1:69', '10.0.0.2:69']);
 * for (const address of health.plan()) { ... health.succeeded(address) / health.failed(address, err) }
 * ```
 */
export class AddressHealth {
  readonly addresses: readonly string[];
  readonly #state = new Map<string, State>();
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #now: () => number;
  readonly #waiters = new Set<() => void>();

  constructor(addresses: readonly string[], opts: AddressHealthOptions = {}) {
    this.addresses = addresses;
    this.#backoffMs = opts.backoffMs ?? 1000;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    for (const a of addresses) this.#state.set(a, { failures: 0, probing: false });
  }

  /**
   * The addresses to try for one request, in configured order: healthy ones, plus an address
   * whose back-off has ended (this request becomes its probe). When every address is backing
   * off, the one that recovers first is probed, so a cluster that came back is found again.
   */
  plan(): string[] {
    const now = this.#now();
    const order: string[] = [];
    for (const a of this.addresses) {
      const s = this.#state.get(a)!;
      if (s.failures === 0) order.push(a);
      else if (!s.probing && (s.nextRetryAt ?? 0) <= now) {
        s.probing = true;
        order.push(a);
      }
    }
    if (order.length > 0) return order;
    const idle = this.addresses
      .map((a) => [a, this.#state.get(a)!] as const)
      .filter(([, s]) => !s.probing)
      .sort(([, x], [, y]) => (x.nextRetryAt ?? 0) - (y.nextRetryAt ?? 0));
    const first = idle[0];
    if (!first) return [];
    first[1].probing = true;
    return [first[0]];
  }

  /**
   * Resolves when the state of any address changes (a probe answered, failed or was released),
   * or after `maxWaitMs`, or when `signal` fires. A request that found every address backing off
   * with its probe in flight waits for that probe, bounded, instead of failing at once: while a
   * cluster's state is unknown, phones wait rather than hear "try again".
   */
  changed(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.#waiters.add(done);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** The address answered (a file or "not found": either way it is alive). */
  succeeded(address: string): void {
    const s = this.#state.get(address);
    if (!s) return;
    s.failures = 0;
    s.probing = false;
    s.nextRetryAt = undefined;
    this.#notify();
  }

  /** The address did not answer. */
  failed(address: string, error: unknown): void {
    const s = this.#state.get(address);
    if (!s) return;
    s.failures++;
    s.probing = false;
    s.lastError = error instanceof Error ? error.message : String(error);
    s.nextRetryAt = this.#now() + Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (s.failures - 1));
    this.#notify();
  }

  /** The request was cancelled before the address answered: it proves nothing either way. */
  released(address: string): void {
    const s = this.#state.get(address);
    if (s) s.probing = false;
    this.#notify();
  }

  status(): AddressStatus[] {
    return this.addresses.map((address) => {
      const s = this.#state.get(address)!;
      const st: AddressStatus = { address, healthy: s.failures === 0, failures: s.failures };
      if (s.lastError !== undefined) st.lastError = s.lastError;
      if (s.failures > 0 && s.nextRetryAt !== undefined) st.nextRetryAt = s.nextRetryAt;
      return st;
    });
  }
}
