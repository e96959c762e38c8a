import { channel } from 'node:diagnostics_channel';

/**
 * A cache lookup of one resolution, on `ptftp:resolver:cache-lookup`: `hit` (a cached file),
 * `negative` (a cached "not found"), `miss`. `resolver` tells which resolver looked, so a
 * subscriber counts the resolvers it owns and no other (a process may hold several servers).
 */
export interface CacheLookupMessage {
  readonly resolver: object;
  readonly name: string;
  readonly outcome: 'hit' | 'negative' | 'miss';
}

/** A request refused "server busy" for want of room in the fetch budget, on `ptftp:resolver:budget-refusal`. */
export interface BudgetRefusalMessage {
  readonly resolver: object;
}

/**
 * The resolver's `node:diagnostics_channel` channels. Publishing costs a property read when
 * nobody subscribes; a subscriber (the server's Prometheus metrics) subscribes once per
 * process and follows every resolver, including the ones a reload builds.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('ptftp:resolver:cache-lookup', (m) => {
 *   const { outcome } = m as CacheLookupMessage;
 *   lookups[outcome]++;
 * });
 * ```
 */
export const resolverChannels = {
  cacheLookup: channel('ptftp:resolver:cache-lookup'),
  budgetRefusal: channel('ptftp:resolver:budget-refusal'),
} as const;

/** Publish a cache lookup when someone listens. */
export function publishCacheLookup(message: CacheLookupMessage): void {
  if (resolverChannels.cacheLookup.hasSubscribers) resolverChannels.cacheLookup.publish(message);
}
