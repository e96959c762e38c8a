/**
 * The servers a protocol bench compares, all on 127.0.0.1: tftpd-hpa, atftpd and dnsmasq from
 * Debian, and our server (the built @ptftp/protocol) in its own Node process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freeUdpPort, startDaemon } from './processes.mjs';

export const binaries = {
  inTftpd: process.env.PTFTP_IN_TFTPD ?? '/usr/sbin/in.tftpd',
  atftpd: process.env.PTFTP_ATFTPD ?? '/opt/ptftp-peers/usr/sbin/atftpd',
  dnsmasq: '/usr/sbin/dnsmasq',
  atftp: '/usr/bin/atftp',
};

function need(path) {
  if (!existsSync(path)) throw new Error(`bench peer missing: ${path}`);
  return path;
}

/** tftpd-hpa 5.2 in the foreground; it forks one process per transfer. */
export async function startTftpdHpa(root) {
  const port = await freeUdpPort();
  return startDaemon(
    'tftpd-hpa',
    need(binaries.inTftpd),
    ['-L', '-4', '-a', `127.0.0.1:${port}`, '-s', root],
    port,
  );
}

/** atftpd 0.8, one thread per transfer; allowed as many threads as the storm has clients. */
export async function startAtftpd(root, maxThreads = 1000) {
  const port = await freeUdpPort();
  return startDaemon(
    'atftpd',
    need(binaries.atftpd),
    [
      '--daemon',
      '--no-fork',
      '--logfile',
      '/dev/null',
      '--maxthread',
      String(maxThreads),
      '--port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      root,
    ],
    port,
  );
}

/**
 * dnsmasq 2.90's TFTP server: it listens on port 69 only, so 127.0.0.1:69 must be free.
 * `--tftp-max` is raised from its default 50 so that it can run the whole storm at once.
 */
export async function startDnsmasq(root, maxTransfers = 1000) {
  return startDaemon(
    'dnsmasq',
    need(binaries.dnsmasq),
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--port=0',
      '--user=root',
      '--enable-tftp',
      `--tftp-root=${root}`,
      `--tftp-max=${maxTransfers}`,
      '--quiet-tftp',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--log-facility=/dev/null',
    ],
    69,
  );
}

/** Our server (built package) in a child Node process. */
/** The Node ceiling (bench/lib/node-dgram-server.mjs): a bare node:dgram sender. */
export function startNodeDgram(root) {
  return startPtftp(root, [], 'node-dgram-server.mjs');
}

export async function startPtftp(root, extraFlags = [], scriptName = 'ptftp-server.mjs') {
  const script = fileURLToPath(new URL(`./${scriptName}`, import.meta.url));
  // PTFTP_BENCH_NODE_FLAGS: V8/Node flags for our server's process, e.g. "--max-semi-space-size=1".
  const flags = [...(process.env.PTFTP_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean), ...extraFlags];
  return startDaemon(scriptName.replace(/-server\.mjs$/, ''), process.execPath, [...flags, script, root], 0, {
    ready: (child) =>
      new Promise((resolve, reject) => {
        let line = '';
        child.stdout.on('data', (d) => {
          line += d;
          const nl = line.indexOf('\n');
          if (nl >= 0) {
            try {
              resolve(JSON.parse(line.slice(0, nl)).port);
            } catch (err) {
              reject(err);
            }
          }
        });
      }),
  });
}
