/**
 * A remote cluster reached over HTTP instead of TFTP. Cisco TFTP servers also serve their
 * files on TCP port 6970 (`GET /SEP001122334455.cnf.xml`), which phones try before TFTP; a
 * proxy can use the same service to fetch from a cluster through firewalls that pass TCP but
 * not TFTP's UDP ports. A cluster entry with `http` addresses and no `tftp` addresses is
 * fetched with the resolver's `HttpUpstream`. Here a node:http server plays the cluster.
 *
 *   npx tsx examples/http-upstream.ts
 *   curl tftp://127.0.0.1:6969/SEP00AABBCC0D01.cnf.xml      # phone -> proxy (TFTP) -> cluster (HTTP)
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createProxyServer, type ProxyAddresses, type ProxyServer, type ServedInfo } from '@ptftp/server';

/** One request the HTTP cluster received. */
export interface ClusterRequest {
  method: string;
  path: string;
  status: number;
  /** The `X-Ptftp-Proxied` header: a ptftp proxy marks its own requests so peers never forward them. */
  proxied: string | undefined;
}

/** A cluster's TFTP-over-HTTP service, played by node:http. */
export interface HttpCluster {
  /** Its base URL, e.g. `http://127.0.0.2:6970`. */
  readonly url: string;
  readonly requests: readonly ClusterRequest[];
  set(name: string, data: string | Uint8Array): void;
  close(): Promise<void>;
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * Serve `files` the way a CUCM TFTP server does on port 6970: `GET` and `HEAD /<name>`, 200
 * with the exact bytes and a Content-Length, 404 for anything else. When `host:port` cannot be
 * bound (127.0.0.2 on macOS, 6970 already in use), a free port on 127.0.0.1 is used.
 */
export async function startHttpCluster(
  files: Record<string, string | Uint8Array>,
  host = '127.0.0.2',
  port = 6970,
): Promise<HttpCluster> {
  const content = new Map<string, Uint8Array>();
  const set = (name: string, data: string | Uint8Array) =>
    content.set(name, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  for (const [name, data] of Object.entries(files)) set(name, data);
  const requests: ClusterRequest[] = [];

  const server = createHttpServer((req, res) => {
    let name: string;
    try {
      name = decodeURIComponent(new URL(req.url ?? '/', 'http://cluster').pathname.slice(1));
    } catch {
      name = '';
    }
    const data = content.get(name);
    const ok = (req.method === 'GET' || req.method === 'HEAD') && data !== undefined;
    const status = ok ? 200 : req.method === 'GET' || req.method === 'HEAD' ? 404 : 405;
    const proxied = req.headers['x-ptftp-proxied'];
    requests.push({ method: req.method ?? '', path: req.url ?? '', status, proxied: [proxied].flat()[0] });
    if (!ok) {
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 404 ? 'not found\n' : '');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.byteLength });
    res.end(req.method === 'HEAD' ? undefined : data);
  });

  let bound: AddressInfo;
  try {
    bound = await listen(server, host, port);
  } catch {
    bound = await listen(server, '127.0.0.1', 0);
  }
  return {
    url: `http://${bound.address}:${bound.port}`,
    requests,
    set,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What the HTTP cluster holds. */
export const CLUSTER_D_FILES: Record<string, string> = {
  'SEP00AABBCC0D01.cnf.xml':
    '<device><fullConfig>true</fullConfig><devicePool><name>Branch D</name></devicePool></device>\n',
  'Desktops/320x196x4/List.xml': '<CiscoIPPhoneImageList><!-- cluster-d --></CiscoIPPhoneImageList>\n',
};

/** Options of {@link main}. */
export interface HttpUpstreamOptions {
  /** Proxy TFTP addresses (default 127.0.0.1:6969). */
  listen?: string[];
  /** Proxy HTTP addresses (default none). */
  httpListen?: string[];
  /** Where the HTTP cluster listens (default 127.0.0.2:6970). */
  clusterHost?: string;
  clusterPort?: number;
  log?: (line: string) => void;
}

/** The running example. */
export interface HttpUpstreamHandle {
  readonly proxy: ProxyServer;
  readonly addresses: ProxyAddresses;
  readonly cluster: HttpCluster;
  readonly served: readonly ServedInfo[];
  close(): Promise<void>;
}

/** Start the HTTP cluster and a proxy whose only remote cluster is reached over HTTP. */
export async function main(options: HttpUpstreamOptions = {}): Promise<HttpUpstreamHandle> {
  const log = options.log ?? (() => {});
  const cluster = await startHttpCluster(CLUSTER_D_FILES, options.clusterHost, options.clusterPort);
  try {
    const proxy = createProxyServer({
      listen: options.listen ?? ['127.0.0.1:6969'],
      http: options.httpListen ? { listen: options.httpListen } : { enabled: false },
      admin: { enabled: false },
      // No `tftp` addresses and one `http` base: the resolver fetches this cluster over HTTP.
      clusters: [{ id: 'cluster-d', description: 'Branch D over HTTP', tftp: [], http: [cluster.url] }],
    });
    const served: ServedInfo[] = [];
    proxy.on('served', (s) => {
      served.push(s);
      log(`${s.transport} ${s.name}: ${s.bytes} B from ${s.source} ${s.clusterId ?? ''} ${s.address ?? ''}`);
    });
    proxy.on('failed', (f) => log(`${f.transport} ${f.name}: ${f.result} (${f.error.message})`));
    let addresses: ProxyAddresses;
    try {
      addresses = await proxy.start();
    } catch (err) {
      await proxy.close({ graceMs: 0 });
      throw err;
    }
    log(`remote cluster cluster-d at ${cluster.url} (HTTP)`);
    for (const a of addresses.tftp) log(`proxy listening on ${a.url}`);
    return {
      proxy,
      addresses,
      cluster,
      served,
      async close() {
        await proxy.close({ graceMs: 1000 });
        await cluster.close();
      },
    };
  } catch (err) {
    await cluster.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ex = await main({ log: console.log });
  console.log(`try: curl ${ex.addresses.tftp[0]?.url}/SEP00AABBCC0D01.cnf.xml   (Ctrl-C stops)`);
  process.once('SIGINT', () => void ex.close());
}
