/**
 * The server's listening sockets: binding (addresses, inherited descriptors, the dual-stack
 * rule), unlistening with a drain (an unlistened socket stays open while its transfers need
 * it), taking a draining socket back when its address is asked for again, and closing.
 */
import type dgram from 'node:dgram';
import { InvalidArgumentError } from './errors.js';
import type { ListeningAddress } from './events.js';
import type { RemoteInfo } from './handler.js';
import type { ListenSpec } from './listen-address.js';
import type { ResolvedOptions } from './server-options.js';
import type { SessionRecord } from './session-table.js';
import { literalLookup } from './transport.js';

/** One listening socket and the transfers started from it. */
export interface Listener {
  readonly socket: dgram.Socket;
  readonly type: 'udp4' | 'udp6';
  readonly ipv6Only: boolean;
  readonly bound: ListeningAddress;
  /** Transfers started from this socket, by peer address then port. */
  readonly sessions: Map<string, Map<number, SessionRecord>>;
  closed: boolean;
  /** Unlistened: takes no new request; closed once nothing running needs it (see closeIfDrained). */
  draining: boolean;
}

const ignore = (): void => {};

/** IPv4 peers of a dual-stack socket arrive as ::ffff:a.b.c.d; report them as IPv4. */
export function toRemote(rinfo: dgram.RemoteInfo): RemoteInfo {
  if (rinfo.family === 'IPv6' && rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.'))
    return { address: rinfo.address.slice(7), port: rinfo.port, family: 'IPv4' };
  return { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/**
 * An IPv6 listening socket is dual stack only for `[::]` with no `0.0.0.0` on its port. An
 * inherited socket keeps the IPV6_V6ONLY its parent chose; mapped IPv4 peers are handled either way.
 */
export function wantsIpv6Only(spec: ListenSpec, all: readonly ListenSpec[]): boolean {
  if (spec.family !== 'IPv6' || spec.fd !== undefined) return false;
  return !(spec.address === '::' && !all.some((s) => s.address === '0.0.0.0' && s.port === spec.port));
}

/** Bind one listening socket as `spec` asks; `onMessage` gets every datagram it receives. */
export async function bindListener(
  spec: ListenSpec,
  all: readonly ListenSpec[],
  config: ResolvedOptions,
  onMessage: (listener: Listener, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<Listener> {
  const type = spec.family === 'IPv6' ? 'udp6' : 'udp4';
  const ipv6Only = wantsIpv6Only(spec, all);
  const socket = config.createSocket({
    type,
    ipv6Only,
    lookup: literalLookup as never,
    recvBufferSize: config.recvBufferSize,
    ...(config.sendBufferSize ? { sendBufferSize: config.sendBufferSize } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    const bound = () => {
      socket.off('error', reject);
      resolve();
    };
    if (spec.fd !== undefined) socket.bind({ fd: spec.fd }, bound);
    else socket.bind(spec.port, spec.address, bound);
  });
  const a = socket.address();
  if (spec.fd !== undefined && a.family !== spec.family) {
    socket.close();
    throw new InvalidArgumentError(
      'family',
      `descriptor ${spec.fd} is an ${a.family} socket (${a.address}), not ${spec.family}`,
    );
  }
  const listener: Listener = {
    socket,
    type,
    ipv6Only,
    bound: { address: a.address, port: a.port, family: spec.family },
    sessions: new Map(),
    closed: false,
    draining: false,
  };
  // Errors after bind (e.g. ICMP-triggered ECONNREFUSED on some stacks) must not crash the host.
  socket.on('error', ignore);
  socket.on('message', (msg, rinfo) => onMessage(listener, msg, rinfo));
  return listener;
}

/** What the listener set asks of the server it belongs to. */
export interface ListenerHost {
  /** Bind a new listening socket. */
  bind(spec: ListenSpec, all: readonly ListenSpec[]): Promise<Listener>;
  /** Whether a running transfer still needs this (draining) socket. */
  holds(listener: Listener): boolean;
  /** The server is closing: closed sockets stay listed until it has closed them all. */
  closing(): boolean;
}

/** Every listening socket of one server, bound, draining or closed. */
export class ListenerSet {
  readonly all: Listener[] = [];

  constructor(private readonly host: ListenerHost) {}

  /** Addresses listening now. */
  addresses(): ListeningAddress[] {
    return this.all.filter((l) => !l.closed && !l.draining).map((l) => ({ ...l.bound }));
  }

  /**
   * Bind the sockets `specs` ask for, taking back draining ones of the same address. On a
   * failure nothing new stays bound and the taken-back sockets drain again. Returns the
   * sockets listening now (an unlisten() during the binding wins).
   */
  async open(specs: readonly ListenSpec[]): Promise<Listener[]> {
    // Sockets bound by earlier calls count for the dual-stack rule too.
    const all = [
      ...specs,
      ...this.addresses().map((a) => ({ address: a.address, port: a.port, family: a.family })),
    ];
    const opened: Listener[] = [];
    const revived: Listener[] = [];
    const result: Listener[] = [];
    try {
      for (const spec of specs) {
        // An address unlistened while its transfers still run keeps its socket: take it back
        // rather than fail to bind the same address (EADDRINUSE).
        const draining = this.drainingListener(spec, all);
        if (draining !== undefined) {
          draining.draining = false;
          revived.push(draining);
          result.push(draining);
          continue;
        }
        const l = await this.host.bind(spec, all);
        opened.push(l);
        result.push(l);
      }
    } catch (err) {
      for (const l of opened) l.socket.close();
      for (const l of revived) {
        l.draining = true;
        this.closeIfDrained(l);
      }
      throw err;
    }
    this.all.push(...opened);
    // An unlisten() of a taken-back address while later ones were binding wins: it is not reported.
    return result.filter((l) => !l.closed && !l.draining);
  }

  /** The draining socket that `spec` asks for again, if it is bound the way `spec` wants. */
  private drainingListener(spec: ListenSpec, all: readonly ListenSpec[]): Listener | undefined {
    if (spec.fd !== undefined || spec.port === 0) return undefined;
    return this.all.find(
      (l) =>
        l.draining &&
        !l.closed &&
        l.bound.address === spec.address &&
        l.bound.port === spec.port &&
        l.ipv6Only === wantsIpv6Only(spec, all),
    );
  }

  /** Stop listening on one bound address; false when no such address is bound. */
  unlisten(address: { address: string; port: number }): boolean {
    const l = this.all.find(
      (x) => !x.closed && !x.draining && x.bound.address === address.address && x.bound.port === address.port,
    );
    if (l === undefined) return false;
    l.draining = true;
    this.closeIfDrained(l);
    return true;
  }

  /**
   * Close an unlistened socket once nothing needs it: in single-port mode, when its transfers
   * are over; with a port per transfer, when no request admitted on it still waits for its own
   * socket (a refusal or ERROR for it goes out from here).
   */
  closeIfDrained(l: Listener): void {
    if (!l.draining || l.closed) return;
    if (this.host.holds(l)) return;
    this.close(l);
    // Gone for good: a server rebound many times keeps no trace of its old sockets.
    const i = this.all.indexOf(l);
    if (i >= 0 && !this.host.closing()) this.all.splice(i, 1);
  }

  close(l: Listener): void {
    if (l.closed) return;
    l.closed = true;
    l.socket.close();
  }

  closeAll(): void {
    for (const l of this.all) this.close(l);
  }
}
