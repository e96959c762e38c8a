/**
 * A token bucket per source address for new sessions. The table is bounded, so a flood of
 * spoofed sources costs a fixed amount of memory: the least recently seen source is forgotten.
 */

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Per-key token buckets with a bounded table. */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * @param ratePerSecond - tokens added per second (Infinity turns the limiter off)
   * @param burst - bucket capacity
   * @param maxTracked - most sources remembered at once
   * @param now - clock in ms (replaceable in tests)
   */
  constructor(
    private ratePerSecond: number,
    private burst: number,
    private readonly maxTracked = 65536,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    if (this.ratePerSecond === Number.POSITIVE_INFINITY) return true;
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, updatedAt: t };
      if (this.buckets.size >= this.maxTracked) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      bucket.tokens = Math.min(
        this.burst,
        bucket.tokens + ((t - bucket.updatedAt) / 1000) * this.ratePerSecond,
      );
      bucket.updatedAt = t;
      // Re-insert so that Map order is least-recently-seen first.
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * New rate and burst. Sources keep their buckets (a reload must not hand every source a
   * fresh burst); a bucket holds at most the new burst.
   */
  reconfigure(ratePerSecond: number, burst: number): void {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    for (const bucket of this.buckets.values()) bucket.tokens = Math.min(bucket.tokens, burst);
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.buckets.size;
  }
}
