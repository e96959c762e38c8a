/**
 * Remote clusters found at run time instead of written in the configuration: Cisco's
 * "update remote clusters now" (the intercluster lookup service), here a `DiscoverySource`
 * that reads an inventory service over HTTP. Every result is validated with the same rules
 * as a configuration file (at most 3 TFTP addresses per cluster, a single-level peer
 * hierarchy, no loops); an invalid result is rejected with every violation listed, and the
 * last good topology stays in effect, so a bad inventory edit never takes phones down.
 *
 *   npx tsx examples/discovery-source.ts
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { DiscoverySource } from '@ptftp/resolver';
import { createProxyServer, type ProxyAddresses, type ProxyServer } from '@ptftp/server';
import { CLUSTER_FILES, type FakeCluster, startCluster } from './two-cluster-proxy.js';

/** An inventory service (a CMDB, an ILS export...) that publishes the clusters as JSON. */
export interface Inventory {
  /** `http://127.0.0.1:PORT/clusters.json` */
  readonly url: string;
  /** What the next request gets (anything JSON: the proxy validates it). */
  publish(clusters: unknown[]): void;
  /** Make the next requests fail with this HTTP status (0: back to normal). */
  failWith(status: number): void;
  close(): Promise<void>;
}

export async function startInventory(host = '127.0.0.1'): Promise<Inventory> {
  let current: unknown[] = [];
  let status = 0;
  const server = createHttpServer((req, res) => {
    if (status !== 0) return void res.writeHead(status).end();
    if (req.url !== '/clusters.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ clusters: current }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/clusters.json`,
    publish(clusters) {
      current = structuredClone(clusters);
    },
    failWith(s) {
      status = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The discovery source: fetch the inventory, hand back its `clusters` list unvalidated (the
 * resolver validates). Throwing is fine too: a failed discovery also keeps the last topology.
 */
export function inventoryDiscovery(url: string, timeoutMs = 5000): DiscoverySource {
  return {
    async discover(signal) {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
      if (!res.ok) throw new Error(`inventory answered HTTP ${res.status}`);
      const body = (await res.json()) as { clusters?: unknown };
      if (!Array.isArray(body.clusters)) throw new Error('inventory holds no "clusters" list');
      return body.clusters;
    },
  };
}

/** Options of {@link main}. */
export interface DiscoveryOptions {
  /** Proxy TFTP addresses (default 127.0.0.1:6969). */
  listen?: string[];
  /** Ask the inventory again every this many ms (default: only on `refresh()`). */
  refreshIntervalMs?: number;
  log?: (line: string) => void;
}

/** The running example. */
export interface DiscoveryHandle {
  readonly proxy: ProxyServer;
  readonly addresses: ProxyAddresses;
  readonly inventory: Inventory;
  readonly clusters: { 'cluster-b': FakeCluster; 'cluster-c': FakeCluster };
  /** The inventory entries of the example's clusters (valid; edit copies of them). */
  readonly entries: { 'cluster-b': Record<string, unknown>; 'cluster-c': Record<string, unknown> };
  /** "Update remote clusters now". */
  refresh(): Promise<{ ok: boolean; violations?: { path: string; message: string }[] }>;
  close(): Promise<void>;
}

/**
 * Start two clusters, an inventory that at first lists only cluster-b, and a proxy whose
 * remote clusters come from the inventory alone.
 */
export async function main(options: DiscoveryOptions = {}): Promise<DiscoveryHandle> {
  const log = options.log ?? (() => {});
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const b = await startCluster('cluster-b', CLUSTER_FILES['cluster-b'], ['127.0.0.2']);
    started.push(b);
    const c = await startCluster('cluster-c', CLUSTER_FILES['cluster-c'], ['127.0.0.3']);
    started.push(c);
    const inventory = await startInventory();
    started.push(inventory);
    const entries = {
      'cluster-b': { id: 'cluster-b', fqdn: 'tftp.b.example.com', tftp: b.tftp, peers: ['proxy-a'] },
      'cluster-c': { id: 'cluster-c', fqdn: 'tftp.c.example.com', tftp: c.tftp, peers: ['proxy-a'] },
    };
    inventory.publish([entries['cluster-b']]);

    const proxy = createProxyServer(
      {
        listen: options.listen ?? ['127.0.0.1:6969'],
        http: { enabled: false },
        admin: { enabled: false },
        primaryId: 'proxy-a',
        clusters: [], // none by hand: all from discovery
        upstream: { timeoutMs: 500, retries: 0 },
      },
      { discovery: inventoryDiscovery(inventory.url) },
    );
    proxy.on('discovery', (r) => {
      if (r.ok) log(`discovery: clusters now ${JSON.stringify(proxy.status().clusters, ['id'])}`);
      else
        for (const v of r.violations ?? [])
          log(`discovery rejected, last good topology kept: ${v.path}: ${v.message}`);
    });
    proxy.on('served', (s) => log(`${s.name} <- ${s.source} ${s.clusterId ?? ''}`));
    let addresses: ProxyAddresses;
    try {
      addresses = await proxy.start(); // runs the first discovery
    } catch (err) {
      await proxy.close({ graceMs: 0 });
      throw err;
    }
    const timer =
      options.refreshIntervalMs === undefined
        ? undefined
        : setInterval(() => void proxy.refreshDiscovery().catch(() => {}), options.refreshIntervalMs);
    timer?.unref();

    return {
      proxy,
      addresses,
      inventory,
      clusters: { 'cluster-b': b, 'cluster-c': c },
      entries,
      refresh: () => proxy.refreshDiscovery(),
      async close() {
        clearInterval(timer);
        await proxy.close({ graceMs: 1000 });
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ex = await main({ log: console.log });
  const { entries } = ex;
  console.log('\n1. the inventory adds cluster-c; update remote clusters now:');
  ex.inventory.publish([entries['cluster-b'], entries['cluster-c']]);
  await ex.refresh();
  console.log(
    '\n2. someone publishes a broken inventory (4 TFTP addresses, B and C peering with each other):',
  );
  ex.inventory.publish([
    {
      ...entries['cluster-b'],
      tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
      peers: ['proxy-a', 'cluster-c'],
    },
    { ...entries['cluster-c'], peers: ['proxy-a', 'cluster-b'] },
  ]);
  await ex.refresh();
  console.log(
    `\nstill serving cluster-b and cluster-c: curl ${ex.addresses.tftp[0]?.url}/SEP00AABBCC0C01.cnf.xml (Ctrl-C stops)`,
  );
  process.once('SIGINT', () => void ex.close());
}
