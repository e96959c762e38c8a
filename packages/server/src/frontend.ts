import { endpointUrl } from './address.js';
import type { ProxyConfig } from './config-schema.js';
import type { BoundAddress } from './proxy-types.js';

/**
 * The second half of a rebind: the new sockets are bound already. `commit()` makes them the
 * front end's and lets go of the ones the new configuration no longer lists (requests in
 * progress finish); `rollback()` releases the new ones and leaves everything as it was.
 */
export interface Rebind {
  commit(): void;
  rollback(): void;
}

/** A rebind with nothing to do. */
export const UNCHANGED: Rebind = { commit() {}, rollback() {} };

/**
 * One way in to the proxy (the TFTP, HTTP and admin front ends; an HTTPS one is one more
 * instance of the HTTP front end with another server factory). `ProxyServer` holds a list of
 * them and treats them alike: it binds them at start, rebinds them on reload (all bind first,
 * then all commit, or all roll back), reads their addresses and closes them.
 *
 * @example
 * ```ts
 * const steps = [];
 * for (const f of frontends) steps.push(await f.rebind(next)); // a ListenError stops here
 * for (const s of steps) s.commit();
 * ```
 */
export interface Frontend {
  /** Which list of `ProxyServer.addresses` its sockets appear in. */
  readonly kind: 'tftp' | 'http' | 'admin';
  /** Bind the sockets `config` asks for (none when the front end is disabled there). */
  listen(config: ProxyConfig): Promise<void>;
  /** Bind what `next` adds; a bind that fails throws a ListenError with nothing changed. */
  rebind(next: ProxyConfig): Promise<Rebind>;
  /** The sockets listening now. */
  readonly bound: readonly BoundAddress[];
  /** Transfers or requests in progress. */
  readonly active: number;
  /** Stop accepting; what is in progress gets `graceMs` to finish. */
  close(graceMs: number): Promise<void>;
}

/** A bound socket as `ProxyServer.addresses` lists it. */
export function boundAddress(scheme: string, address: string, port: number): BoundAddress {
  const family = address.includes(':') ? 6 : 4;
  return { address, port, family, url: endpointUrl(scheme, { host: address, port }) };
}
