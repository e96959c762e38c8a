import { AbortedError } from '@ptftp/protocol';

/**
 * Coalesces concurrent work for the same key: the first caller starts it, later callers join.
 * The work gets its own AbortSignal, aborted only when every caller has given up, so one phone
 * hanging up does not cancel the fetch a thousand others wait for.
 *
 * With `linger`, a result stays joinable after it is ready until the promise `linger` returns
 * for it settles: a file still streaming in is handed to every request that comes meanwhile,
 * instead of starting a second fetch of it.
 */
export class SharedFetches<T> {
  readonly #linger: ((value: T) => Promise<unknown> | undefined) | undefined;

  constructor(opts: { linger?: (value: T) => Promise<unknown> | undefined } = {}) {
    this.#linger = opts.linger;
  }

  readonly #inflight = new Map<
    string,
    { promise: Promise<T>; controller: AbortController; waiters: number }
  >();

  /** Every job still running, detached or not, so that `abortAll` reaches them all. */
  readonly #live = new Set<AbortController>();

  get size(): number {
    return this.#inflight.size;
  }

  /** True when `key` joined work already in flight. */
  has(key: string): boolean {
    return this.#inflight.has(key);
  }

  run(key: string, start: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let job = this.#inflight.get(key);
    if (!job) {
      const controller = new AbortController();
      this.#live.add(controller);
      const promise = start(controller.signal);
      const forget = () => {
        this.#live.delete(controller);
        if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
      };
      promise.then((value) => {
        const until = this.#linger?.(value);
        if (until) until.then(forget, forget);
        else forget();
      }, forget);
      job = { promise, controller, waiters: 0 };
      this.#inflight.set(key, job);
    }
    const current = job;
    current.waiters++;
    if (!signal) return current.promise.finally(() => current.waiters--);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        current.waiters--;
        if (current.waiters === 0) {
          // Detached at once: a request arriving before the aborted work settles must start
          // afresh, not join work that can only end in AbortedError.
          if (this.#inflight.get(key) === current) this.#inflight.delete(key);
          current.controller.abort(new AbortedError('every requester gave up'));
        }
        reject(new AbortedError('request aborted', { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      current.promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          current.waiters--;
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          current.waiters--;
          reject(e);
        },
      );
    });
  }

  /**
   * Lets later callers of the keys passing `test` (or all) start new work instead of joining
   * what is in flight; the callers already waiting still get its result.
   */
  detach(test?: (key: string) => boolean): void {
    for (const key of [...this.#inflight.keys()]) if (!test || test(key)) this.#inflight.delete(key);
  }

  /** Aborts everything in flight (on close). */
  abortAll(reason: unknown): void {
    for (const controller of this.#live) controller.abort(reason);
  }
}
