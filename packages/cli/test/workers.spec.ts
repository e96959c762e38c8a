/**
 * `ptftp serve --workers N` end to end through the built binary: N worker processes share the
 * TFTP and HTTP sockets, the primary's admin endpoint answers for all of them, a dead worker is
 * started again, SIGTERM ends every process. Real peers: tftp-hpa and curl, on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lacking, xorshiftBytes as pattern, requirePeer, runCommand } from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Serving {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  tftpPort: number;
  http: string;
  admin: string;
}

interface WorkerInfo {
  slot: number;
  pid: number;
  state: string;
  restarts: number;
  activeSessions?: { tftp: number; http: number };
}
interface Status {
  activeSessions: { tftp: number; http: number };
  workers?: WorkerInfo[];
}

const children: ChildProcess[] = [];

async function serve(config: string, extra: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve', '-c', config, '--log-format', 'json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`ptftp serve exited (${child.exitCode}): ${err}`);
      if (!/^admin endpoint on /m.test(out)) throw new Error(`not listening yet:\n${out}\n${err}`);
    },
    { timeout: 60_000, interval: 50 },
  );
  const url = (marker: string) => {
    const m = new RegExp(`((?:tftp|http)://\\S+) \\(${marker}\\)`).exec(out);
    if (!m) throw new Error(`no ${marker} address in:\n${out}`);
    return m[1] as string;
  };
  const admin = /^admin endpoint on (\S+)/m.exec(out)?.[1] as string;
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    tftpPort: Number(new URL(url('TFTP')).port),
    http: url('HTTP'),
    admin,
  };
}

async function status(s: Serving): Promise<Status> {
  const res = await fetch(`${s.admin}/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

/** tftp-hpa's `get`, in binary mode, into `dir`; the bytes read back. */
async function tftpGet(port: number, name: string, dir: string, as: string): Promise<Buffer> {
  const file = join(dir, as);
  const r = await runCommand(
    requirePeer('tftp'),
    ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', name, file],
    {
      timeoutMs: 30_000,
    },
  );
  expect(r.code).toBe(0);
  return readFile(file);
}

