/**
 * Real, independent TFTP peers from Debian for interoperability tests, on loopback only.
 * CI installs them (.ci/run): tftpd-hpa (/usr/sbin/in.tftpd), atftpd unpacked into
 * /opt/ptftp-peers, the clients tftp-hpa, atftp and curl, and the DHCP servers. A machine
 * without them skips the tests that need them (`lacking()`), with one line naming what is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { accessSync, constants, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';

/**
 * Every outside program a test may talk to: where it lives, the Debian package that installs
 * it, and whether it only works as root (network namespaces, raw DHCP sockets).
 */
const catalogue = {
  // -s (the secure mode every test uses) chroots into the root folder, which needs root.
  inTftpd: { path: process.env.PTFTP_IN_TFTPD ?? '/usr/sbin/in.tftpd', pkg: 'tftpd-hpa', root: true },
  atftpd: {
    path: process.env.PTFTP_ATFTPD ?? '/opt/ptftp-peers/usr/sbin/atftpd',
    pkg: 'atftpd (unpacked into /opt/ptftp-peers by .ci/run)',
    // It starts as another user but never answers: it drops to "nobody", which needs root.
    root: true,
  },
  tftp: { path: '/usr/bin/tftp', pkg: 'tftp-hpa' },
  atftp: { path: '/usr/bin/atftp', pkg: 'atftp' },
  curl: { path: '/usr/bin/curl', pkg: 'curl' },
  tshark: { path: '/usr/bin/tshark', pkg: 'tshark' },
  openssl: { path: '/usr/bin/openssl', pkg: 'openssl' },
  /** systemd's own implementation of socket activation (Debian package `systemd`). */
  systemdSocketActivate: { path: '/usr/bin/systemd-socket-activate', pkg: 'systemd' },
  nft: { path: '/usr/sbin/nft', pkg: 'nftables', root: true },
  unshare: { path: '/usr/bin/unshare', pkg: 'util-linux', root: true },
  kea4: { path: '/usr/sbin/kea-dhcp4', pkg: 'kea-dhcp4-server' },
  kea6: { path: '/usr/sbin/kea-dhcp6', pkg: 'kea-dhcp6-server' },
  dnsmasq: { path: '/usr/sbin/dnsmasq', pkg: 'dnsmasq-base' },
  /** dnsmasq as a DHCP server (not only its syntax check) needs NET_ADMIN. */
  dnsmasqDhcp: { path: '/usr/sbin/dnsmasq', pkg: 'dnsmasq-base', root: true },
  dhcpd: { path: '/usr/sbin/dhcpd', pkg: 'isc-dhcp-server', root: true },
  redisServer: { path: '/usr/bin/redis-server', pkg: 'redis-server' },
  python3: { path: '/usr/bin/python3', pkg: 'python3' },
  scapy: { path: '/usr/bin/python3', pkg: 'python3-scapy', module: 'scapy.all' },
  pythonCryptography: { path: '/usr/bin/python3', pkg: 'python3-cryptography', module: 'cryptography' },
} as const satisfies Record<string, PeerSpec>;

interface PeerSpec {
  readonly path: string;
  /** The Debian package to install when it is missing. */
  readonly pkg: string;
  /** Works only as root (a network namespace, nftables, raw DHCP sockets). */
  readonly root?: boolean;
  /** A Python module that must import (the interpreter alone is not enough). */
  readonly module?: string;
}

export type PeerName = keyof typeof catalogue;

/** The path of every peer, by name (`peers.curl` is `/usr/bin/curl`). */
export const peers = Object.fromEntries(Object.entries(catalogue).map(([k, v]) => [k, v.path])) as {
  readonly [K in PeerName]: (typeof catalogue)[K]['path'];
};

const isRoot = process.getuid?.() === 0;
const verdicts = new Map<PeerName, string | undefined>();

