import { AbortedError, ServerBusyError } from '@ptftp/protocol';
import { resolverChannels } from './diagnostics.js';

/** Bounds on what the resolver fetches from remote clusters at once (`ResolverInit.cache`). */
export interface FetchBudgetOptions {
  /** Remote fetches running at once (default 128). */
  maxFetches?: number;
  /** Bytes received by fetches still running, all together (default 256 MiB). */
  maxInflightBytes?: number;
  /** How long a fetch waits for room before the request gets "server busy" (default 2000 ms). */
  waitMs?: number;
}

export const DEFAULT_MAX_FETCHES = 128;
export const DEFAULT_MAX_INFLIGHT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BUDGET_WAIT_MS = 2000;

/** One admitted fetch: count its bytes as they arrive, and give its room back at the end. */
export interface FetchTicket {
  add(bytes: number): void;
  done(): void;
}

/**
 * The global budget of remote fetches: at most `maxFetches` at once, and no new fetch while
 * the bytes of those running pass `maxInflightBytes`. Beyond it a fetch waits up to `waitMs`,
 * first come first served, then fails with `ServerBusyError` (`PTFTP_ERR_BUSY`, TFTP ERROR 0
 * "server busy"): a phone retries later, and is never told "not found" for want of room.
 *
 * @example
 * ```ts
 * const budget = new FetchBudget({ maxFetches: 8 });
 * const ticket = await budget.acquire(signal);
 * try { ticket.add(chunk.byteLength); } finally { ticket.done(); }
 * ```
 */
export class FetchBudget {
  #fetches = 0;
  #bytes = 0;
  #refusals = 0;
  #opts: Required<FetchBudgetOptions>;
  readonly #queue: Array<{ admit: () => void }> = [];

  readonly #owner: object;

  /** @param owner named in the `ptftp:resolver:budget-refusal` messages (the resolver; default the budget). */
  constructor(opts: FetchBudgetOptions = {}, owner?: object) {
    this.#opts = resolveBudget(opts);
    this.#owner = owner ?? this;
  }

  get options(): Required<FetchBudgetOptions> {
    return { ...this.#opts };
  }

  /** New bounds; fetches running keep their room, waiting ones are re-checked. */
  configure(opts: FetchBudgetOptions): void {
    this.#opts = resolveBudget(opts);
    this.#drain();
  }

  /** Fetches running now. */
  get fetches(): number {
    return this.#fetches;
  }

  /** Bytes received by the fetches running now. */
  get inflightBytes(): number {
    return this.#bytes;
  }

  /** Fetches refused for want of room, since start. */
  get refusals(): number {
    return this.#refusals;
  }

  /** Fetches waiting for room. */
  get waiting(): number {
    return this.#queue.length;
  }

  acquire(signal?: AbortSignal): Promise<FetchTicket> {
    if (signal?.aborted) return Promise.reject(new AbortedError('fetch aborted', { cause: signal.reason }));
    if (this.#queue.length === 0 && this.#hasRoom()) return Promise.resolve(this.#admit());
    if (this.#opts.waitMs <= 0) return Promise.reject(this.#refuse());
    return new Promise<FetchTicket>((resolve, reject) => {
      const entry = {
        admit: () => {
          cleanup();
          resolve(this.#admit());
        },
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.#queue.indexOf(entry);
        if (i >= 0) this.#queue.splice(i, 1);
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortedError('fetch aborted', { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(this.#refuse());
      }, this.#opts.waitMs);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(entry);
    });
  }

  #hasRoom(): boolean {
    return this.#fetches < this.#opts.maxFetches && this.#bytes < this.#opts.maxInflightBytes;
  }

  #refuse(): ServerBusyError {
    this.#refusals++;
    if (resolverChannels.budgetRefusal.hasSubscribers)
      resolverChannels.budgetRefusal.publish({ resolver: this.#owner });
    const bytes = this.#bytes >= this.#opts.maxInflightBytes;
    return new ServerBusyError(bytes ? 'upstream bytes in flight' : 'upstream fetches');
  }

  #admit(): FetchTicket {
    this.#fetches++;
    let held = 0;
    let open = true;
    return {
      add: (bytes) => {
        if (!open) return;
        held += bytes;
        this.#bytes += bytes;
      },
      done: () => {
        if (!open) return;
        open = false;
        this.#fetches--;
        this.#bytes -= held;
        this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.#hasRoom()) this.#queue[0]!.admit();
  }
}

function resolveBudget(opts: FetchBudgetOptions): Required<FetchBudgetOptions> {
  return {
    maxFetches: Math.max(1, opts.maxFetches ?? DEFAULT_MAX_FETCHES),
    maxInflightBytes: Math.max(1, opts.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES),
    waitMs: Math.max(0, opts.waitMs ?? DEFAULT_BUDGET_WAIT_MS),
  };
}
