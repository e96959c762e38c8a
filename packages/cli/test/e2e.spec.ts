/**
 * End to end through the built `ptftp` binary (`node packages/cli/bin/ptftp.js`), as an
 * operator runs it: real sockets on loopback, curl as the phone, ports chosen at run time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tftpGet, tftpGetStream } from '@ptftp/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  freeUdpPort,
  lacking,
  xorshiftBytes as pattern,
  requirePeer,
  runCommand,
} from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** The first `<scheme>://...` URL announced on a line containing `marker`. */
  url(marker: RegExp): string;
}

const running: Running[] = [];

/** Resolves when `predicate()` holds, checking each time the process writes; rejects after `ms`. */
function waitFor(r: Running, predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}:\n${r.stdout()}\n${r.stderr()}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      r.child.stdout!.off('data', check);
      r.child.stderr!.off('data', check);
    };
    r.child.stdout!.on('data', check);
    r.child.stderr!.on('data', check);
    check();
  });
}

/** Spawn `ptftp serve ...` and wait (bounded) until `ready(stdout)` says its addresses are announced. */
async function serve(args: string[], ready: (out: string) => boolean, cwd?: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const r: Running = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    url(marker) {
      const line = out.split('\n').find((l) => marker.test(l));
      const m = line && /(tftp|http):\/\/\S+/.exec(line);
      if (!m) throw new Error(`no address matching ${marker} in:\n${out}`);
      return m[0];
    },
  };
  running.push(r);
  await Promise.race([
    waitFor(r, () => ready(out), 'the listening addresses'),
    exited.then((code) => {
      throw new Error(`ptftp serve exited (${code}) before listening:\n${err}`);
    }),
  ]);
  return r;
}

async function stop(r: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
  const code = await r.exited;
  clearTimeout(t);
  return code;
}

function ptftp(args: string[], cwd?: string) {
  return runCommand(process.execPath, [BIN, ...args], { timeoutMs: 30_000, ...(cwd && { cwd }) });
}

const curl = () => requirePeer('curl');

