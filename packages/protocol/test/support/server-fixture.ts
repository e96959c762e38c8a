/** Servers and peers for tests, closed after each test. */
import { afterEach } from 'vitest';
import { createServer, type TftpServer, type TftpServerOptions } from '../../src/server.js';
import { RawPeer } from './raw-peer.js';

const servers: TftpServer[] = [];
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server on 127.0.0.1 (and optionally more addresses), port 0. */
export async function startServer(
  opts: TftpServerOptions,
  addresses: string[] = ['127.0.0.1:0'],
): Promise<{ server: TftpServer; port: number; ports: number[] }> {
  const server = createServer(opts);
  servers.push(server);
  const bound = await server.listen(addresses);
  return { server, port: bound[0]!.port, ports: bound.map((b) => b.port) };
}

export async function openPeer(host = '127.0.0.1'): Promise<RawPeer> {
  const p = await RawPeer.open(host);
  peers.push(p);
  return p;
}

/** Deterministic content: byte i is (i * 7 + i >> 8) mod 256, so shifted blocks differ. */
export function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}