/** Why `name` cannot run here (missing binary, missing module, not root), or undefined. */
export function peerProblem(name: PeerName): string | undefined {
  if (verdicts.has(name)) return verdicts.get(name);
  const spec: PeerSpec = catalogue[name];
  let problem: string | undefined;
  if (!executable(spec.path)) problem = `${name} (${spec.path}; apt-get install ${spec.pkg})`;
  else if (spec.root && !isRoot) problem = `${name} (needs root)`;
  else if (spec.module && !pythonImports(spec.path, spec.module))
    problem = `${name} (python module ${spec.module}; apt-get install ${spec.pkg})`;
  verdicts.set(name, problem);
  return problem;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function pythonImports(python: string, module: string): boolean {
  return spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

const announced = new Set<string>();

/**
 * True when one of `names` cannot run here, after printing one line naming what is missing, for
 * `describe.skipIf(lacking('inTftpd', 'atftpd'))(...)`. A clean machine without the peers skips
 * those tests instead of failing them; .ci/run installs every peer, so CI runs them all.
 *
 * @example
 * describe.skipIf(lacking('kea4'))('Kea sends option 150', () => { ... });
 */
export function lacking(...names: PeerName[]): boolean {
  const problems = names.map(peerProblem).filter((p): p is string => p !== undefined);
  if (problems.length === 0) return false;
  const line = `skipped: needs ${problems.join(', ')}`;
  if (!announced.has(line)) {
    announced.add(line);
    process.stderr.write(`${line}\n`);
  }
  return true;
}

/** The path of a peer, or a clear error naming its package when it cannot run here. */
export function requirePeer(name: PeerName): string {
  const problem = peerProblem(name);
  if (problem) throw new Error(`peer missing: ${problem}`);
  return catalogue[name].path;
}

/** An unused UDP port on `host` (bound then released). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** Deterministic bytes (xorshift32; no Math.random), so that a failing test reproduces. */
export function xorshiftBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A TCP port free on 127.0.0.1 right now (for configurations that name their port). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once a TFTP server answers anything (usually ERROR 1) on host:port. */
export async function waitForTftp(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const rrq = Buffer.from('\x00\x01__ptftp_probe__\x00octet\x00', 'latin1');
  let tick: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      deadline = setTimeout(() => reject(new Error(`no TFTP server answered on ${host}:${port}`)), timeoutMs);
      tick = setInterval(() => sock.send(rrq, port, host), 50);
      sock.on('message', () => resolve());
      sock.on('error', () => {});
      sock.send(rrq, port, host);
    });
  } finally {
    clearTimeout(deadline);
    clearInterval(tick);
    sock.close();
  }
}

export interface RunningPeer {
  readonly host: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

async function startDaemon(cmd: string, args: string[], host: string, port: number): Promise<RunningPeer> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForTftp(host, port),
      exited.then(() => {
        throw new Error(`${cmd} exited at start: ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    host,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Start tftpd-hpa (read-only) serving `root` on host:port (a free port by default). */
export async function startTftpdHpa(opts: {
  root: string;
  host?: string;
  port?: number;
  args?: string[];
}): Promise<RunningPeer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freeUdpPort(host));
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const args = [
    '-L',
    '-a',
    addr,
    ...(host.includes(':') ? ['-6'] : ['-4']),
    ...(opts.args ?? []),
    '-s',
    opts.root,
  ];
  return startDaemon(requirePeer('inTftpd'), args, host, port);
}

/** Start atftpd serving `root` on host:port (a free port by default). atftpd 0.8 binds IPv4 only. */
export async function startAtftpd(opts: {
  root: string;
  host?: string;
  port?: number;
  args?: string[];
}): Promise<RunningPeer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freeUdpPort(host));
  const args = [
    '--daemon',
    '--no-fork',
    '--logfile',
    '/dev/null',
    '--port',
    String(port),
    '--bind-address',
    host,
    ...(opts.args ?? []),
    opts.root,
  ];
  return startDaemon(requirePeer('atftpd'), args, host, port);
}

/** Run a command to completion with a time limit; never throws on a non-zero exit. */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; input?: string | Buffer } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A child that exits before reading its input must not crash the test run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
