import { LRUCache } from 'lru-cache';

// Device-specific names per the Cisco file list: SEP<MAC>.cnf.xml[.sgn|.enc.sgn], the per-device
// trust lists ITLSEP<MAC>.tlv / CTLSEP<MAC>.tlv, ATA<MAC>, gateways SKIGW<MAC>, AN<MAC><port>.
const DEVICE = /^(?:ITL|CTL)?((?:SEP|ATA|SKIGW|AN|BAT)[0-9A-F]{12})/i;

/**
 * The device a file name belongs to (`SEP001122334455`, upper case), or undefined for shared
 * files.
 *
 * @example
 * ```ts
 * deviceOf('SEP00112233AABB.cnf.xml.sgn'); // 'SEP00112233AABB'
 * deviceOf('ITLSEP00112233AABB.tlv');      // 'SEP00112233AABB'
 * ```
 */
export function deviceOf(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return DEVICE.exec(base)?.[1]?.toUpperCase();
}

/**
 * Learned device affinity: the cluster where a device's files were last found. The next
 * request of that device asks that cluster first; the entry is forgotten on a miss there (the
 * phone moved), on a flush, and after the same time as the cache.
 */
export class DeviceAffinity {
  readonly #map: LRUCache<string, string>;
  readonly #max: number;
  readonly #disabled: boolean;
  readonly #now: (() => number) | undefined;

  /** `now`: clock in ms (default `performance.now`), replaceable so tests drive the lifetime. */
  constructor(opts: { max?: number; ttlMs: number; now?: () => number }) {
    this.#max = opts.max ?? 100_000;
    this.#disabled = !(opts.ttlMs > 0);
    this.#now = opts.now;
    // lru-cache reads a ttl of 0 as "never expires"; a cache lifetime of 0 means the opposite.
    // With a given clock, every read asks it (no 1 ms reuse of the last reading).
    const clock = opts.now && { perf: { now: opts.now }, ttlResolution: 0 };
    this.#map = new LRUCache<string, string>({ max: this.#max, ttl: Math.max(1, opts.ttlMs), ...clock });
  }

  /** How long a learned entry lasts, in ms (0: nothing is learned). */
  get ttlMs(): number {
    return this.#disabled ? 0 : this.#map.ttl;
  }

  /**
   * The same entries under a new lifetime: each keeps what it had left, cut to `ttlMs`, so a
   * shorter cache time takes effect for affinity at once, as it does for cached files.
   */
  withTtl(ttlMs: number): DeviceAffinity {
    const next = new DeviceAffinity({ max: this.#max, ttlMs, ...(this.#now && { now: this.#now }) });
    if (next.#disabled) return next;
    const ttl = next.ttlMs;
    // Least recently used first, so that the new map keeps the same recency order.
    for (const device of this.#map.rkeys()) {
      const clusterId = this.#map.peek(device);
      const left = this.#map.getRemainingTTL(device);
      if (clusterId !== undefined && left > 0) next.#map.set(device, clusterId, { ttl: Math.min(left, ttl) });
    }
    return next;
  }

  clusterFor(device: string): string | undefined {
    return this.#map.get(device);
  }

  learn(device: string, clusterId: string): void {
    // A lifetime of 0 (no caching) learns nothing.
    if (this.#disabled) return;
    this.#map.set(device, clusterId);
  }

  forget(device: string): boolean {
    return this.#map.delete(device);
  }

  /** Forgets every device learned in one of these clusters (they were removed or changed). */
  forgetClusters(ids: ReadonlySet<string>): void {
    for (const [device, id] of this.#map.entries()) if (ids.has(id)) this.#map.delete(device);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
