import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tryParseHostPort } from '@ptftp/protocol';
import type { FailureSite } from './contain.js';
import { containRequests } from './contain.js';
import { ConfigError, StateError } from './errors.js';
import { closeServers, listenOn } from './http-frontend.js';
import { createLimitedServer } from './http-server-limits.js';
import type { FlushSelector, ProxyStatus } from './proxy-types.js';
import type { ReloadResult } from './reload.js';

/**
 * What the admin endpoint serves: a ProxyServer, or the primary of `ptftp serve --workers N`
 * (a {@link WorkerPool}), which answers for all its workers.
 */
export interface AdminTarget {
  status(): ProxyStatus | Promise<ProxyStatus>;
  readonly metrics: { readonly registry: { metrics(): Promise<string>; readonly contentType: string } };
  flush(selector?: FlushSelector): Promise<number>;
  reload(): Promise<ReloadResult>;
  refreshDiscovery(): Promise<unknown>;
  reportUnexpected(where: FailureSite, error: unknown, detail?: string): void;
}

/** Admin requests are tiny JSON documents; anything bigger is not from `ptftp`. */
const MAX_BODY = 64 * 1024;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res
    .writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
    .end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  // Requiring a JSON content type makes a browser preflight the request, so a web page the
  // operator happens to open cannot flush or reload a loopback-bound admin endpoint.
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpProblem(415, 'send Content-Type: application/json');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'request body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpProblem(400, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new HttpProblem(400, `"${key}" must be a non-empty string`);
  return v;
}

/**
 * The admin endpoint, bound to loopback by default (`127.0.0.1:9469`):
 * - `GET /health`: `{"status":"ok"}` (503 when not running)
 * - `GET /metrics`: Prometheus text from the server's own Registry
 * - `GET /status`: addresses, sessions, cache, clusters, reloads
 * - `GET /clusters`: the resolver's cluster status
 * - `POST /cache/flush` `{name?|pattern?|device?}`: `{"flushed": n}`
 * - `POST /reload`: re-read the configuration source; 422 with every issue when it is invalid,
 *   409 when the server has no configuration file
 * - `POST /discovery/refresh`: ask the discovery source for remote clusters now
 *
 * `ProxyServer.start()` runs it when `admin.enabled`; it is exported for embedders that want
 * the routes on a socket of their own choosing.
 *
 * @example
 * ```sh
 * curl -s http://127.0.0.1:9469/health          # {"status": "ok"}
 * curl -s -X POST -H 'Content-Type: application/json' -d '{"device":["SEP001122334455"]}' \
 *   http://127.0.0.1:9469/cache/flush             # {"flushed": 2}
 * ```
 */
export class AdminEndpoint {
  private server: Server | undefined;
  /** The server being closed, until it is. */
  private closing: Server | undefined;
  /** Bound to a loopback address: only requests addressed to an IP or `localhost` are served. */
  private loopback = false;

  constructor(private readonly proxy: AdminTarget) {}

  async listen(address: string | { fd: number }): Promise<AddressInfo> {
    // An operator's tool and a Prometheus scraper: a few connections, quick requests, small
    // answers. Every local client shares 127.0.0.1, so half the connections per address leaves
    // the other half to a second tool when one misbehaves.
    const server = createLimitedServer(
      containRequests(
        (req, res) => this.handle(req, res),
        (err) => this.proxy.reportUnexpected('admin', err),
      ),
      {
        maxConnections: 64,
        maxConnectionsPerAddress: 32,
        headersTimeoutMs: 5000,
        idleTimeoutMs: 10_000,
        minBytesPerSecond: 1024,
      },
    );
    await listenOn(server, address, 9469);
    this.server = server;
    this.loopback = isLoopback((server.address() as AddressInfo).address);
    return server.address() as AddressInfo;
  }

