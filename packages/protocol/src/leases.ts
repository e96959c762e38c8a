/**
 * Leases on shared things that a reconfiguration can replace while requests still use them
 * (an upstream, a resolver, a listening HTTP server, an admin endpoint): "retire when idle".
 *
 * Users `retain()` a thing for as long as they need it and `release()` it after. A thing that
 * has been replaced is `retire()`d: closed at once when nobody holds it, otherwise when its
 * last lease is released. The same rule used to be written out four times (with its own map
 * of counts and set of retired things each), and each copy could drift, leak or close early.
 *
 * @example
 * ```ts
 * const upstreams = new Leases<Upstream>((up) => up.close());
 * upstreams.retain(up);
 * try { await up.fetch(name); } finally { upstreams.release(up); }
 * // A reconfiguration replaced `up`: closed now, or when the fetch above releases it.
 * upstreams.retire(up);
 * ```
 */
export class Leases<T> {
  readonly #counts = new Map<T, number>();
  readonly #retired = new Set<T>();
  readonly #close: (thing: T) => void;

  /** @param close called once per retired thing, when it is retired idle or its last lease goes. */
  constructor(close: (thing: T) => void) {
    this.#close = close;
  }

  /** Take one lease on `thing`. */
  retain(thing: T): void {
    this.#counts.set(thing, (this.#counts.get(thing) ?? 0) + 1);
  }

  /**
   * Give one lease back. When it was the last one and `thing` is retired, `thing` is closed.
   * A release without a lease is ignored (a double release must not close a thing early).
   */
  release(thing: T): void {
    const n = this.#counts.get(thing);
    if (n === undefined) return;
    if (n > 1) {
      this.#counts.set(thing, n - 1);
      return;
    }
    this.#counts.delete(thing);
    if (this.#retired.delete(thing)) this.#close(thing);
  }

  /** Take a lease and give the release back as a function that works once. */
  lease(thing: T): () => void {
    this.retain(thing);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(thing);
    };
  }

  /** `thing` was replaced: close it now if nobody holds it, else when its last lease goes. */
  retire(thing: T): void {
    if (this.#counts.has(thing)) this.#retired.add(thing);
    else this.#close(thing);
  }

  /** Leases held on `thing` now. */
  count(thing: T): number {
    return this.#counts.get(thing) ?? 0;
  }

  /** Things retired and still held, waiting for their last lease. */
  get retired(): readonly T[] {
    return [...this.#retired];
  }

  /**
   * Forget every retired thing and return them, for a shutdown that closes them itself now
   * (their leases, when released later, close nothing a second time).
   */
  takeRetired(): T[] {
    const out = [...this.#retired];
    this.#retired.clear();
    for (const thing of out) this.#counts.delete(thing);
    return out;
  }
}
