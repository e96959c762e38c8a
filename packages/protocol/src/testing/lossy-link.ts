/**
 * A UDP relay on loopback that sits between a TFTP client and a TFTP server and misbehaves
 * like a bad network: seeded drop, duplication, reordering, delay and corruption.
 *
 * TFTP answers every request from a new port (the transfer ID), so a relay that forwarded
 * replies from its own single port would hide the very thing servers get wrong. The link
 * mirrors every server endpoint with a socket of its own and every client endpoint with a
 * socket of its own: the client sees one consistent peer port per transfer, the server sees
 * one consistent client port, and packets from a stranger reach the server from a stranger.
 */
import dgram from 'node:dgram';
import { InvalidArgumentError } from '../errors.js';
import { deriveSeed, mulberry32 } from './prng.js';

/** Which way a datagram travels through the link. */
export type LinkDirection = 'to-server' | 'to-client';

/** A UDP endpoint. */
export interface LinkEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface LossyLinkOptions {
  /** The server the link relays to (its listening address). Loopback only. */
  target: LinkEndpoint;
  /** Seed of every random decision; the same seed gives the same decisions. Default 1. */
  seed?: number;
  /** Probability (0..1) that a datagram is dropped. */
  drop?: number;
  /** Probability that a datagram is delivered twice. */
  duplicate?: number;
  /** Probability that a datagram is held back and delivered after the next one on its path. */
  reorder?: number;
  /** Delay added to every datagram: a fixed number of ms, or a uniform [min, max] range. */
  delayMs?: number | readonly [number, number];
  /** Probability that one byte of a datagram is flipped. */
  corrupt?: number;
  /**
   * Drop every datagram for which this returns true, whatever the dice say: scripted faults
   * such as "lose the first ACK of block 3". `index` counts datagrams per direction from 0.
   */
  dropFilter?: (packet: Uint8Array, direction: LinkDirection, index: number) => boolean;
  /** Which datagrams the random faults may touch (default: all). */
  faultFilter?: (packet: Uint8Array, direction: LinkDirection) => boolean;
  /** Where the link listens: '127.0.0.1' (default) or '::1'. */
  host?: string;
  /** Longest time a reordered datagram waits for a successor before it goes out anyway. Default 30 ms. */
  reorderHoldMs?: number;
  /** Sockets with no traffic for this long are closed (bounds the sockets of long runs). Default 30 s. */
  idleMs?: number;
  /** Keep a record of every decision in {@link LossyLink.trace} (for replay checks). Default false. */
  trace?: boolean;
}

