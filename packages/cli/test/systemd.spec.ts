/**
 * systemd socket activation through the built `ptftp` binary, with systemd's own
 * `systemd-socket-activate` as the parent: it binds the sockets, waits for the first packet or
 * connection, then starts ptftp with LISTEN_FDS. The request that woke it must be served.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freeTcpPort, lacking, requirePeer, runCommand } from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A port free on both 127.0.0.1 and ::1 for UDP (systemd-socket-activate takes no port 0). */
async function freeUdpPort(): Promise<number> {
  for (;;) {
    const a = dgram.createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', r));
    const port = a.address().port;
    const b = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(port, '::1', () => r(true));
    });
    a.close();
    if (ok) b.close();
    if (ok) return port;
  }
}

describe.skipIf(lacking('systemdSocketActivate'))('ptftp serve under systemd socket activation', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let out = '';
  let err = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-systemd-'));
    out = '';
    err = '';
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  function activate(args: string[]): ChildProcess {
    const child = spawn(requirePeer('systemdSocketActivate'), args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    children.push(child);
    return child;
  }

  /**
   * `ptftp serve -c ptftp.config.json` (holding `config`) behind one TCP socket on 127.0.0.1
   * named `fdname` (`FileDescriptorName=`), once systemd-socket-activate has bound it. Resolves
   * with the socket's port.
   */
  async function serveBehindNamedTcp(fdname: string, config: Record<string, unknown>): Promise<number> {
    await writeFile(join(dir, 'ptftp.config.json'), JSON.stringify(config));
    const port = await freeTcpPort();
    activate([
      '-l',
      `127.0.0.1:${port}`,
      `--fdname=${fdname}`,
      process.execPath,
      BIN,
      'serve',
      '-c',
      'ptftp.config.json',
    ]);
    await bound(1);
    return port;
  }

  /** Wait until systemd-socket-activate has bound its sockets ("Listening on ... as N."). */
  async function bound(count: number): Promise<void> {
    await vi.waitFor(
      () =>
        expect(
          (err.match(/Listening on /g) ?? []).length,
          `systemd-socket-activate: ${err}`,
        ).toBeGreaterThanOrEqual(count),
      { timeout: 5000, interval: 25 },
    );
  }

  it('UDP on 127.0.0.1 and ::1: the RRQ that woke ptftp is answered, on both stacks, byte-identical', async () => {
    const file = Buffer.alloc(200_000);
    for (let i = 0; i < file.length; i++) file[i] = (i * 131 + 7) & 0xff;
    await writeFile(join(dir, 'SEP001122334455.cnf.xml'), file);
    const port = await freeUdpPort();
    activate([
      '--datagram',
      '-l',
      `127.0.0.1:${port}`,
      '-l',
      `[::1]:${port}`,
      '--fdname=tftp:tftp6',
      process.execPath,
      BIN,
      'serve',
      '--root',
      dir,
      '--no-admin',
    ]);
    await bound(2);
    // ptftp is not running yet: this request starts it and must still be served.
    const v4 = await tftpGet({ host: '127.0.0.1', port }, 'SEP001122334455.cnf.xml', { blksize: 1468 });
    expect(sha(v4)).toBe(sha(file));
    const v6 = await tftpGet({ host: '::1', port }, 'SEP001122334455.cnf.xml');
    expect(sha(v6)).toBe(sha(file));
    expect(out).toContain(`using UDP socket 127.0.0.1:${port} from systemd (fd 3)`);
    expect(out).toContain(`using UDP socket [::1]:${port} from systemd (fd 4)`);
    expect(out).toContain(`listening on tftp://127.0.0.1:${port} (TFTP)`);
    expect(out).toContain(`listening on tftp://[::1]:${port} (TFTP)`);
  }, 30_000);

  it('TCP: an inherited stream socket becomes the HTTP front end; the configured TFTP address stays', async () => {
    await writeFile(join(dir, 'SEPAABBCCDDEEFF.cnf.xml'), '<device>over http</device>\n');
    const port = await serveBehindNamedTcp('http', {
      listen: ['127.0.0.1:0'],
      store: { root: '.' },
      admin: { enabled: false },
    });
    const res = await fetch(`http://127.0.0.1:${port}/SEPAABBCCDDEEFF.cnf.xml`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<device>over http</device>\n');
    expect(out).toContain(`using TCP socket 127.0.0.1:${port} from systemd (fd 3)`);
    expect(out).toMatch(/listening on tftp:\/\/127\.0\.0\.1:\d+ \(TFTP\)/);
  }, 30_000);

  it('--root has no HTTP of its own, but a passed TCP socket switches it on', async () => {
    await writeFile(join(dir, 'a.cfg'), 'root mode over http\n');
    const port = await freeTcpPort();
    // TFTP on a port of the OS's choosing: the default 6969 may be taken (by the README's demo).
    activate([
      '-l',
      `127.0.0.1:${port}`,
      process.execPath,
      BIN,
      'serve',
      '--root',
      '.',
      '--listen',
      '127.0.0.1:0',
      '--no-admin',
    ]);
    await bound(1);
    const res = await fetch(`http://127.0.0.1:${port}/a.cfg`);
    expect(await res.text()).toBe('root mode over http\n');
  }, 30_000);

  it('a TCP socket named "admin" (FileDescriptorName=admin) carries the admin endpoint, not HTTP', async () => {
    const port = await serveBehindNamedTcp('admin', {
      listen: ['127.0.0.1:0'],
      http: { enabled: false },
      store: { root: '.' },
    });
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(out).toContain(`admin endpoint on http://127.0.0.1:${port}`);
  }, 30_000);

  it('a passed descriptor that is no socket: exit 1 and one line naming it', async () => {
    await writeFile(join(dir, 'not-a-socket'), 'x');
    const r = await runCommand(
      '/bin/sh',
      [
        '-c',
        `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$1" serve --root . --no-admin 3<not-a-socket`,
        process.execPath,
        BIN,
      ],
      { timeoutMs: 30_000, cwd: dir },
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot listen on systemd fd 3: .*not-a-socket is not a UDP or TCP socket/);
  });
});