/** curl's output as bytes (runCommand decodes text; binary files go through a file). */
async function curlBytes(url: string, dir: string, name: string): Promise<Buffer> {
  const file = join(dir, `curl-${name}`);
  const r = await runCommand(curl(), ['-sS', '--fail', '-o', file, url], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`curl ${url} failed (${r.code}): ${r.stderr}`);
  return readFile(file);
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('ptftp binary, end to end', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(DIST)) {
      throw new Error(
        `${DIST} is missing: build the packages first (npm run build; CI builds them during npm ci)`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'ptftp-e2e-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => stop(r, 'SIGKILL')));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(lacking('curl'))(
    'demo: a remote-cluster phone file reaches curl over TFTP and HTTP with identical bytes, logged with its source',
    async () => {
      const demo = await serve(
        ['--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--no-admin', '--log-format', 'json'],
        (out) => out.includes('Ctrl-C stops'),
      );
      const tftp = demo.url(/\(TFTP\)/);
      const http = demo.url(/\(HTTP\)/);
      const name = 'SEP00AABBCC0B01.cnf.xml';
      const viaTftp = await curlBytes(`${tftp}/${name}`, dir, 'demo-tftp');
      const viaHttp = await curlBytes(`${http}/${name}`, dir, 'demo-http');
      expect(viaTftp.byteLength).toBeGreaterThan(1000);
      expect(sha(viaHttp)).toBe(sha(viaTftp));
      expect(viaTftp.toString('utf8')).toContain('<deviceName>SEP00AABBCC0B01</deviceName>');
      expect(demo.stdout()).toMatch(/curl -s tftp:\/\/127\.0\.0\.1:\d+\/SEP00AABBCC0B01\.cnf\.xml/);
      // The log says where each answer came from: the cluster first, then the shared cache.
      // A line is written once the response has closed, which may be just after curl is done.
      const servedLines = () => demo.stderr().split('"event":"served"').length - 1;
      await waitFor(demo, () => servedLines() === 2, 'two "served" log lines');
      const served = demo
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"event":"served"'))
        .map((l) => JSON.parse(l) as { transport: string; source: string; clusterId?: string });
      expect(served.map((s) => `${s.transport}:${s.source}:${s.clusterId}`)).toEqual([
        'tftp:cluster:cluster-b',
        'http:cache:cluster-b',
      ]);
      expect(await stop(demo, 'SIGINT')).toBe(0);
      expect(demo.stdout()).toContain('stopped\n');
    },
  );

  it('refuses a configuration with 4 TFTP addresses in a cluster, with the exact message and exit 1', async () => {
    const file = join(dir, 'four.json');
    await writeFile(
      file,
      JSON.stringify({
        clusters: [{ id: 'cluster-b', tftp: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'] }],
      }),
    );
    const r = await ptftp(['serve', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ptftp: invalid configuration ${file}: clusters[0].tftp[3]: at most 3 TFTP addresses per cluster\n`,
    );
  });

  it('refuses a configuration whose peers form a loop, naming the edge (config check and serve)', async () => {
    const file = join(dir, 'loop.json');
    await writeFile(
      file,
      JSON.stringify({
        primaryId: 'proxy-a',
        clusters: [
          { id: 'cluster-b', tftp: ['127.0.0.2'], peers: ['proxy-a', 'cluster-c'] },
          { id: 'cluster-c', tftp: ['127.0.0.3'], peers: ['proxy-a', 'cluster-b'] },
        ],
      }),
    );
    const expected = [
      `ptftp: invalid configuration ${file} (2 problems):`,
      '  clusters[0].peers[1]: peers form a loop (cluster-b -> cluster-c -> cluster-b): the hierarchy is single level',
      '  clusters[1].peers[1]: peers form a loop (cluster-c -> cluster-b -> cluster-c): the hierarchy is single level',
      '',
    ].join('\n');
    const check = await ptftp(['config', 'check', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe(expected);
    const run = await ptftp(['serve', '-c', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(expected);
  });

  it('reload under load loses no transfer: 50 concurrent 1 MiB reads while SIGHUP and `ptftp reload` apply a changed config', async () => {
    const root = join(dir, 'reload-root');
    await mkdir(root, { recursive: true });
    const big = pattern(1024 * 1024, 0x5eed);
    await writeFile(join(root, 'load.bin'), big);
    const file = join(dir, 'reload.json');
    // Held transfers resend DATA every second; 30 retries give the reloads ample time.
    const base = {
      store: { root: './reload-root' },
      cache: { ttlSeconds: 1800 },
      limits: { retries: 30, inactivityTimeoutMs: 60_000 },
    };
    await writeFile(file, JSON.stringify(base));
    const proxy = await serve(
      ['-c', file, '--listen', '127.0.0.1:0', '--no-http', '--admin', '127.0.0.1:0', '--log-format', 'json'],
      (out) => out.includes('admin endpoint on'),
    );
    const tftp = new URL(proxy.url(/\(TFTP\)/).replace('tftp:', 'http:'));
    const admin = proxy.url(/admin endpoint/);
    const target = { host: tftp.hostname, port: Number(tftp.port) };

    // 50 transfers under way, held mid-file: nobody reads, so the client holds its ACKs back and
    // every transfer is certainly in progress while both reloads run (no timing involved).
    const downloads = await Promise.all(
      Array.from({ length: 50 }, () => tftpGetStream(target, 'load.bin', { blksize: 1428, retries: 30 })),
    );

    // 1: SIGHUP with a changed cache time.
    await writeFile(file, JSON.stringify({ ...base, cache: { ttlSeconds: 60 } }));
    proxy.child.kill('SIGHUP');
    await waitFor(proxy, () => proxy.stderr().includes('"event":"reloaded"'), 'the SIGHUP reload');
    // 2: `ptftp reload` through the admin endpoint, with another change.
    await writeFile(file, JSON.stringify({ ...base, cache: { ttlSeconds: 120 }, commonFiles: ['*.bin'] }));
    const reload = await ptftp(['reload', '--admin', admin]);
    const endedBeforeReloads = downloads.filter((d) => d.stream.readableEnded).length;
    const results = await Promise.all(
      downloads.map(async ({ stream }) => {
        const hash = createHash('sha256');
        for await (const chunk of stream) hash.update(chunk as Buffer);
        return hash.digest('hex');
      }),
    );

    expect(reload.code).toBe(0);
    expect(reload.stdout).toMatch(/^reloaded: applied commonFiles, cache\n$/);
    expect(endedBeforeReloads).toBe(0);
    expect(results).toEqual(Array(50).fill(sha(big)));
    const status = JSON.parse((await ptftp(['status', '--json', '--admin', admin])).stdout) as {
      reloads: { applied: number; rejected: number };
    };
    expect(status.reloads).toEqual({ applied: 2, rejected: 0 });

    // An invalid file is refused and the server keeps serving with the old configuration.
    await writeFile(file, JSON.stringify({ ...base, clusters: [{ id: 'x y', tftp: ['127.0.0.2'] }] }));
    const refused = await ptftp(['reload', '--admin', admin]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "ptftp: reload refused: invalid configuration: clusters[0].id: cluster ID may contain only letters, digits, '.' and '-'\n",
    );
    expect(sha(await tftpGet(target, 'load.bin', { blksize: 1428 }))).toBe(sha(big));
    expect(await stop(proxy)).toBe(0);
  });

  it('SIGHUP with a new TFTP address: the new one serves, the old one stops, and the log says so', async () => {
    const root = join(dir, 'rebind-root');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'a.cfg'), 'rebound\n');
    const [a, b] = [await freeUdpPort(), await freeUdpPort()];
    const file = join(dir, 'rebind.json');
    const config = (port: number) => ({
      listen: [`127.0.0.1:${port}`],
      http: { enabled: false },
      admin: { enabled: false },
      store: { root: './rebind-root' },
    });
    await writeFile(file, JSON.stringify(config(a)));
    const proxy = await serve(['-c', file, '--log-format', 'json'], (out) => out.includes('(TFTP)'));
    expect(Buffer.from(await tftpGet({ host: '127.0.0.1', port: a }, 'a.cfg')).toString()).toBe('rebound\n');
    await writeFile(file, JSON.stringify(config(b)));
    proxy.child.kill('SIGHUP');
    await waitFor(proxy, () => proxy.stderr().includes('configuration reloaded'), 'the rebind');
    expect(proxy.stderr()).toContain(`now listening on tftp://127.0.0.1:${b} (TFTP)`);
    expect(proxy.stderr()).toContain('configuration reloaded: listen');
    expect(Buffer.from(await tftpGet({ host: '127.0.0.1', port: b }, 'a.cfg')).toString()).toBe('rebound\n');
    await expect(
      tftpGet({ host: '127.0.0.1', port: a }, 'a.cfg', { retransmitTimeoutMs: 100, retries: 1 }),
    ).rejects.toMatchObject({ code: 'PTFTP_ERR_TIMEOUT' });
    expect(await stop(proxy)).toBe(0);
  });

  it.skipIf(lacking('curl'))(
    'the admin endpoint: metrics move when files are served; status, flush work through the CLI',
    async () => {
      const demo = await serve(
        ['--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        (out) => out.includes('Ctrl-C stops'),
      );
      const admin = demo.url(/admin endpoint/);
      const tftp = demo.url(/\(TFTP\)/);
      const before = await (await fetch(`${admin}/metrics`)).text();
      await curlBytes(`${tftp}/SEP00AABBCC0C01.cnf.xml`, dir, 'metrics-1');
      await curlBytes(`${tftp}/RingList.xml`, dir, 'metrics-2');
      // curl is done once it has sent its last ACK; the server counts the transfer when that ACK
      // arrives, a moment later: read the metrics until both transfers are in (bounded).
      const after = await vi.waitFor(
        async () => {
          const text = await (await fetch(`${admin}/metrics`)).text();
          expect(metric(text, 'ptftp_transfers_total', 'source="local"')).toBe(1);
          return text;
        },
        { timeout: 5000, interval: 50 },
      );
      expect(metric(before, 'ptftp_transfers_total', 'source="cluster"')).toBe(0);
      expect(metric(after, 'ptftp_transfers_total', 'source="cluster"')).toBe(1);
      expect(metric(after, 'ptftp_transfers_total', 'source="local"')).toBe(1);
      expect(after).toMatch(/^ptftp_cache_entries 1$/m);

      const status = await ptftp(['status', '--admin', admin]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('cache: 1 entries');
      expect(status.stdout).toMatch(/cluster-c: 127\.0\.0\.\d+:\d+/);

      const flush = await ptftp(['cache', 'flush', '--device', 'SEP00AABBCC0C01', '--admin', admin]);
      expect(flush.stdout).toBe('flushed 1 cached file(s)\n');
      const afterFlush = await (await fetch(`${admin}/metrics`)).text();
      expect(afterFlush).toMatch(/^ptftp_cache_entries 0$/m);
    },
  );

  it.skipIf(lacking('curl'))(
    '--root DIR serves the folder read-only, prints one line per address, stops cleanly on SIGTERM',
    async () => {
      const root = join(dir, 'plain-root');
      await mkdir(root, { recursive: true });
      await writeFile(join(root, 'RingList.xml'), '<CiscoIPPhoneRingList/>');
      const args = ['--root', root, '--listen', '127.0.0.1:0', '--listen', '[::1]:0'];
      const s = await serve(args, (out) => out.includes('(TFTP)\nlistening on tftp://[::1]'));
      const lines = s
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('listening on '));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^listening on tftp:\/\/127\.0\.0\.1:\d+ \(TFTP\)$/);
      expect(lines[1]).toMatch(/^listening on tftp:\/\/\[::1\]:\d+ \(TFTP\)$/);
      const v6 = s.url(/\[::1\]/);
      expect((await curlBytes(`${v6}/RingList.xml`, dir, 'root')).toString()).toBe('<CiscoIPPhoneRingList/>');
      expect(await stop(s, 'SIGTERM')).toBe(0);
    },
  );

  it('a log reader that goes away does not take the server down (no EPIPE crash)', async () => {
    const root = join(dir, 'pipe-root');
    await mkdir(root, { recursive: true });
    const body = pattern(3000, 5);
    await writeFile(join(root, 'SEP001122334455.cnf.xml'), body);
    const s = await serve(['--root', root, '--listen', '127.0.0.1:0'], (out) => out.includes('(TFTP)'));
    const port = Number(/:(\d+)$/.exec(s.url(/TFTP/))![1]);
    // The reader of stdout and stderr exits (`ptftp serve | head -1`): each log line now fails.
    s.child.stdout!.destroy();
    s.child.stderr!.destroy();
    for (let i = 0; i < 3; i++)
      expect(sha(await tftpGet({ host: '127.0.0.1', port }, 'SEP001122334455.cnf.xml'))).toBe(sha(body));
    expect(s.child.exitCode).toBeNull();
    expect(await stop(s, 'SIGTERM')).toBe(0);
  });

  it('output that cannot be written (a full disk) fails the command with one line, exit 1', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, 'dhcp', 'option150', '10.1.1.10'], {
      stdio: ['ignore', full, 'pipe'],
    });
    closeSync(full);
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toMatch(/^ptftp: cannot write the output: ENOSPC[^\n]*\n$/);
  });

  it('status against nothing: one clear line and exit 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const r = await ptftp(['status', '--admin', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ptftp: cannot reach the admin endpoint at http://127.0.0.1:${port} (ECONNREFUSED): is \`ptftp serve\` running there?\n`,
    );
  });
});