/** Counters of one direction. */
export interface LinkDirectionStats {
  /** Datagrams that entered the link. */
  received: number;
  /** Datagrams that left the link (duplicates included). */
  forwarded: number;
  dropped: number;
  /** Extra copies sent. */
  duplicated: number;
  reordered: number;
  corrupted: number;
  delayed: number;
  /** Datagrams inside the link (delayed or held) that have not left yet. */
  pending: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Counters of the whole link. Per direction, once traffic has stopped:
 * `received = dropped + (forwarded - duplicated) + pending`.
 */
export interface LossyLinkStats extends Omit<LinkDirectionStats, 'bytesIn' | 'bytesOut'> {
  readonly byDirection: Readonly<Record<LinkDirection, LinkDirectionStats>>;
  /** DATA datagrams the server sent (before any fault): the server's work. */
  dataPacketsToClient: number;
  /** Distinct (transfer, block) pairs among them: `dataPacketsToClient / dataBlocksToClient` is packets per block. */
  dataBlocksToClient: number;
  /** ACK datagrams the clients sent. */
  ackPacketsToServer: number;
  /** RRQ and WRQ datagrams the clients sent. */
  requestsToServer: number;
  /** ERROR datagrams the server sent. */
  errorsToClient: number;
  /** Server endpoints seen (the listening port plus one per transfer ID). */
  serverEndpoints: number;
  /** Client endpoints seen. */
  clientEndpoints: number;
  /** Sockets the link holds open now. */
  openSockets: number;
  /** Send calls that failed (the datagram counts as forwarded: the network ate it). */
  sendErrors: number;
}

/** One decision of the link, kept when `trace` is on. */
export interface LinkTraceEntry {
  readonly direction: LinkDirection;
  readonly index: number;
  readonly opcode: number;
  readonly drop: boolean;
  readonly duplicate: boolean;
  readonly reorder: boolean;
  /** Offset of the flipped byte, or -1. */
  readonly corruptAt: number;
  readonly delayMs: number;
}

export interface LossyLink {
  /** Address clients send their requests to. */
  readonly address: string;
  /** Port clients send their requests to. */
  readonly port: number;
  /** A snapshot of the counters. */
  readonly stats: LossyLinkStats;
  /** Every decision so far, in arrival order per direction (empty unless `trace` is on). */
  readonly trace: readonly LinkTraceEntry[];
  /** Close every socket and drop whatever is still in flight. */
  close(): Promise<void>;
}

/** What the link does to one datagram. */
export interface FaultDecision {
  readonly drop: boolean;
  readonly duplicate: boolean;
  readonly reorder: boolean;
  /** Offset of the byte to flip, or -1. */
  readonly corruptAt: number;
  /** Non-zero mask XORed into that byte. */
  readonly corruptMask: number;
  readonly delayMs: number;
}

const DIRECTION_CODE: Record<LinkDirection, number> = { 'to-server': 1, 'to-client': 2 };

/**
 * The pure decision function of the link: what happens to the `index`-th datagram (of
 * `length` bytes) travelling in `direction`. Each datagram gets a generator of its own, so
 * decisions do not depend on timing or on the other direction's traffic.
 *
 * @example
 * ```ts
 * const d = decideFaults({ seed: 7, drop: 0.05 }, 'to-client', 0, 516);
 * if (d.drop) console.log('the first DATA is lost');
 * ```
 */
export function decideFaults(
  opts: Pick<LossyLinkOptions, 'seed' | 'drop' | 'duplicate' | 'reorder' | 'delayMs' | 'corrupt'>,
  direction: LinkDirection,
  index: number,
  length: number,
): FaultDecision {
  const rand = mulberry32(deriveSeed(opts.seed ?? 1, DIRECTION_CODE[direction], index));
  // Always draw the same count, in the same order, so adding one kind of fault does not
  // reshuffle the others.
  const rDrop = rand();
  const rDup = rand();
  const rReorder = rand();
  const rCorrupt = rand();
  const rAt = rand();
  const rMask = rand();
  const rDelay = rand();
  const delay = opts.delayMs ?? 0;
  const delayMs = typeof delay === 'number' ? delay : Math.round(delay[0] + rDelay * (delay[1] - delay[0]));
  const corrupt = length > 0 && rCorrupt < (opts.corrupt ?? 0);
  return {
    drop: rDrop < (opts.drop ?? 0),
    duplicate: rDup < (opts.duplicate ?? 0),
    reorder: rReorder < (opts.reorder ?? 0),
    corruptAt: corrupt ? Math.floor(rAt * length) : -1,
    corruptMask: 1 + Math.floor(rMask * 255),
    delayMs,
  };
}

function checkProbability(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!(value >= 0 && value <= 1)) throw new InvalidArgumentError(name, `must be within 0..1, got ${value}`);
}

function loopbackFor(address: string): string {
  return address.includes(':') ? '::1' : '127.0.0.1';
}

const keyOf = (e: LinkEndpoint) => `${e.address}|${e.port}`;

function emptyDirection(): LinkDirectionStats {
  return {
    received: 0,
    forwarded: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    delayed: 0,
    pending: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

/** A socket of the link with the time it last carried traffic. */
interface Relay {
  readonly socket: dgram.Socket;
  readonly ready: Promise<void>;
  readonly endpoint: LinkEndpoint;
  lastUsed: number;
  closed: boolean;
}

interface Held {
  readonly send: () => void;
  readonly timer: NodeJS.Timeout;
}

function openSocket(host: string): { socket: dgram.Socket; ready: Promise<void> } {
  const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
  // An ICMP unreachable or a closed peer is just more network weather for a relay.
  socket.on('error', () => {});
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('listening', () => resolve());
    try {
      socket.bind(0, host);
    } catch (err) {
      reject(err);
    }
  });
  return { socket, ready };
}

/**
 * Start a lossy link in front of `target`. Point the client at `link.address:link.port`.
 *
 * @example
 * ```ts
 * const link = await createLossyLink({ target: { address: '127.0.0.1', port: 6969 }, seed: 1, drop: 0.05 });
 * const data = await tftpGet({ host: link.address, port: link.port }, 'SEP001122334455.cnf.xml');
 * console.log(link.stats.dropped, link.stats.dataPacketsToClient / link.stats.dataBlocksToClient);
 * await link.close();
 * ```
 */
