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

  constructor(opts: { max?: number; ttlMs: number }) {
    this.#map = new LRUCache<string, string>({ max: opts.max ?? 100_000, ttl: opts.ttlMs });
  }

  clusterFor(device: string): string | undefined {
    return this.#map.get(device);
  }

  learn(device: string, clusterId: string): void {
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
