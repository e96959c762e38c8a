/**
 * Embedding the proxy in a Node service you already run (here a small provisioning portal
 * built on node:http). The service owns the process: it starts and stops the proxy with
 * itself, exposes the proxy's operations through its own routes (so its own authentication
 * and audit apply), and turns the proxy's typed events into its own log lines. The library
 * logs nothing by itself.
 *
 *   npx tsx examples/embed-in-service.ts
 *   curl http://127.0.0.1:8080/api/tftp/status
 *   curl 'http://127.0.0.1:8080/api/tftp/resolve?name=SEP00AABBCC0B01.cnf.xml'
 *   curl -X POST -H 'Content-Type: application/json' -d '{"device":"SEP00AABBCC0B01"}' http://127.0.0.1:8080/api/tftp/flush
 *   curl tftp://127.0.0.1:6969/SEP00AABBCC0B01.cnf.xml     # what the phones do
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryStore } from '@ptftp/resolver';
import { createProxyServer, type FlushSelector, type ProxyAddresses, type ProxyServer } from '@ptftp/server';
import { CLUSTER_FILES, type FakeCluster, LOCAL_FILES, startCluster } from './two-cluster-proxy.js';

/** One line of the service's own structured log. */
export interface LogLine {
  level: 'info' | 'warn';
  msg: string;
  [key: string]: unknown;
}

/** Options of {@link main}. */
export interface EmbedOptions {
  /** The service's own HTTP address (default 127.0.0.1:8080; port 0 picks a free one). */
  host?: string;
  port?: number;
  /** Proxy TFTP addresses (default 127.0.0.1:6969). */
  tftpListen?: string[];
  /** Proxy HTTP (TCP 6970) addresses (default 127.0.0.1:6970). */
  httpListen?: string[];
  /** Where log lines go (default: JSON on stdout). */
  log?: (line: LogLine) => void;
}

/** The running service. */
export interface EmbedHandle {
  /** `http://127.0.0.1:8080` */
  readonly url: string;
  readonly proxy: ProxyServer;
  readonly proxyAddresses: ProxyAddresses;
  readonly cluster: FakeCluster;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 16 * 1024) throw new Error('body too large');
  }
  const value = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected a JSON object');
  return value as Record<string, unknown>;
}

/** Look a file up the way a phone would (`proxy.resolve`), and describe it. */
async function resolveThroughProxy(proxy: ProxyServer, name: string) {
  try {
    const file = await proxy.resolve(name, { transport: 'http' });
    // Read by offset (the file may be large, or still arriving); the handle goes back when done.
    const hash = createHash('sha256');
    let size = 0;
    try {
      for (let chunk = await file.content.read(0, 65536); chunk.byteLength > 0; ) {
        hash.update(chunk);
        size += chunk.byteLength;
        chunk = await file.content.read(size, 65536);
      }
    } finally {
      file.content.release();
    }
    const sha256 = hash.digest('hex');
    return {
      status: 200,
      body: { name, found: true, size, sha256, source: file.source, clusterId: file.clusterId },
    };
  } catch (err) {
    const notFound = (err as { code?: string }).code === 'PTFTP_ERR_NOT_FOUND';
    return { status: notFound ? 404 : 502, body: { name, found: false } };
  }
}

/** Start the service: one remote cluster, the proxy, then the service's HTTP routes. */
export async function main(options: EmbedOptions = {}): Promise<EmbedHandle> {
  const log =
    options.log ??
    ((line: LogLine) => console.log(JSON.stringify({ time: new Date().toISOString(), ...line })));
  const cluster = await startCluster('cluster-b', CLUSTER_FILES['cluster-b'], ['127.0.0.2']);
  let proxy: ProxyServer | undefined;
  try {
    proxy = createProxyServer(
      {
        listen: options.tftpListen ?? ['127.0.0.1:6969'],
        http: { listen: options.httpListen ?? ['127.0.0.1:6970'] },
        // The service's own routes replace the admin endpoint.
        admin: { enabled: false },
        clusters: [{ id: 'cluster-b', tftp: cluster.tftp }],
      },
      { createStore: () => new MemoryStore(LOCAL_FILES) },
    );
    const p = proxy;

    // The proxy's events, in the service's own log format.
    p.on('served', (s) =>
      log({
        level: 'info',
        msg: 'tftp file served',
        transport: s.transport,
        file: s.name,
        phone: s.remote.address,
        source: s.source,
        cluster: s.clusterId,
        bytes: s.bytes,
      }),
    );
    p.on('failed', (f) =>
      log({
        level: 'warn',
        msg: 'tftp request failed',
        transport: f.transport,
        file: f.name,
        result: f.result,
      }),
    );
    p.on('failover', (f) =>
      log({ level: 'warn', msg: 'cluster address down', cluster: f.clusterId, from: f.from, to: f.to }),
    );
    p.on('upstreamError', (e) =>
      log({ level: 'warn', msg: 'cluster error', cluster: e.clusterId, address: e.address }),
    );
    const proxyAddresses = await p.start();

    const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://service');
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /healthz') return json(res, 200, { ok: true, proxy: p.status().state });
      if (route === 'GET /api/tftp/status') return json(res, 200, p.status());
      if (route === 'GET /api/tftp/resolve') {
        const name = url.searchParams.get('name');
        if (!name) return json(res, 400, { error: 'name is required' });
        const r = await resolveThroughProxy(p, name);
        return json(res, r.status, r.body);
      }
      if (route === 'POST /api/tftp/flush') {
        const body = await readJson(req);
        const selector: FlushSelector = {
          ...(typeof body.name === 'string' && { name: body.name }),
          ...(typeof body.pattern === 'string' && { pattern: body.pattern }),
          ...(typeof body.device === 'string' && { device: body.device }),
        };
        const flushed = await p.flush(selector);
        log({ level: 'info', msg: 'tftp cache flushed', selector, flushed });
        return json(res, 200, { flushed });
      }
      return json(res, 404, { error: `no route ${route}` });
    };
    const service = createHttpServer((req, res) => {
      routes(req, res).catch((err: unknown) => json(res, 400, { error: (err as Error).message }));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        service.once('error', reject);
        service.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
      });
    } catch (err) {
      await p.close({ graceMs: 0 });
      throw err;
    }
    const addr = service.address() as AddressInfo;
    const url = `http://${addr.address}:${addr.port}`;
    log({ level: 'info', msg: 'service started', url, tftp: proxyAddresses.tftp.map((a) => a.url) });

    return {
      url,
      proxy: p,
      proxyAddresses,
      cluster,
      async close() {
        await new Promise<void>((resolve) => {
          service.close(() => resolve());
          service.closeAllConnections();
        });
        await p.close({ graceMs: 2000 });
        await cluster.close();
        log({ level: 'info', msg: 'service stopped' });
      },
    };
  } catch (err) {
    await proxy?.close({ graceMs: 0 });
    await cluster.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const service = await main();
  const stop = () => void service.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
