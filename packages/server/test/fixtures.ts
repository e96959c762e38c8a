import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { createServer, FileNotFoundError, type TftpServer } from '@ptftp/protocol';
import { MemoryStore } from '@ptftp/resolver';
import { xorshiftBytes } from '../../../test-support/peers.js';
import { createProxyServer, type ProxyConfigInput, type ProxyServer } from '../src/index.js';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A remote cluster: a real @ptftp/protocol TFTP server on loopback that counts what it is asked. */
export interface FakeCluster {
  readonly server: TftpServer;
  readonly address: string;
  readonly asked: string[];
  readonly files: Map<string, Uint8Array>;
}

export async function startCluster(
  host: string,
  files: Record<string, Uint8Array | string>,
): Promise<FakeCluster> {
  const map = new Map(
    Object.entries(files).map(
      ([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v] as const,
    ),
  );
  const asked: string[] = [];
  const server = createServer({
    handler: (req) => {
      asked.push(req.filename);
      const data = map.get(req.filename);
      if (!data) throw new FileNotFoundError(req.filename);
      return data;
    },
  });
  const [bound] = await server.listen([`${host}:0`]);
  return { server, address: `${host}:${bound!.port}`, asked, files: map };
}

/** A started proxy on free loopback ports with an in-memory local store. */
export async function startProxy(
  config: ProxyConfigInput,
  local: Record<string, Uint8Array | string> = {},
): Promise<ProxyServer> {
  const store = new MemoryStore(local);
  const server = createProxyServer(
    {
      listen: ['127.0.0.1:0'],
      http: { listen: ['127.0.0.1:0'] },
      admin: { listen: '127.0.0.1:0' },
      ...config,
    },
    { createStore: () => store },
  );
  await server.start();
  return server;
}

/** Deterministic bytes (no Math.random: a failure must be reproducible). */
export function pattern(size: number, seed = 1): Uint8Array {
  const b = xorshiftBytes(size, seed);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const [k, v] = kv.split('=');
          return [k, v?.replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

/**
 * Resolves once the server has reported `n` more `served` events. A TFTP client is done when
 * it has sent its last ACK; the server reports the transfer when that ACK arrives, a moment
 * later, so tests wait for the report instead of racing it. Bounded: rejects after 10 s.
 */
export function untilServed(server: ProxyServer, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const onServed = () => {
      if (++seen < n) return;
      clearTimeout(timer);
      server.off('served', onServed);
      resolve();
    };
    const timer = setTimeout(() => {
      server.off('served', onServed);
      reject(new Error(`only ${seen} of ${n} transfers were reported as served`));
    }, 10_000);
    server.on('served', onServed);
  });
}

/** One GET with the request target sent exactly as given (fetch() would normalise it first). */
export function rawGet(server: ProxyServer, target: string): Promise<{ status: number; body: string }> {
  const a = server.addresses.http[0]!;
  return new Promise((resolve, reject) => {
    const req = request({ host: a.address, port: a.port, path: target, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