async function curlBytes(url: string, dir: string, as: string): Promise<Buffer> {
  const file = join(dir, as);
  const r = await runCommand(requirePeer('curl'), ['-sS', '--fail', '-o', file, url], { timeoutMs: 30_000 });
  expect(r.code).toBe(0);
  return readFile(file);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function metric(text: string, name: string, labels: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe.skipIf(lacking('tftp', 'curl'))('ptftp serve --workers', () => {
  let dir: string;
  const small = pattern(300_000, 7);
  // Far more than loopback's socket buffers hold: a client that reads nothing keeps it in flight.
  const large = pattern(48 * 1024 * 1024, 9);

  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build the packages first (npm run build)`);
    dir = await mkdtemp(join(tmpdir(), 'ptftp-workers-'));
    await writeFile(join(dir, 'SEP00AABBCC0001.cnf.xml'), small);
    await writeFile(join(dir, 'firmware.bin'), large);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function config(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const file = join(dir, name);
    await writeFile(
      file,
      JSON.stringify({
        listen: ['127.0.0.1:0'],
        http: { listen: ['127.0.0.1:0'] },
        admin: { listen: '127.0.0.1:0' },
        store: { root: dir },
        ...extra,
      }),
    );
    return file;
  }

  it('2 workers share the sockets; status and metrics sum both; a killed worker comes back; SIGTERM ends every process', async () => {
    const s = await serve(await config('two.json'), ['--workers', '2']);
    expect(s.out()).toContain('2 workers serving');
    const first = await status(s);
    expect(first.workers?.map((w) => [w.slot, w.state])).toEqual([
      [1, 'running'],
      [2, 'running'],
    ]);
    const pids = first.workers!.map((w) => w.pid);
    expect(new Set([...pids, s.child.pid]).size).toBe(3);

    // TFTP at once from a real client, several at a time: the kernel hands the shared listen
    // socket's requests to either worker, and each worker's transfer sockets must stay its own.
    const gets = await Promise.all(
      Array.from({ length: 8 }, (_, i) => tftpGet(s.tftpPort, 'SEP00AABBCC0001.cnf.xml', dir, `t${i}`)),
    );
    expect(gets).toHaveLength(8);
    for (const g of gets) expect(sha(g)).toBe(sha(small));
    // HTTP: node:cluster hands connections to the workers in turn.
    for (let i = 0; i < 4; i++)
      expect(sha(await curlBytes(`${s.http}/SEP00AABBCC0001.cnf.xml`, dir, `h${i}`))).toBe(sha(small));
    const servedBy = (transport: string) =>
      new Set(
        s
          .err()
          .split('\n')
          .filter((l) => l.includes('"event":"served"') && l.includes(`"transport":"${transport}"`))
          .map((l) => (JSON.parse(l) as { worker: number }).worker),
      );
    await vi.waitFor(() => expect([...servedBy('http')].sort()).toEqual([1, 2]), { timeout: 10_000 });

    // The primary's /metrics is the workers' sum: every transfer, whichever worker served it.
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${s.admin}/metrics`)).text();
        expect(metric(text, 'ptftp_transfers_total', 'transport="tftp"')).toBe(8);
        expect(metric(text, 'ptftp_transfers_total', 'transport="http"')).toBe(4);
        expect(text).toMatch(/^ptftp_workers 2$/m);
      },
      { timeout: 10_000 },
    );

    // Two downloads that read nothing stay active, one in each worker: status sums them.
    const stalled: http.ClientRequest[] = [];
    for (let i = 0; i < 2; i++) {
      const req = http.get(`${s.http}/firmware.bin`, (res) => res.pause());
      req.on('error', () => {});
      stalled.push(req);
    }
    await vi.waitFor(
      async () => {
        const st = await status(s);
        expect(st.activeSessions.http).toBe(2);
        expect(st.workers?.map((w) => w.activeSessions?.http)).toEqual([1, 1]);
      },
      { timeout: 15_000, interval: 100 },
    );
    const text = await runCommand(process.execPath, [BIN, 'status', '--admin', s.admin], {
      timeoutMs: 30_000,
    });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('active transfers: tftp 0, http 2\n');
    expect(text.stdout).toMatch(
      /workers: 2 \(#1 pid \d+ running, tftp 0 http 1; #2 pid \d+ running, tftp 0 http 1\)/,
    );
    for (const r of stalled) r.destroy();

    // SIGHUP to the primary reaches every worker: each re-reads the file; one reload counted.
    s.child.kill('SIGHUP');
    const reloadedBy = () =>
      s
        .err()
        .split('\n')
        .filter((l) => l.includes('"event":"reloaded"'))
        .map((l) => (JSON.parse(l) as { worker: number }).worker)
        .sort();
    await vi.waitFor(() => expect(reloadedBy()).toEqual([1, 2]), { timeout: 15_000 });
    await vi.waitFor(
      async () => expect((await status(s)) as unknown).toMatchObject({ reloads: { applied: 1 } }),
      {
        timeout: 10_000,
      },
    );

    // A worker killed outright is started again (logged) and service goes on.
    const victim = pids[1] as number;
    process.kill(victim, 'SIGKILL');
    await vi.waitFor(
      async () => {
        const w = (await status(s)).workers?.[1];
        expect(w?.state).toBe('running');
        expect(w?.restarts).toBe(1);
        expect(w?.pid).not.toBe(victim);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(s.err()).toContain(`worker 2 (pid ${victim}) exited (SIGKILL); starting it again in 100 ms`);
    const again = await Promise.all(
      Array.from({ length: 4 }, (_, i) => tftpGet(s.tftpPort, 'SEP00AABBCC0001.cnf.xml', dir, `a${i}`)),
    );
    for (const g of again) expect(sha(g)).toBe(sha(small));
    for (let i = 0; i < 2; i++)
      expect(sha(await curlBytes(`${s.http}/SEP00AABBCC0001.cnf.xml`, dir, `b${i}`))).toBe(sha(small));

    // SIGTERM to the primary drains every worker and ends every process.
    const all = [...(await status(s)).workers!.map((w) => w.pid), s.child.pid as number];
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain('stopped\n');
    await vi.waitFor(() => expect(all.filter(alive)).toEqual([]), { timeout: 15_000 });
  }, 180_000);

  it('--workers 1 is one process, as without the flag: no workers in status', async () => {
    const s = await serve(await config('one.json', { workers: 2 }), ['--workers', '1']);
    expect(s.out()).not.toContain('workers serving');
    const st = await status(s);
    expect(st.workers).toBeUndefined();
    expect(sha(await tftpGet(s.tftpPort, 'SEP00AABBCC0001.cnf.xml', dir, 'one'))).toBe(sha(small));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 90_000);

  it('refuses limits.ports "single" with 2 workers (every worker would read the transfers\' ACKs)', async () => {
    const file = await config('single.json', { workers: 2, limits: { ports: 'single' } });
    const r = await runCommand(process.execPath, [BIN, 'serve', '-c', file], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ptftp: invalid configuration ${file}: limits.ports: "single" cannot be used with more than one worker\n`,
    );
  });
});
