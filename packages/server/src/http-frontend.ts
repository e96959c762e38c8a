import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, ListenOptions } from 'node:net';
import { parseEndpoint } from './address.js';
import { DEFAULT_HTTP_HEADERS_TIMEOUT_MS, DEFAULT_HTTP_MAX_CONNECTIONS } from './config-schema.js';
import { ListenError } from './errors.js';
import { type FailedInfo, type FrontendHooks, failureKind, type ResolvedFile } from './events.js';
import { sendContent } from './http-body.js';
import { parseRange } from './http-range.js';

/** The header another ptftp proxy sets on its upstream HTTP requests (mirrors the TFTP option). */
export const PROXIED_HEADER = 'x-ptftp-proxied';

const CONTENT_TYPES: Record<string, string> = {
  xml: 'text/xml; charset=utf-8',
  cnf: 'text/xml; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

function contentType(name: string): string {
  // `SEP...cnf.xml.sgn` and `.tlv` files are binary containers whatever their inner type.
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Once bound, a server emits `error` when it cannot accept a connection (EMFILE when a boot
 * storm uses up the file descriptors). It keeps listening; without a listener the event would
 * throw and take the whole proxy down.
 */
export function ignoreAcceptError(): void {}

/**
 * The file name a request target asks for, or undefined when the target is not a path.
 *
 * The raw target is only split and percent-decoded, never normalised: WHATWG URL parsing
 * would resolve `..` and `%2e%2e` segments and turn `\\` into `/`, so `/a/%2e%2e/b` would quietly
 * become `b` and `//b/c` a host named `b`. Left as they are, such names reach the resolver,
 * which refuses them as it does over TFTP. The query string and fragment are dropped, and an
 * absolute-form target (RFC 9112 §3.2.2) is reduced to its path.
 */
export function requestName(target: string): string | undefined {
  let path = target;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(path);
  if (absolute) path = path.slice(absolute[0].length) || '/';
  if (!path.startsWith('/')) return undefined;
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  try {
    return decodeURIComponent(path).replace(/^\/+/, '');
  } catch {
    return undefined;
  }
}

/**
 * The body of an error answer. "Not found" and "refused" speak about the name the client sent;
 * anything else is an internal failure whose message (a store's or an upstream's host names,
 * paths) must not reach the network, so it only goes to the `failed` event.
 */
function publicMessage(name: string, result: FailedInfo['result'], error: Error): string {
  if (result === 'not_found') return `file not found: ${name}`;
  if (result === 'denied') return error.message;
  return 'internal error';
}

/**
 * Bind `server` to a configured address (`host:port`, `defaultPort` when it has none) or to a
 * listening socket inherited from systemd. Resolves with how the address is named in errors
 * and maps (the text, or `systemd fd N`); a failure is a ListenError naming it.
 */
export async function listenOn(
  server: Server,
  spec: string | { fd: number },
  defaultPort: number,
): Promise<string> {
  let options: ListenOptions;
  let text: string;
  if (typeof spec === 'string') {
    const ep = parseEndpoint(spec, defaultPort);
    if (typeof ep === 'string') throw new ListenError(spec, new Error(ep));
    options = { host: ep.host, port: ep.port, ipv6Only: ep.family === 6 };
    text = spec;
  } else {
    options = { fd: spec.fd } as ListenOptions;
    text = `systemd fd ${spec.fd}`;
  }
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error) => reject(new ListenError(text, err));
    server.once('error', onListenError);
    server.listen(options, () => {
      server.off('error', onListenError);
      resolve();
    });
  });
  server.on('error', ignoreAcceptError);
  return text;
}

/** Close servers: stop accepting, cut idle connections, give busy ones `graceMs`. */
export function closeServers(servers: readonly Server[], graceMs: number): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), graceMs);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        }),
    ),
  ).then(() => {});
}

/** Bounds on one HTTP listening socket. */
export interface HttpLimits {
  /** Open connections at once; more are closed as soon as they are accepted (default 1024). */
  maxConnections?: number;
  /** Time for a client to send its request headers, in ms (default 10000). */
  headersTimeoutMs?: number;
}

/**
 * An HTTP server bounding what one client can hold: connections, time to send its headers and
 * its whole request, idle keep-alive. Responses are not timed: a slow phone downloading a
 * firmware image is no attack (a stalled one is cut by TCP's own timeouts).
 */
export function createLimitedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: Required<HttpLimits>,
): Server {
  const server = createServer(
    // Node checks the two request timeouts on this interval; its default (30 s) would let a
    // slow client hold a connection far longer than headersTimeout says.
    { connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(limits.headersTimeoutMs / 4))) },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  // A GET or HEAD has no body: the whole request is its headers, plus a little slack.
  server.requestTimeout = limits.headersTimeoutMs + 5000;
  // Phones keep connections open between files; bound how long an idle one is held.
  server.keepAliveTimeout = 5000;
  return server;
}

/**
 * The HTTP front end (TCP 6970 on Cisco's servers): phones try it before TFTP. GET and HEAD,
 * single byte ranges; the same resolution, and so the same cache, as the TFTP front end.
 */
export class HttpFrontend {
  /** Listening servers by the address they were configured with (`systemd fd N` for inherited ones). */
  private readonly servers = new Map<string, Server>();
  /** Servers a reload removed, still finishing their requests (a firmware download may be long). */
  private readonly retiring = new Set<Server>();
  private active = 0;

  constructor(private readonly hooks: FrontendHooks) {}

  get activeRequests(): number {
    return this.active;
  }