export async function createLossyLink(opts: LossyLinkOptions): Promise<LossyLink> {
  for (const name of ['drop', 'duplicate', 'reorder', 'corrupt'] as const) checkProbability(name, opts[name]);
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1')
    throw new InvalidArgumentError('host', 'must be 127.0.0.1 or ::1');
  const target: LinkEndpoint = { address: opts.target.address, port: opts.target.port };
  const upstreamHost = loopbackFor(target.address);
  const reorderHoldMs = opts.reorderHoldMs ?? 30;
  const idleMs = opts.idleMs ?? 30_000;

  const dirs: Record<LinkDirection, LinkDirectionStats> = {
    'to-server': emptyDirection(),
    'to-client': emptyDirection(),
  };
  const extra = {
    dataPacketsToClient: 0,
    dataBlocksToClient: 0,
    ackPacketsToServer: 0,
    requestsToServer: 0,
    errorsToClient: 0,
    serverEndpoints: 0,
    clientEndpoints: 0,
    sendErrors: 0,
  };
  const trace: LinkTraceEntry[] = [];
  /** One socket per server endpoint, facing the clients. */
  const mirrors = new Map<string, Relay>();
  /** One socket per client endpoint, facing the server. */
  const upstreams = new Map<string, Relay>();
  /** Blocks already seen per server endpoint, to count distinct DATA blocks. */
  const blocksSeen = new Map<string, Set<number>>();
  /** A reordered datagram waiting for the next one on the same path. */
  const held = new Map<string, Held>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const createRelay = (bindHost: string, endpoint: LinkEndpoint, onMessage: (r: Relay) => void): Relay => {
    const { socket, ready } = openSocket(bindHost);
    const relay: Relay = { socket, ready, endpoint, lastUsed: Date.now(), closed: false };
    onMessage(relay);
    return relay;
  };

  const closeRelay = (relay: Relay) => {
    if (relay.closed) return;
    relay.closed = true;
    try {
      relay.socket.close();
    } catch {
      // already closed
    }
  };

  const transmit = (from: Relay, to: LinkEndpoint, buf: Uint8Array, dir: LinkDirectionStats) => {
    if (closed || from.closed) return;
    dir.forwarded++;
    dir.bytesOut += buf.length;
    from.lastUsed = Date.now();
    from.socket.send(buf, to.port, to.address, (err) => {
      if (err) extra.sendErrors++;
    });
  };

  /** Count what the sender put on the wire, before the link spoils it. */
  const observe = (buf: Uint8Array, direction: LinkDirection, serverKey: string) => {
    const opcode = buf.length >= 2 ? (buf[0]! << 8) | buf[1]! : -1;
    if (direction === 'to-client') {
      if (opcode === 3 && buf.length >= 4) {
        extra.dataPacketsToClient++;
        let seen = blocksSeen.get(serverKey);
        if (!seen) {
          seen = new Set();
          blocksSeen.set(serverKey, seen);
        }
        const block = (buf[2]! << 8) | buf[3]!;
        if (!seen.has(block)) {
          seen.add(block);
          extra.dataBlocksToClient++;
        }
      } else if (opcode === 5) extra.errorsToClient++;
    } else if (opcode === 4) extra.ackPacketsToServer++;
    else if (opcode === 1 || opcode === 2) extra.requestsToServer++;
    return opcode;
  };

  /** Apply the faults to one datagram and send what survives from `from` to `to`. */
  const relay = (msg: Buffer, direction: LinkDirection, from: Relay, to: LinkEndpoint, serverKey: string) => {
    const dir = dirs[direction];
    const index = dir.received++;
    dir.bytesIn += msg.length;
    const opcode = observe(msg, direction, serverKey);
    const forced = opts.dropFilter?.(msg, direction, index) ?? false;
    const eligible = opts.faultFilter?.(msg, direction) ?? true;
    const d = eligible
      ? decideFaults(opts, direction, index, msg.length)
      : { drop: false, duplicate: false, reorder: false, corruptAt: -1, corruptMask: 0, delayMs: 0 };
    if (opts.trace) {
      trace.push({
        direction,
        index,
        opcode,
        drop: forced || d.drop,
        duplicate: d.duplicate,
        reorder: d.reorder,
        corruptAt: d.corruptAt,
        delayMs: d.delayMs,
      });
    }
    if (forced || d.drop) {
      dir.dropped++;
      return;
    }
    let buf: Uint8Array = msg;
    if (d.corruptAt >= 0) {
      buf = Buffer.from(msg);
      buf[d.corruptAt] = buf[d.corruptAt]! ^ d.corruptMask;
      dir.corrupted++;
    }
    const path = `${keyOf(from.endpoint)}>${keyOf(to)}>${direction}`;
    const deliver = () => {
      dir.pending--;
      const waiting = held.get(path);
      if (d.reorder && !waiting) {
        dir.pending++;
        dir.reordered++;
        const timer = setTimeout(() => {
          timers.delete(timer);
          held.delete(path);
          dir.pending--;
          transmit(from, to, buf, dir);
        }, reorderHoldMs);
        timers.add(timer);
        held.set(path, {
          timer,
          send: () => {
            dir.pending--;
            transmit(from, to, buf, dir);
          },
        });
        return;
      }
      transmit(from, to, buf, dir);
      if (d.duplicate) {
        dir.duplicated++;
        transmit(from, to, buf, dir);
      }
      // The held datagram goes out after its successor: that is the reordering.
      if (waiting) {
        clearTimeout(waiting.timer);
        timers.delete(waiting.timer);
        held.delete(path);
        waiting.send();
      }
    };
    dir.pending++;
    const go = () => {
      if (!from.closed) from.ready.then(deliver, () => dir.pending--);
      else dir.pending--;
    };
    if (d.delayMs > 0) {
      dir.delayed++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        go();
      }, d.delayMs);
      timers.add(timer);
    } else go();
  };

  const upstreamFor = (client: LinkEndpoint): Relay => {
    const key = keyOf(client);
    const existing = upstreams.get(key);
    if (existing && !existing.closed) return existing;
    extra.clientEndpoints++;
    const up = createRelay(upstreamHost, client, (r) => {
      r.socket.on('message', (msg, rinfo) => {
        if (closed) return;
        r.lastUsed = Date.now();
        const server: LinkEndpoint = { address: rinfo.address, port: rinfo.port };
        const mirror = mirrorFor(server);
        mirror.lastUsed = r.lastUsed;
        relay(msg, 'to-client', mirror, client, keyOf(server));
      });
    });
    upstreams.set(key, up);
    return up;
  };

  const mirrorFor = (server: LinkEndpoint): Relay => {
    const key = keyOf(server);
    const existing = mirrors.get(key);
    if (existing && !existing.closed) return existing;
    extra.serverEndpoints++;
    const mirror = createRelay(host, server, (r) => {
      r.socket.on('message', (msg, rinfo) => {
        if (closed) return;
        r.lastUsed = Date.now();
        const client: LinkEndpoint = { address: rinfo.address, port: rinfo.port };
        const up = upstreamFor(client);
        up.lastUsed = r.lastUsed;
        relay(msg, 'to-server', up, server, key);
      });
    });
    mirrors.set(key, mirror);
    return mirror;
  };

  const front = mirrorFor(target);
  try {
    await front.ready;
  } catch (err) {
    closeRelay(front);
    throw err;
  }

  // Idle sockets go, so a long storm does not hold one socket per transfer it ever saw.
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const map of [mirrors, upstreams]) {
        for (const [key, r] of map) {
          if (r === front || now - r.lastUsed < idleMs) continue;
          closeRelay(r);
          map.delete(key);
          if (map === mirrors) blocksSeen.delete(key);
        }
      }
    },
    Math.max(250, Math.floor(idleMs / 2)),
  );
  sweeper.unref();

  const { port } = front.socket.address();

  const sum = (k: keyof LinkDirectionStats) => dirs['to-server'][k] + dirs['to-client'][k];

  return {
    address: host,
    port,
    get stats(): LossyLinkStats {
      return {
        received: sum('received'),
        forwarded: sum('forwarded'),
        dropped: sum('dropped'),
        duplicated: sum('duplicated'),
        reordered: sum('reordered'),
        corrupted: sum('corrupted'),
        delayed: sum('delayed'),
        pending: sum('pending'),
        byDirection: { 'to-server': { ...dirs['to-server'] }, 'to-client': { ...dirs['to-client'] } },
        ...extra,
        openSockets: [...mirrors.values(), ...upstreams.values()].filter((r) => !r.closed).length,
      };
    },
    get trace() {
      return trace;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      held.clear();
      const all = [...mirrors.values(), ...upstreams.values()];
      mirrors.clear();
      upstreams.clear();
      await Promise.all(
        all.map(
          (r) =>
            new Promise<void>((resolve) => {
              if (r.closed) return resolve();
              r.closed = true;
              try {
                r.socket.close(() => resolve());
              } catch {
                resolve();
              }
            }),
        ),
      );
    },
  };
}