  /** The address listening now, if any. */
  get address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stop; requests in progress get `graceMs` (default 0) to finish, then their sockets are cut.
   * Called again while closing (a server close after a reload retired this endpoint), the
   * shorter grace wins.
   */
  async close(graceMs = 0): Promise<void> {
    const server = this.server ?? this.closing;
    this.server = undefined;
    if (!server) return;
    this.closing = server;
    await closeServers([server], graceMs);
    this.closing = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = targetPath(req.url ?? '/');
    const route = `${req.method} ${path}`;
    if (this.loopback && !isLocalHostHeader(req.headers.host)) {
      // DNS rebinding: a web page whose name now resolves to 127.0.0.1 would otherwise be
      // same-origin with this unauthenticated endpoint and could read /status or POST /reload.
      send(res, 421, {
        error: { message: 'a loopback admin endpoint answers only to an IP address or localhost' },
      });
      return;
    }
    try {
      switch (route) {
        case 'GET /health': {
          const state = (await this.proxy.status()).state;
          send(res, state === 'running' ? 200 : 503, { status: state === 'running' ? 'ok' : state });
          return;
        }
        case 'GET /metrics': {
          const text = await this.proxy.metrics.registry.metrics();
          res.writeHead(200, { 'Content-Type': this.proxy.metrics.registry.contentType }).end(text);
          return;
        }
        case 'GET /status':
          send(res, 200, await this.proxy.status());
          return;
        case 'GET /clusters':
          send(res, 200, { clusters: (await this.proxy.status()).clusters });
          return;
        case 'POST /cache/flush': {
          const body = await readJson(req);
          const device = body.device;
          if (device !== undefined && !(typeof device === 'string' || Array.isArray(device))) {
            throw new HttpProblem(400, '"device" must be a string or a list of strings');
          }
          const devices = device === undefined ? [] : [device].flat();
          if (devices.some((d) => typeof d !== 'string' || d === '')) {
            throw new HttpProblem(400, '"device" must be a string or a list of strings');
          }
          const name = optionalString(body, 'name');
          const pattern = optionalString(body, 'pattern');
          if (
            [name, pattern, devices.length ? devices : undefined].filter((x) => x !== undefined).length > 1
          ) {
            throw new HttpProblem(400, 'give at most one of "name", "pattern", "device"');
          }
          const flushed = await this.proxy.flush({
            ...(name !== undefined && { name }),
            ...(pattern !== undefined && { pattern }),
            ...(devices.length > 0 && { device: devices as string[] }),
          });
          send(res, 200, { flushed });
          return;
        }
        case 'POST /reload': {
          await readJson(req);
          const result = await this.proxy.reload();
          send(res, 200, result);
          return;
        }
        case 'POST /discovery/refresh': {
          await readJson(req);
          await this.proxy.refreshDiscovery();
          send(res, 200, { clusters: (await this.proxy.status()).clusters });
          return;
        }
        default: {
          const known = [
            '/health',
            '/metrics',
            '/status',
            '/clusters',
            '/cache/flush',
            '/reload',
            '/discovery/refresh',
          ];
          if (known.includes(path))
            send(res, 405, { error: { message: `${req.method} not allowed on ${path}` } });
          else send(res, 404, { error: { message: `no such admin resource: ${path}` } });
        }
      }
    } catch (err) {
      if (err instanceof HttpProblem) {
        send(res, err.status, { error: { message: err.message } });
      } else if (err instanceof ConfigError) {
        send(res, 422, { error: { code: err.code, message: err.message, issues: err.issues } });
      } else if (err instanceof StateError) {
        send(res, 409, { error: { code: err.code, message: err.message } });
      } else {
        const e = err as Error & { code?: string };
        send(res, 500, { error: { code: e.code, message: e.message } });
      }
    }
  }
}

/**
 * The path of a request target, compared as it is against the routes. Not `new URL()`: a
 * target such as `///`, `//[` or `//a:99999/` reads as an authority there and throws, and one
 * such request used to take the whole proxy down.
 */
export function targetPath(target: string): string {
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  const path = absolute ? target.slice(absolute[0].length) || '/' : target;
  const end = path.search(/[?#]/);
  return end >= 0 ? path.slice(0, end) : path;
}

function isLoopback(host: string): boolean {
  return host === '::1' || /^127\./.test(host) || host === 'localhost';
}

/** A `Host` header naming an IP literal or `localhost` (any port): never a rebindable DNS name. */
export function isLocalHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 clients send none; no browser omits it
  // Any port (even out of range: the name is what could be rebound), so it is set aside first.
  const hp = tryParseHostPort(host.trim().replace(/(?<=^\[[^\]]*\]|^[^:]*):\d+$/, ''), {
    defaultPort: 80,
    names: true,
    zone: true,
  });
  if ('problem' in hp) return false;
  return hp.family !== undefined || hp.host.toLowerCase() === 'localhost';
}
