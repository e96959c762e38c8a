/**
 * Real, independent TFTP peers from Debian for interoperability tests, on loopback only.
 * CI installs them (.ci/run): tftpd-hpa (/usr/sbin/in.tftpd), atftpd unpacked into
 * /opt/ptftp-peers, and the clients tftp-hpa, atftp and curl.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';

export const peers = {
  inTftpd: process.env.PTFTP_IN_TFTPD ?? '/usr/sbin/in.tftpd',
  atftpd: process.env.PTFTP_ATFTPD ?? '/opt/ptftp-peers/usr/sbin/atftpd',
  tftp: '/usr/bin/tftp',
  atftp: '/usr/bin/atftp',
  curl: '/usr/bin/curl',
  tshark: '/usr/bin/tshark',
  openssl: '/usr/bin/openssl',
  /** systemd's own implementation of socket activation (Debian package `systemd`). */
  systemdSocketActivate: '/usr/bin/systemd-socket-activate',
} as const;

/** Throw a clear error when a peer binary is missing (CI installs them all). */
export function requirePeer(name: keyof typeof peers): string {
  const path = peers[name];
  if (!existsSync(path)) throw new Error(`peer ${name} not found at ${path}: run .ci/run's install step`);
  return path;
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
