/**
 * A dynamic source of remote clusters (the spec's "update remote clusters now"; in Cisco's
 * product the intercluster lookup service). `Resolver.refreshDiscovery()` calls it, validates
 * the result with the same rules as manual configuration, and applies it atomically; an
 * invalid result keeps the last good topology and reports why.
 *
 * @example
 * ```ts
 * const discovery: DiscoverySource = {
 *   async discover(signal) {
 *     const res = await fetch('https://inventory.example/clusters.json', { signal });
 *     return (await res.json()) as unknown[];
 *   },
 * };
 * ```
 */
export interface DiscoverySource {
  /** Returns raw cluster entries (`ClusterConfig`-shaped; they are validated before use). */
  discover(signal: AbortSignal): Promise<unknown[]>;
}

/**
 * A discovery source from a function, e.g. one that reads a JSON file operators edit.
 *
 * @example
 * ```ts
 * const discovery = discoveryFrom(async () => JSON.parse(await readFile('clusters.json', 'utf8')));
 * ```
 */
export function discoveryFrom(fn: (signal: AbortSignal) => Promise<unknown[]> | unknown[]): DiscoverySource {
  return { discover: async (signal) => fn(signal) };
}
