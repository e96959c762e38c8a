import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import {
  DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
  DEFAULT_HTTP_IDLE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_CONNECTIONS,
  DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_HTTP_MIN_BYTES_PER_SECOND,
} from './config-schema.js';
import { ServerError } from './errors.js';

/**
 * Makes the listening server of an HTTP front end: `node:http`'s `createServer` by default;
 * `node:https`'s with a key and certificate for an HTTPS front end. The limits are applied to
 * what it returns.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https';
 * const tls: HttpServerFactory = (options, handler) => createServer({ ...options, key, cert }, handler);
 * ```
 */
export type HttpServerFactory = (options: ServerOptions, handler: RequestListener) => Server;

/** `node:http`, the default factory. */
export const plainHttp: HttpServerFactory = (options, handler) => createServer(options, handler);

/** Bounds on one HTTP listening socket. */
export interface HttpLimits {
  /** Open connections at once; more are closed as soon as they are accepted (default 1024). */
  maxConnections?: number;
  /** Open connections from one client address; more are closed as soon as accepted (default 64). */
  maxConnectionsPerAddress?: number;
  /** Time for a client to send its request headers, in ms (default 10000). */
  headersTimeoutMs?: number;
  /**
   * A response whose bytes wait for the client is cut when the client took nothing for this
   * long (default 30000), or read slower than `minBytesPerSecond` on average over the time it
   * had bytes waiting. Time the server itself spends (an upstream fetch) never counts.
   */
  idleTimeoutMs?: number;
  /** The slowest average reading that is still progress, in bytes per second (default 1024). */
  minBytesPerSecond?: number;
}

/** Every limit, defaults filled in. */
export function fullLimits(limits: HttpLimits): Required<HttpLimits> {
  return {
    maxConnections: limits.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    headersTimeoutMs: limits.headersTimeoutMs ?? DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: limits.idleTimeoutMs ?? DEFAULT_HTTP_IDLE_TIMEOUT_MS,
    minBytesPerSecond: limits.minBytesPerSecond ?? DEFAULT_HTTP_MIN_BYTES_PER_SECOND,
  };
}

/** The limits each server created here reads at every connection and response, so a reload can change them. */
const live = new WeakMap<Server, Required<HttpLimits>>();

/** An IPv4 client seen through a dual-stack socket (`::ffff:10.1.2.3`) counts as `10.1.2.3`. */
function addressKey(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address.toLowerCase();
}

/**
 * Bytes of this socket the kernel has taken so far. Node counts a write as done only once all
 * of it is taken, so a large body passed to one `end()` would show no progress until its very
 * end; libuv's write-queue size says how much of the writes handed to it still waits. Both are
 * internal fields: where they are missing, progress is counted per completed write.
 */
export function bytesAccepted(socket: Socket): number {
  const s = socket as Socket & { _bytesDispatched?: unknown; _handle?: { writeQueueSize?: unknown } | null };
  const dispatched = s._bytesDispatched;
  const queued = s._handle?.writeQueueSize;
  if (typeof dispatched === 'number' && typeof queued === 'number') return dispatched - queued;
  return socket.bytesWritten - socket.writableLength;
}

/** Why a response was cut: its client took too little of it for too long. */
export class StalledReaderError extends ServerError {
  override readonly code = 'PTFTP_ERR_HTTP_STALLED' as const;
  constructor(idleTimeoutMs: number, minBytesPerSecond: number) {
    super(
      'PTFTP_ERR_HTTP_STALLED',
      `the client stopped reading (nothing for ${idleTimeoutMs} ms, or under ${minBytesPerSecond} B/s on average)`,
    );
  }
}

/**
 * Cut a response whose client stopped reading. Every `idleTimeoutMs` the socket is looked at,
 * and only while bytes wait for the client: a response the server has not started, or whose
 * body is still arriving from upstream, is never the client's fault. It is cut when the client
 * took nothing in the last window, or when, over all the windows it had bytes waiting, it took
 * less than `minBytesPerSecond`. The average, not each window: the kernel takes a stalled
 * socket's bytes in steps of up to a third of its send buffer, so a slow reader's progress
 * shows in bursts. This looks at the socket alone, so it holds however the body is written.
 */
function watchResponse(server: Server, res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) {
    // A pipelined request: its response gets the socket when the one before it is done.
    res.once('socket', () => watchResponse(server, res));
    return;
  }
  const start = bytesAccepted(socket);
  let last = start;
  let waitedMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const { idleTimeoutMs } = live.get(server) ?? fullLimits({});
    timer = setTimeout(check, idleTimeoutMs);
    timer.unref();
  };
  const check = () => {
    const { idleTimeoutMs, minBytesPerSecond } = live.get(server) ?? fullLimits({});
    const now = bytesAccepted(socket);
    if (socket.writableLength > 0) {
      waitedMs += idleTimeoutMs;
      const rate = ((now - start) * 1000) / waitedMs;
      if (now === last || rate < minBytesPerSecond) {
        try {
          // A reset, not a close: the kernel drops what the client never took instead of
          // holding it in an orphaned connection that keeps probing a zero window.
          socket.resetAndDestroy();
        } catch {
          // Not a TCP handle (a Unix socket handed over by systemd): a plain close below.
        }
        // Marks the response `errored`, so the handler reports it failed, not served.
        res.destroy(new StalledReaderError(idleTimeoutMs, minBytesPerSecond));
        return;
      }
    }
    last = now;
    arm();
  };
  arm();
  res.once('close', () => clearTimeout(timer));
}

/**
 * An HTTP server bounding what one client can hold: connections in all and per address, time
 * to send its headers and its whole request, idle keep-alive, and responses the client stops
 * reading. A slow phone downloading a firmware image is no attack and keeps its connection as
 * long as it reads at `minBytesPerSecond`; a client that asks and never reads is cut after
 * `idleTimeoutMs`.
 *
 * @example
 * ```ts
 * const server = createLimitedServer(handler, fullLimits({ maxConnectionsPerAddress: 16 }));
 * server.listen(6970);
 * ```
 */
export function createLimitedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: Required<HttpLimits>,
  make: HttpServerFactory = plainHttp,
): Server {
  const server = make(
    // Node checks the two request timeouts on this interval; its default (30 s) would let a
    // slow client hold a connection far longer than headersTimeout says.
    { connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(limits.headersTimeoutMs / 4))) },
    handler,
  );
  applyLimits(server, limits);
  // Phones keep connections open between files; bound how long an idle one is held.
  server.keepAliveTimeout = 5000;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = socket.remoteAddress === undefined ? undefined : addressKey(socket.remoteAddress);
    const cap = live.get(server)?.maxConnectionsPerAddress ?? DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS;
    const open = key === undefined ? 0 : (perAddress.get(key) ?? 0);
    if (key === undefined || open >= cap) {
      // One host's connections must never crowd out the others: over its share, close at once.
      socket.destroy();
      return;
    }
    perAddress.set(key, open + 1);
    socket.once('close', () => {
      const n = (perAddress.get(key) ?? 1) - 1;
      if (n > 0) perAddress.set(key, n);
      else perAddress.delete(key);
    });
  });
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => watchResponse(server, res));
  return server;
}

/** Apply new limits to a server made by {@link createLimitedServer} (a reload). */
export function applyLimits(server: Server, limits: Required<HttpLimits>): void {
  live.set(server, limits);
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  // A GET or HEAD has no body: the whole request is its headers, plus a little slack.
  server.requestTimeout = limits.headersTimeoutMs + 5000;
}
