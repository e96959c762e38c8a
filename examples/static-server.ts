/**
 * A minimal static TFTP server: every file under a folder, read-only, on IPv4 and IPv6
 * loopback. This is @ptftp/protocol alone (no proxy): `createServer` does the protocol,
 * `createFsHandler` turns a request into a file's bytes and refuses names that leave the root.
 *
 *   npx tsx examples/static-server.ts                 # serves a sample folder on port 6969
 *   npx tsx examples/static-server.ts ./tftpboot      # serves ./tftpboot
 *   curl tftp://127.0.0.1:6969/SEP001122334455.cnf.xml
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFsHandler, createServer, type ListeningAddress } from '@ptftp/protocol';

/** Options of {@link main}. Every field has a default that suits a developer machine. */
export interface StaticServerOptions {
  /** Folder to serve. Default: a temporary folder filled with sample phone files. */
  root?: string;
  /** Listening addresses (`host:port`, `[v6]:port`; port 0 picks a free one). */
  listen?: string[];
  /** Print what happens (default true when run from the command line). */
  log?: (line: string) => void;
}

/** The running example. */
export interface StaticServerHandle {
  /** The folder being served. */
  readonly root: string;
  /** The bound sockets, with the ports actually used. */
  readonly addresses: ListeningAddress[];
  /** Transfers completed so far. */
  readonly completed: number;
  close(): Promise<void>;
}

/** The sample folder: a phone configuration, a common file in a subfolder, and a 100 KiB "load". */
export async function writeSampleFiles(root: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'SEP001122334455.cnf.xml': Buffer.from(
      '<device><fullConfig>true</fullConfig><deviceProtocol>SIP</deviceProtocol></device>\n',
    ),
    'RingList.xml': Buffer.from('<CiscoIPPhoneRingList></CiscoIPPhoneRingList>\n'),
    'Desktops/320x196x4/List.xml': Buffer.from('<CiscoIPPhoneImageList></CiscoIPPhoneImageList>\n'),
    // Every byte value, over 200 blocks of 512: a firmware-sized file for the curl demo.
    'loads/sample.bin': Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => (i * 7 + 3) & 0xff)),
  };
  for (const [name, data] of Object.entries(files)) {
    const full = join(root, name);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, data);
  }
  return files;
}

async function ipv6Loopback(): Promise<boolean> {
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
 * Start the server. Without `root` a temporary sample folder is created (and removed on close).
 *
 * @example
 * ```ts
 * const server = await main({ root: '/srv/tftp', listen: ['127.0.0.1:0'] });
 * console.log(server.addresses[0]?.port);
 * await server.close();
 * ```
 */
export async function main(options: StaticServerOptions = {}): Promise<StaticServerHandle> {
  const log = options.log ?? (() => {});
  const sample = options.root === undefined ? await mkdtemp(join(tmpdir(), 'ptftp-static-')) : undefined;
  const root = options.root ?? (sample as string);
  if (sample) await writeSampleFiles(sample);

  const listen = options.listen ?? ['127.0.0.1:6969', ...((await ipv6Loopback()) ? ['[::1]:6969'] : [])];
  // 1468-byte blocks fit one Ethernet frame; phones ask for them.
  const server = createServer({ handler: createFsHandler(root), maxBlksize: 1468 });
  let completed = 0;
  server.on('transferComplete', (s) => {
    completed++;
    log(`sent ${s.filename} to ${s.remote.address}: ${s.bytes} bytes in ${Math.round(s.durationMs)} ms`);
  });
  server.on('transferError', (err, info) =>
    log(`refused ${info.filename} (${info.remote.address}): ${err.message}`),
  );

  let addresses: ListeningAddress[];
  try {
    addresses = await server.listen(listen);
  } catch (err) {
    await server.close();
    if (sample) await rm(sample, { recursive: true, force: true });
    throw err;
  }
  for (const a of addresses)
    log(`TFTP on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}, serving ${root}`);

  return {
    root,
    addresses,
    get completed() {
      return completed;
    },
    async close() {
      await server.close({ graceMs: 1000 });
      if (sample) await rm(sample, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const handle = await main({ ...(process.argv[2] && { root: process.argv[2] }), log: console.log });
  const port = handle.addresses[0]?.port;
  console.log(`try: curl -o RingList.xml tftp://127.0.0.1:${port}/RingList.xml   (Ctrl-C stops)`);
  process.once('SIGINT', () => void handle.close());
}
