/**
 * Real DHCP servers from Debian (Kea, dnsmasq) on loopback, for proving that the rendered
 * configuration makes them send what the plan says. Every server gets free ports picked at run
 * time and a private temp folder; `stop()` kills it and removes the folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeUdpPort, requirePeer } from '../../../../test-support/peers.js';

/** The DHCP servers and decoders these tests run, by their name in test-support/peers.ts. */
export type Binary = 'kea4' | 'kea6' | 'dnsmasq' | 'dnsmasqDhcp' | 'dhcpd' | 'tshark' | 'python3' | 'scapy';

/** The binary's path; a clear error naming its Debian package when it is missing. */
export function requireBinary(name: Binary): string {
  return requirePeer(name);
}

export { lacking } from '../../../../test-support/peers.js';

export interface DhcpDaemon {
  readonly serverPort: number;
  readonly clientPort: number;
  readonly dir: string;
  readonly log: () => string;
  stop(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

function launch(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  return { child, log: () => text };
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Start kea-dhcp4 with a full Kea JSON configuration (built from its temp folder) on 127.0.0.1. */
export async function startKea4(config: (dir: string) => object): Promise<DhcpDaemon> {
  const dir = tempDir('ptftp-kea4-');
  const file = path.join(dir, 'kea-dhcp4.conf');
  writeFileSync(file, JSON.stringify(config(dir), null, 2));
  const serverPort = await freeUdpPort('127.0.0.1');
  const clientPort = await freeUdpPort('127.0.0.1');
  const { child, log } = launch(
    requireBinary('kea4'),
    ['-c', file, '-p', String(serverPort), '-P', String(clientPort)],
    { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
  );
  return { serverPort, clientPort, dir, log, stop: stopper(child, dir) };
}

/** Start kea-dhcp6 with `config` on ::1 (unicast: lo has no link-local address for multicast). */
export async function startKea6(config: (dir: string) => object): Promise<DhcpDaemon> {
  const dir = tempDir('ptftp-kea6-');
  const file = path.join(dir, 'kea-dhcp6.conf');
  writeFileSync(file, JSON.stringify(config(dir), null, 2));
  const serverPort = await freeUdpPort('::1');
  const clientPort = await freeUdpPort('::1');
  const { child, log } = launch(
    requireBinary('kea6'),
    ['-c', file, '-p', String(serverPort), '-P', String(clientPort)],
    { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
  );
  return { serverPort, clientPort, dir, log, stop: stopper(child, dir) };
}

/** Start dnsmasq (DHCPv4 only, DNS off) with the lines of `config` on lo. */
export async function startDnsmasq(
  lines: (ports: { server: number; client: number; dir: string }) => string,
): Promise<DhcpDaemon> {
  const dir = tempDir('ptftp-dnsmasq-');
  const serverPort = await freeUdpPort('127.0.0.1');
  const clientPort = await freeUdpPort('127.0.0.1');
  const file = path.join(dir, 'dnsmasq.conf');
  writeFileSync(file, lines({ server: serverPort, client: clientPort, dir }));
  const { child, log } = launch(
    requireBinary('dnsmasq'),
    ['--keep-in-foreground', '--log-facility=-', '-C', file],
    {},
  );
  return { serverPort, clientPort, dir, log, stop: stopper(child, dir) };
}

/**
 * Send `request` from host:clientPort to host:serverPort, repeating every 250 ms (the server
 * may still be starting) until a datagram comes back or `timeoutMs` passes.
 */
export async function exchange(
  host: '127.0.0.1' | '::1',
  daemon: DhcpDaemon,
  request: Uint8Array,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const sock = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
  let tick: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      sock.on('error', reject);
      sock.on('message', (msg) => resolve(new Uint8Array(msg)));
      deadline = setTimeout(
        () =>
          reject(
            new Error(
              `no reply on ${host}:${daemon.serverPort} within ${timeoutMs} ms; server log:\n${daemon.log()}`,
            ),
          ),
        timeoutMs,
      );
      sock.bind(daemon.clientPort, host, () => {
        const send = () => sock.send(request, daemon.serverPort, host);
        send();
        tick = setInterval(send, 250);
      });
    });
  } finally {
    clearTimeout(deadline);
    clearInterval(tick);
    sock.close();
  }
}

/** Run a binary to completion with a time limit. */
export { runCommand } from '../../../../test-support/peers.js';
