import dgram from 'node:dgram';
import { createServer as createTftpServer, FileNotFoundError, type TftpServer } from '@ptftp/protocol';
import { MemoryStore } from '@ptftp/resolver';
import { formatEndpoint } from './address.js';
import { DEFAULT_ADMIN_PORT, DEFAULT_LISTEN_HTTP_PORT, DEFAULT_LISTEN_TFTP_PORT } from './config-schema.js';
import {
  DEMO_CLUSTERS,
  DEMO_COMMON_FILES,
  DEMO_LOCAL_PHONE,
  demoClusterFiles,
  demoLocalFiles,
} from './demo-files.js';
import { createProxyServer, type ProxyComponents, type ProxyServer } from './proxy-server.js';

/** Options of {@link startDemo}; tests override every port. */
export interface DemoOptions {
  /** TFTP addresses. Default `127.0.0.1:6969` and `[::1]:6969`. */
  listen?: readonly string[];
  /** HTTP addresses. Default `127.0.0.1:6970` and `[::1]:6970`. */
  httpListen?: readonly string[];
  /** Admin address (default `127.0.0.1:9469`), or `false` for none. */
  admin?: string | false;
  /** Loopback addresses of the two demo clusters. Default `127.0.0.2` and `127.0.0.3`. */
  clusterHosts?: readonly [string, string];
  /** Extra collaborators (tests). */
  components?: ProxyComponents;
}

/** A running demo remote cluster. */
export interface DemoCluster {
  readonly id: string;
  readonly address: string;
  readonly files: readonly string[];
}

/** The running demo. */
export interface Demo {
  readonly server: ProxyServer;
  readonly clusters: readonly DemoCluster[];
  /** False when `::1` is not available here: the demo then runs on IPv4 only. */
  readonly ipv6: boolean;
  /** Notices for the operator (e.g. IPv6 missing). */
  readonly notices: readonly string[];
  /** What to try: ready-made curl commands. */
  readonly hints: readonly string[];
  close(): Promise<void>;
}

/**
 * Can a UDP socket bind this address here? (`::1` is missing in some containers; 127.0.0.2 on macOS.)
 *
 * @example
 * ```ts
 * const listen = (await canBind('::1')) ? ['127.0.0.1:69', '[::1]:69'] : ['127.0.0.1:69'];
 * ```
 */
export async function canBind(host: string): Promise<boolean> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, host, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      sock.close();
    } catch {
      // Never bound: nothing to close.
    }
  }
}

function fileServer(files: Record<string, string>): TftpServer {
  const bytes = new Map(
    Object.entries(files).map(([k, v]) => [k.toLowerCase(), new TextEncoder().encode(v)]),
  );
  return createTftpServer({
    handler: (req) => {
      // TFTP servers on Cisco clusters match names case-insensitively, as phones vary the case.
      const data = bytes.get(req.filename.toLowerCase());
      if (!data) throw new FileNotFoundError(req.filename);
      return data;
    },
  });
}

/**
 * Start the embedded demo (`ptftp serve` with no configuration): a proxy with a local store of
 * sample phone files and common files, and two remote clusters (TFTP servers of their own on
 * loopback) holding their phones' `SEP<MAC>.cnf.xml`. Everything stops with `demo.close()`.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ listen: ['127.0.0.1:0'], httpListen: ['127.0.0.1:0'], admin: false });
 * for (const hint of demo.hints) console.log(hint);
 * await demo.close();
 * ```
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const notices: string[] = [];
  const ipv6 = await canBind('::1');
  const dropV6 = (list: readonly string[]) => list.filter((a) => ipv6 || !a.startsWith('['));
  if (!ipv6)
    notices.push('IPv6 loopback (::1) is not available on this machine: the demo continues on IPv4 only');
  const listen = dropV6(
    options.listen ?? [`127.0.0.1:${DEFAULT_LISTEN_TFTP_PORT}`, `[::1]:${DEFAULT_LISTEN_TFTP_PORT}`],
  );
  const httpListen = dropV6(
    options.httpListen ?? [`127.0.0.1:${DEFAULT_LISTEN_HTTP_PORT}`, `[::1]:${DEFAULT_LISTEN_HTTP_PORT}`],
  );

  const started: TftpServer[] = [];
  const clusters: DemoCluster[] = [];
  const hostsWanted = options.clusterHosts ?? ['127.0.0.2', '127.0.0.3'];
  try {
    for (const [i, def] of DEMO_CLUSTERS.entries()) {
      let host = hostsWanted[i] ?? '127.0.0.1';
      if (!(await canBind(host))) {
        notices.push(`${host} cannot be bound here: demo cluster ${def.id} runs on 127.0.0.1`);
        host = '127.0.0.1';
      }
      const files = demoClusterFiles(def);
      const server = fileServer(files);
      started.push(server);
      const [bound] = await server.listen([formatEndpoint({ host, port: 0 })]);
      if (!bound) throw new Error(`demo cluster ${def.id} did not bind`);
      clusters.push({
        id: def.id,
        address: formatEndpoint({ host, port: bound.port }),
        files: Object.keys(files),
      });
    }

    const store = new MemoryStore(demoLocalFiles());
    const server = createProxyServer(
      {
        listen: [...listen],
        http: { listen: [...httpListen] },
        admin:
          options.admin === false
            ? { enabled: false }
            : { listen: options.admin ?? `127.0.0.1:${DEFAULT_ADMIN_PORT}` },
        clusters: DEMO_CLUSTERS.map((def, i) => ({
          id: def.id,
          fqdn: def.fqdn,
          description: def.description,
          tftp: [clusters[i]!.address],
        })),
        commonFiles: [...DEMO_COMMON_FILES],
        cache: { ttlSeconds: 1800 },
      },
      { ...options.components, createStore: () => store },
    );
    const addrs = await server.start();
    const tftp = addrs.tftp[0];
    const http = addrs.http[0];
    const remotePhone = `SEP${DEMO_CLUSTERS[0].phones[0].mac}.cnf.xml`;
    // [command, comment] pairs, aligned when printed.
    const tries: [string, string][] = [];
    if (tftp) {
      const base = tftp.url;
      tries.push([
        `curl -s ${base}/${remotePhone}`,
        `a phone of ${DEMO_CLUSTERS[0].id}: fetched from that cluster`,
      ]);
      tries.push([`curl -s ${base}/${remotePhone}`, 'the same again: now from the cache']);
      tries.push([`curl -s ${base}/RingList.xml`, "a common file: always the proxy's own copy"]);
      tries.push([`curl -s ${base}/English_United_States/g3-tones.xml`, 'a locale file (common)']);
      tries.push([`curl -s ${base}/SEP${DEMO_LOCAL_PHONE.mac}.cnf.xml`, 'a phone of the local cluster']);
    }
    if (http) {
      tries.push([
        `curl -s ${http.url}/SEP${DEMO_CLUSTERS[1].phones[0].mac}.cnf.xml`,
        'over HTTP, as phones try first',
      ]);
    }
    if (addrs.admin) tries.push([`npx ptftp status --admin ${addrs.admin.url}`, 'cache and cluster health']);
    const width = Math.max(...tries.map(([c]) => c.length));
    const hints = tries.map(([cmd, why]) => `${cmd.padEnd(width)}   # ${why}`);

    return {
      server,
      clusters,
      ipv6,
      notices,
      hints,
      async close() {
        await server.close({ graceMs: 1000 });
        await Promise.allSettled(started.map((s) => s.close({ graceMs: 0 })));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close({ graceMs: 0 })));
    throw err;
  }
}
