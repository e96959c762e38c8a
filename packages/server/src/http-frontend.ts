import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, ListenOptions } from 'node:net';
import { Leases, ServerBusyError } from '@ptftp/protocol';
import { parseEndpoint } from './address.js';
import { containRequests } from './contain.js';
import { ListenError } from './errors.js';
import {
  type FailedInfo,
  type FrontendHooks,
  failureKind,
  type ResolvedFile,
  type ServedInfo,
} from './events.js';
import { sendContent } from './http-body.js';
import { entityTag, notModified, rangeApplies, type Validators, VersionDates } from './http-conditional.js';
import { parseRange } from './http-range.js';
import {
  applyLimits,
  createLimitedServer,
  fullLimits,
  type HttpLimits,
  type HttpServerFactory,
  plainHttp,
} from './http-server-limits.js';

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

/** Where a file came from, as `served` reports it. */
function origin(file: ResolvedFile): Pick<ServedInfo, 'source' | 'clusterId' | 'address'> {
  return { source: file.source, clusterId: file.clusterId, address: file.address };
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

/** Options of {@link HttpFrontend}. */
export interface HttpFrontendOptions {
  /** Makes each listening server (default `node:http`); give `node:https` for an HTTPS front end. */
  createServer?: HttpServerFactory;
}

/**
 * The HTTP front end (TCP 6970 on Cisco's servers): phones try it before TFTP. GET and HEAD,
 * single byte ranges; the same resolution, and so the same cache, as the TFTP front end.
 */
export class HttpFrontend {
  /** Listening servers by the address they were configured with (`systemd fd N` for inherited ones). */
  private readonly servers = new Map<string, Server>();
  /** Servers a reload removed, held until their requests finish (a firmware download may be long). */
  private readonly retiring = new Leases<Server>(() => {});
  private active = 0;
  private readonly dates = new VersionDates();
  private readonly make: HttpServerFactory;

  constructor(
    private readonly hooks: FrontendHooks,
    options: HttpFrontendOptions = {},
  ) {
    this.make = options.createServer ?? plainHttp;
  }

  /** ETag from the version; Last-Modified from the source's date, or when this version was first seen. */
  private validators(name: string, file: ResolvedFile): Validators {
    const etag = entityTag(file.version);
    if (file.modifiedAt !== undefined) {
      const second = Math.floor(file.modifiedAt / 1000) * 1000;
      // A date in the future validates nothing (RFC 9110 §8.8.2.1): leave it out.
      return { etag, lastModified: second <= Date.now() ? second : undefined };
    }
    if (file.version === undefined) return { etag };
    return { etag, lastModified: this.dates.dateOf(name, file.version) };
  }

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
        for (const server of this.servers.values()) applyLimits(server, fullLimits(limits));
        for (const [key, server] of opened) this.servers.set(key, server);
        // No new connections; requests in progress finish, however long (close() cuts them).
        for (const server of gone) {
          this.retiring.retain(server);
          this.retiring.retire(server);
          // Node keeps answering on kept-alive connections after close(): end each of them
          // with its next response, so that a polling client cannot hold a removed address.
          server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
            if (!res.headersSent) res.setHeader('Connection', 'close');
          });
          server.close(() => this.retiring.release(server));
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
        const server = createLimitedServer(
          containRequests(
            (req, res) => this.handle(req, res),
            (err) => this.hooks.unexpected('http', err),
          ),
          fullLimits(limits),
          this.make,
        );
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
    const servers = [...this.servers.values(), ...this.retiring.takeRetired()];
    this.servers.clear();
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
    const socket = res.socket;
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
      const validators = this.validators(name, file);
      if (validators.etag) headers.ETag = validators.etag;
      if (validators.lastModified !== undefined)
        headers['Last-Modified'] = new Date(validators.lastModified).toUTCString();
      if (notModified(req.headers, validators)) {
        const { 'Content-Type': _type, 'Accept-Ranges': _ranges, ...kept } = headers;
        res.writeHead(304, kept).end();
        this.hooks.served({
          ...info,
          ...origin(file),
          bytes: 0,
          durationMs: performance.now() - started,
          status: 304,
        });
        return;
      }
      const range =
        size !== undefined && rangeApplies(req.headers, validators)
          ? parseRange(req.headers.range, size)
          : undefined;
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
      const sent =
        req.method === 'HEAD'
          ? 0
          : await sendContent(res, file.content, start, end, abort.signal).catch((err: unknown) => {
              // The response closed under the body (client gone, stall guard): say so plainly.
              if (abort.signal.aborted)
                throw new Error('connection closed before the body was sent', { cause: err });
              throw err;
            });
      if (req.method === 'HEAD') res.end();
      await closed;
      // A destroyed socket empties its buffer, so writableFinished alone reads true for a body
      // cut half-way: a response cut for a stalled reader is `errored`, and a client that went
      // away mid-body left its error (ECONNRESET, EPIPE) on the socket.
      if (!res.writableFinished || res.errored || socket?.errored)
        throw new Error('connection closed before the body was sent');
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
      const busy = err instanceof ServerBusyError;
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