  /** Bind every address; on a failure, close what was bound and throw a ListenError. */
  async listen(
    addresses: readonly (string | { fd: number })[],
    limits: HttpLimits = {},
  ): Promise<AddressInfo[]> {
    const opened = await this.bindAll(addresses, limits);
    for (const [key, server] of opened) this.servers.set(key, server);
    return [...opened.values()].map((s) => s.address() as AddressInfo);
  }

  /** The addresses listening now. */
  get bound(): AddressInfo[] {
    return [...this.servers.values()].map((s) => s.address() as AddressInfo);
  }

  /**
   * Move to a new list of configured addresses and limits: new addresses are bound now (a
   * ListenError leaves everything as it was); `commit()` applies the limits to the sockets that
   * stay and closes the ones no longer listed, letting their requests finish; `rollback()`
   * closes the new ones instead.
   */
  async rebind(
    next: readonly string[],
    limits: HttpLimits = {},
  ): Promise<{ commit(): void; rollback(): void }> {
    const added = next.filter((a) => !this.servers.has(a));
    const removed = [...this.servers.keys()].filter((a) => !a.startsWith('systemd fd ') && !next.includes(a));
    const opened = await this.bindAll(added, limits);
    return {
      commit: () => {
        const gone: Server[] = [];
        for (const a of removed) {
          const server = this.servers.get(a);
          if (server) gone.push(server);
          this.servers.delete(a);
        }
        for (const server of this.servers.values()) {
          server.maxConnections = limits.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS;
          server.headersTimeout = limits.headersTimeoutMs ?? DEFAULT_HTTP_HEADERS_TIMEOUT_MS;
          server.requestTimeout = server.headersTimeout + 5000;
        }
        for (const [key, server] of opened) this.servers.set(key, server);
        // No new connections; requests in progress finish, however long (close() cuts them).
        for (const server of gone) {
          this.retiring.add(server);
          // Node keeps answering on kept-alive connections after close(): end each of them
          // with its next response, so that a polling client cannot hold a removed address.
          server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
            if (!res.headersSent) res.setHeader('Connection', 'close');
          });
          server.close(() => this.retiring.delete(server));
          server.closeIdleConnections();
        }
      },
      rollback: () => {
        void closeServers([...opened.values()], 0);
      },
    };
  }

  private async bindAll(
    addresses: readonly (string | { fd: number })[],
    limits: HttpLimits,
  ): Promise<Map<string, Server>> {
    const opened = new Map<string, Server>();
    try {
      for (const spec of addresses) {
        const server = createLimitedServer((req, res) => void this.handle(req, res), {
          maxConnections: limits.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS,
          headersTimeoutMs: limits.headersTimeoutMs ?? DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
        });
        const text = await listenOn(server, spec, 6970);
        opened.set(text, server);
      }
    } catch (err) {
      await closeServers([...opened.values()], 0);
      throw err;
    }
    return opened;
  }

  /** Stop accepting; requests in progress get `graceMs` to finish, then their sockets are cut. */
  async close(graceMs = 5000): Promise<void> {
    const servers = [...this.servers.values(), ...this.retiring];
    this.servers.clear();
    this.retiring.clear();
    await closeServers(servers, graceMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const remote = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const name = requestName(req.url ?? '/');
    if (name === undefined) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request path\n');
      return;
    }
    const info = { transport: 'http' as const, name, remote };
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    this.active++;
    let file: ResolvedFile | undefined;
    try {
      file = await this.hooks.resolve(name, {
        remoteAddress: remote.address,
        proxied: req.headers[PROXIED_HEADER] === '1',
        signal: abort.signal,
        transport: 'http',
      });
      // A range needs the size; a whole file still arriving without one is sent chunked.
      const size = file.size ?? (req.headers.range ? await file.content.whenSized(abort.signal) : undefined);
      const headers: Record<string, string | number> = {
        'Content-Type': contentType(name),
        'Accept-Ranges': 'bytes',
        // Configuration files change when a phone moves cluster: never let a cache in between keep them.
        'Cache-Control': 'no-cache',
      };
      if (file.version) headers.ETag = `"${file.version}"`;
      const range = size === undefined ? undefined : parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 }).end();
        this.hooks.failed({
          ...info,
          result: 'error',
          error: new Error(`range not satisfiable: ${req.headers.range}`),
        });
        return;
      }
      const start = range ? range.start : 0;
      const end = range ? range.end + 1 : size;
      const status = range ? 206 : 200;
      if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
      if (end !== undefined) headers['Content-Length'] = end - start;
      res.writeHead(status, headers);
      const closed = once(res, 'close').catch(() => {});
      const sent = req.method === 'HEAD' ? 0 : await sendContent(res, file.content, start, end, abort.signal);
      if (req.method === 'HEAD') res.end();
      await closed;
      if (!res.writableFinished) throw new Error('connection closed before the body was sent');
      this.hooks.served({
        ...info,
        source: file.source,
        clusterId: file.clusterId,
        address: file.address,
        bytes: sent,
        durationMs: performance.now() - started,
        status,
      });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const result = failureKind(err);
      // The fetch budget is full: "busy", retry soon (TFTP says ERROR 0 "server busy").
      const busy = (err as { code?: unknown } | null)?.code === 'PTFTP_ERR_BUSY';
      if (!res.headersSent && busy) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '2' }).end('server busy\n');
      } else if (!res.headersSent) {
        const status = result === 'not_found' ? 404 : result === 'denied' ? 403 : 502;
        res
          .writeHead(status, { 'Content-Type': 'text/plain' })
          .end(`${publicMessage(name, result, error)}\n`);
      } else {
        res.destroy();
      }
      this.hooks.failed({ ...info, result, error });
    } finally {
      file?.content.release();
      this.active--;
    }
  }
}
