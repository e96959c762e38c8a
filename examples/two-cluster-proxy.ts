/**
 * A proxy TFTP server for two remote clusters. Phones of every cluster point their option 150
 * at this one proxy; it answers from its own folder first (common files such as RingList.xml
 * always come from there), then asks the remote clusters, and keeps what they sent for 30
 * minutes. Here the two clusters are played by @ptftp/protocol TFTP servers on 127.0.0.2 and
 * 127.0.0.3 (two servers each, the recommended redundant design), so everything runs on one
 * machine; in production their addresses are your CUCM TFTP servers.
 *
 *   npx tsx examples/two-cluster-proxy.ts
 *   curl tftp://127.0.0.1:6969/SEP00AABBCC0B01.cnf.xml     # from cluster-b
 *   curl http://127.0.0.1:6970/SEP00AABBCC0C01.cnf.xml     # from cluster-c, over HTTP
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, FileNotFoundError, type TftpServer } from '@ptftp/protocol';
import { createProxyServer, type ProxyAddresses, type ProxyServer, type ServedInfo } from '@ptftp/server';

/** A remote cluster played by in-process TFTP servers, one per address. */
export interface FakeCluster {
  readonly id: string;
  /** `host:port` of each of its TFTP servers, in order. */
  readonly tftp: string[];
  /** Requests each server received, by file name (the proxy's cache shows in these counts). */
  requests(name: string): number;
  /** Replace or add a file on every server of the cluster. */
  set(name: string, data: string | Uint8Array): void;
  /** Stop one of its servers (to watch the proxy fail over to the next address). */
  stopServer(index: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start a cluster of `hosts.length` TFTP servers serving the same `files` (names matched
 * case-insensitively, as CUCM does). A host that cannot be bound here (127.0.0.2 on macOS)
 * falls back to 127.0.0.1.
 */
export async function startCluster(
  id: string,
  files: Record<string, string | Uint8Array>,
  hosts: string[] = ['127.0.0.1'],
): Promise<FakeCluster> {
  const content = new Map<string, Uint8Array>();
  const set = (name: string, data: string | Uint8Array) =>
    content.set(name.toLowerCase(), typeof data === 'string' ? new TextEncoder().encode(data) : data);
  for (const [name, data] of Object.entries(files)) set(name, data);
  const counts = new Map<string, number>();
  const servers: TftpServer[] = [];
  const tftp: string[] = [];
  try {
    for (const wanted of hosts) {
      const server = createServer({
        handler: (req) => {
          const key = req.filename.toLowerCase();
          counts.set(key, (counts.get(key) ?? 0) + 1);
          const data = content.get(key);
          if (!data) throw new FileNotFoundError(req.filename);
          return data;
        },
      });
      servers.push(server);
      let bound: Awaited<ReturnType<TftpServer['listen']>>;
      try {
        bound = await server.listen([`${wanted}:0`]);
      } catch {
        bound = await server.listen(['127.0.0.1:0']);
      }
      const a = bound[0]!;
      tftp.push(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return {
    id,
    tftp,
    requests: (name) => counts.get(name.toLowerCase()) ?? 0,
    set,
    stopServer: (index) => servers[index]?.close() ?? Promise.resolve(),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** A phone configuration file as CUCM would serve it, trimmed to what matters here. */
export function phoneConfig(device: string, cluster: string, callManager: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<device><!-- ${device}, home cluster ${cluster} -->`,
    '  <fullConfig>true</fullConfig>',
    `  <devicePool><callManagerGroup><members><member priority="0"><callManager><name>${callManager}</name>`,
    '  <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort></ports>',
    '  </callManager></member></members></callManagerGroup></devicePool>',
    '</device>',
    '',
  ].join('\n');
}

/** Files of the proxy's own TFTP folder. */
export const LOCAL_FILES: Record<string, string> = {
  'SEP001122334455.cnf.xml': phoneConfig('SEP001122334455', 'primary', 'cucm-a.example.com'),
  'RingList.xml':
    '<CiscoIPPhoneRingList><Ring><DisplayName>Proxy ring</DisplayName></Ring></CiscoIPPhoneRingList>\n',
};

/** Files of the two remote clusters. Both also hold their own RingList.xml, which the proxy never serves. */
export const CLUSTER_FILES: Record<'cluster-b' | 'cluster-c', Record<string, string>> = {
  'cluster-b': {
    'SEP00AABBCC0B01.cnf.xml': phoneConfig('SEP00AABBCC0B01', 'cluster-b', 'cucm-b.example.com'),
    'SEP00AABBCC0B02.cnf.xml': phoneConfig('SEP00AABBCC0B02', 'cluster-b', 'cucm-b.example.com'),
    'RingList.xml': '<CiscoIPPhoneRingList><!-- cluster-b copy --></CiscoIPPhoneRingList>\n',
  },
  'cluster-c': {
    'SEP00AABBCC0C01.cnf.xml': phoneConfig('SEP00AABBCC0C01', 'cluster-c', 'cucm-c.example.com'),
    'RingList.xml': '<CiscoIPPhoneRingList><!-- cluster-c copy --></CiscoIPPhoneRingList>\n',
  },
};

/** Options of {@link main}. */
export interface TwoClusterOptions {
  /** Proxy TFTP addresses (default 127.0.0.1:6969, plus [::1]:6969 when IPv6 loopback exists). */
  listen?: string[];
  /** Proxy HTTP addresses (TCP; default 127.0.0.1:6970). */
  httpListen?: string[];
  /** The admin endpoint (default none; `ptftp status --admin http://...` reads it). */
  admin?: string | false;
  /** Loopback hosts of the clusters' two servers each (default 127.0.0.2 + .4 and 127.0.0.3 + .5). */
  clusterHosts?: { 'cluster-b': string[]; 'cluster-c': string[] };
  /** Per-packet timeout when asking a cluster (default 500 ms): a dead address costs this once. */
  upstreamTimeoutMs?: number;
  log?: (line: string) => void;
}

/** The running example. */
export interface TwoClusterHandle {
  readonly proxy: ProxyServer;
  readonly addresses: ProxyAddresses;
  readonly clusters: { 'cluster-b': FakeCluster; 'cluster-c': FakeCluster };
  /** The proxy's TFTP folder (replace a file there: the next request gets it, no restart). */
  readonly root: string;
  /** Every `served` event so far, in order. */
  readonly served: readonly ServedInfo[];
  close(): Promise<void>;
}

async function canBindV6(): Promise<boolean> {
  const probe = createServer({ handler: () => new Uint8Array(0) });
  try {
    await probe.listen(['[::1]:0']);
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}

/**
 * Start the two clusters and the proxy in front of them.
 *
 * @example
 * ```ts
 * const ex = await main({ listen: ['127.0.0.1:0'], httpListen: ['127.0.0.1:0'] });
 * ex.proxy.on('served', (s) => console.log(s.name, s.source, s.clusterId));
 * await ex.close();
 * ```
 */
export async function main(options: TwoClusterOptions = {}): Promise<TwoClusterHandle> {
  const log = options.log ?? (() => {});
  const hosts = options.clusterHosts ?? {
    'cluster-b': ['127.0.0.2', '127.0.0.4'],
    'cluster-c': ['127.0.0.3', '127.0.0.5'],
  };
  const root = await mkdtemp(join(tmpdir(), 'ptftp-proxy-'));
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    for (const [name, data] of Object.entries(LOCAL_FILES)) await writeFile(join(root, name), data);
    const b = await startCluster('cluster-b', CLUSTER_FILES['cluster-b'], hosts['cluster-b']);
    started.push(b);
    const c = await startCluster('cluster-c', CLUSTER_FILES['cluster-c'], hosts['cluster-c']);
    started.push(c);

    const listen = options.listen ?? ['127.0.0.1:6969', ...((await canBindV6()) ? ['[::1]:6969'] : [])];
    const proxy = createProxyServer({
      listen,
      http: { listen: options.httpListen ?? ['127.0.0.1:6970'] },
      admin: options.admin ? { listen: options.admin } : { enabled: false },
      store: { root },
      primaryId: 'proxy-a',
      clusters: [
        { id: 'cluster-b', fqdn: 'tftp.b.example.com', description: 'Branch B', tftp: b.tftp },
        { id: 'cluster-c', fqdn: 'tftp.c.example.com', description: 'Branch C', tftp: c.tftp },
      ],
      cache: { ttlSeconds: 1800 },
      upstream: { timeoutMs: options.upstreamTimeoutMs ?? 500, retries: 0 },
    });
    const served: ServedInfo[] = [];
    proxy.on('served', (s) => {
      served.push(s);
      const from = s.source === 'local' ? 'local' : `${s.source} ${s.clusterId}@${s.address}`;
      log(`${s.transport} ${s.name} -> ${s.remote.address}: ${s.bytes} B from ${from}`);
    });
    proxy.on('failed', (f) => log(`${f.transport} ${f.name} -> ${f.remote.address}: ${f.result}`));
    proxy.on('failover', (f) => log(`cluster ${f.clusterId}: ${f.from} did not answer, trying ${f.to}`));
    const addresses = await proxy.start();
    for (const t of [...addresses.tftp, ...addresses.http]) log(`proxy listening on ${t.url}`);
    for (const cl of [b, c]) log(`remote cluster ${cl.id}: ${cl.tftp.join(', ')}`);

    return {
      proxy,
      addresses,
      clusters: { 'cluster-b': b, 'cluster-c': c },
      root,
      served,
      async close() {
        await proxy.close({ graceMs: 1000 });
        await Promise.all([b.close(), c.close()]);
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ex = await main({ admin: '127.0.0.1:9469', log: console.log });
  const tftp = ex.addresses.tftp[0]?.url;
  const http = ex.addresses.http[0]?.url;
  console.log(`try:\n  curl ${tftp}/SEP00AABBCC0B01.cnf.xml\n  curl ${http}/SEP00AABBCC0C01.cnf.xml`);
  console.log(`  curl ${tftp}/RingList.xml        # the proxy's own copy, never a cluster's`);
  console.log('  npx ptftp status                 # cache and cluster health (Ctrl-C stops)');
  process.once('SIGINT', () => void ex.close());
}
