import { channel, subscribe } from 'node:diagnostics_channel';
import { type BudgetRefusalMessage, type CacheLookupMessage, resolverChannels } from '@ptftp/resolver';
import type { FailedInfo, ServedInfo } from './events.js';

/** A file that reached an endpoint, on `ptftp:server:served`; `server` is the ProxyServer. */
export interface ServedMessage {
  readonly server: object;
  readonly info: ServedInfo;
}

/** A request that ended without the file, on `ptftp:server:failed`. */
export interface FailedMessage {
  readonly server: object;
  readonly info: FailedInfo;
}

/**
 * The server's `node:diagnostics_channel` channels (the resolver's are in
 * `resolverChannels` of `@ptftp/resolver`). They cost nothing while nobody subscribes.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('ptftp:server:served', (m) => {
 *   const { info } = m as ServedMessage;
 *   console.log(info.transport, info.name, info.bytes);
 * });
 * ```
 */
export const serverChannels = {
  served: channel('ptftp:server:served'),
  failed: channel('ptftp:server:failed'),
} as const;

/** What a subscriber does with the events of the publishers it owns. */
export interface ChannelSink {
  cacheLookup(outcome: CacheLookupMessage['outcome']): void;
  budgetRefusal(): void;
  served(info: ServedInfo): void;
  failed(info: FailedInfo): void;
}

/** Publisher (a server or one of its resolvers) → the metrics it counts in. */
const sinks = new WeakMap<object, ChannelSink>();
let subscribed = false;

/**
 * Count the events of `publisher` in `sink`. The channels are subscribed once per process;
 * each message goes to the sink of the publisher it names, so two servers in one process
 * never count each other's events, and a resolver a reload builds counts in the same sink as
 * the one it replaced, with no counts to carry over.
 */
export function observe(publisher: object, sink: ChannelSink): void {
  sinks.set(publisher, sink);
  if (subscribed) return;
  subscribed = true;
  // By name (not Channel#subscribe): the subscription then holds its channel alive.
  subscribe(resolverChannels.cacheLookup.name, (m) => {
    const { resolver, outcome } = m as CacheLookupMessage;
    sinks.get(resolver)?.cacheLookup(outcome);
  });
  subscribe(resolverChannels.budgetRefusal.name, (m) => {
    sinks.get((m as BudgetRefusalMessage).resolver)?.budgetRefusal();
  });
  subscribe(serverChannels.served.name, (m) => {
    const { server, info } = m as ServedMessage;
    sinks.get(server)?.served(info);
  });
  subscribe(serverChannels.failed.name, (m) => {
    const { server, info } = m as FailedMessage;
    sinks.get(server)?.failed(info);
  });
}
