/**
 * A bound on remote searches: how many names may be looked up in the remote clusters at once,
 * in total and per requesting address. Without it, 3,000 unique names from one host (222 KB of
 * RRQs) became 9,000 upstream requests at once across 3 clusters. A search over the bound
 * waits its turn (first come, first served) for at most `queueMs`, then fails with
 * `ServerBusyError`, which front ends answer "try again" — never "not found". Requests that
 * join a search already running for the same name cost nothing here.
 */
import { AbortedError, ServerBusyError } from '@ptftp/protocol';

/** Bounds on remote searches (`ResolverInit.searchLimits`), kept by the resolver's `SearchLimiter`. */
export interface SearchLimitOptions {
  /** Remote searches running at once, all sources (default 256). */
  maxSearches?: number;
  /**
   * Remote searches running at once for one requesting address (default 32: every phone of a
   * site behind one NAT address asking its own configuration file at the same moment).
   */
  maxSearchesPerSource?: number;
  /** Longest wait for a turn before the request is refused as busy (default 3000 ms). */
  queueMs?: number;
}

/** Defaults of {@link SearchLimitOptions}. */
export const SEARCH_LIMIT_DEFAULTS = { maxSearches: 256, maxSearchesPerSource: 32, queueMs: 3000 } as const;

interface Waiter {
  readonly source: string;
  readonly start: () => void;
}

/**
 * Counts running remote searches per source and in total; queues the rest.
 *
 * @example
 * ```ts
 * const limit = new SearchLimiter({ maxSearches: 64 });
 * const file = await limit.run('10.9.0.7', signal, () => searchClusters(name));
 * ```
 */
export class SearchLimiter {
  #opts: Required<SearchLimitOptions>;
  #running = 0;
  readonly #perSource = new Map<string, number>();
  readonly #queue: Waiter[] = [];

  constructor(opts: SearchLimitOptions = {}) {
    this.#opts = { ...SEARCH_LIMIT_DEFAULTS, ...opts };
  }

  /** New bounds; running searches finish, queued ones are admitted under the new bounds. */
  configure(opts: SearchLimitOptions = {}): void {
    this.#opts = { ...SEARCH_LIMIT_DEFAULTS, ...opts };
    this.#drain();
  }

  /** Searches running now. */
  get running(): number {
    return this.#running;
  }

  /** Searches waiting for a turn. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Run `search` when `source` has a turn; rejects with ServerBusyError after `queueMs` of waiting. */
  async run<T>(source: string | undefined, signal: AbortSignal, search: () => Promise<T>): Promise<T> {
    const key = source ?? '';
    if (!this.#fits(key)) await this.#wait(key, signal);
    else this.#take(key);
    try {
      return await search();
    } finally {
      this.#release(key);
    }
  }

  #fits(key: string): boolean {
    return (
      this.#running < this.#opts.maxSearches &&
      (this.#perSource.get(key) ?? 0) < this.#opts.maxSearchesPerSource
    );
  }

  #take(key: string): void {
    this.#running++;
    this.#perSource.set(key, (this.#perSource.get(key) ?? 0) + 1);
  }

  #release(key: string): void {
    this.#running--;
    const n = (this.#perSource.get(key) ?? 1) - 1;
    if (n <= 0) this.#perSource.delete(key);
    else this.#perSource.set(key, n);
    this.#drain();
  }

  /** Admit queued searches, oldest first, skipping those whose source is still at its bound. */
  #drain(): void {
    for (let i = 0; i < this.#queue.length && this.#running < this.#opts.maxSearches; ) {
      const w = this.#queue[i]!;
      if (this.#fits(w.source)) {
        this.#queue.splice(i, 1);
        this.#take(w.source);
        w.start();
      } else i++;
    }
  }

  #wait(key: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        source: key,
        start: () => {
          leave();
          resolve();
        },
      };
      const onAbort = () => {
        leave();
        reject(
          new AbortedError('request aborted while waiting for an upstream search', { cause: signal.reason }),
        );
      };
      const timer = setTimeout(() => {
        leave();
        reject(new ServerBusyError('upstream searches'));
      }, this.#opts.queueMs);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }
}
