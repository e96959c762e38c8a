/**
 * Scale-out (issue 17), in parts chosen by PTFTP_BENCH_PARTS (comma-separated; default all):
 * - `workers`: `ptftp serve --workers 2` against `--workers 1`, a 1000-phone storm on files in
 *   the local store (3 rounds each, median), with the CPU of the load generator (this process)
 *   and of the server's processes, so a saturated generator shows.
 * - `replicas`: three `ptftp serve` replicas on one redis-server and one remote cluster (a
 *   @ptftp/protocol server counting what it is asked), PTFTP_BENCH_PHONES phones (3000) spread
 *   over the replicas asking for PTFTP_BENCH_FILES files (300) nobody has cached; beside it the
 *   same storm on one replica (and, with PTFTP_BENCH_BEFORE=1, three replicas each with its own
 *   cache, the old way).
 * - `rediskill`: the replicas' storm again, with redis-server killed (SIGKILL) once a quarter of
 *   the phones are served: failed transfers.
 * - `hits`: a cache hit through Redis (a replica that never fetched the file) against a hit in
 *   the replica's own tier, over TFTP and on the RedisCache itself.
 * Prints markdown tables and writes them to bench/results/scaleout.md.
 * Needs /usr/bin/redis-server (Debian package redis-server).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, FileNotFoundError } from '@ptftp/protocol';
import { RedisCache } from '@ptftp/redis-cache';
import { cpuSeconds } from './lib/cpu.mjs';
import { ONE_ADDRESS_FOR_ALL_PHONES } from './lib/one-address.mjs';
import { freeUdpPort, waitForTftp } from './lib/processes.mjs';
import { bootStorm, writeStormFiles } from './lib/storm.mjs';
import { markdownTable } from './lib/table.mjs';

const PHONES = Number(process.env.PTFTP_BENCH_PHONES ?? 3000);
const FILES = Number(process.env.PTFTP_BENCH_FILES ?? 300);
const PARTS = new Set((process.env.PTFTP_BENCH_PARTS ?? 'workers,replicas,rediskill,hits').split(','));
const BEFORE = process.env.PTFTP_BENCH_BEFORE === '1';
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'packages', 'cli', 'bin', 'ptftp.js');
const REDIS = '/usr/bin/redis-server';
if (!existsSync(REDIS)) {
  console.log('scaleout: /usr/bin/redis-server is not installed; skipped');
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'ptftp-bench-scaleout-'));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const freeTcpPort = () =>
  new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startRedis() {
  const port = await freeTcpPort();
  const child = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work],
    {
      stdio: 'ignore',
    },
  );
  children.add(child);
  const probe = new RedisCache({ url: `redis://127.0.0.1:${port}`, prefix: 'probe:', local: { dir: '' } });
  await probe.ready(10_000);
  await probe.close();
  return { url: `redis://127.0.0.1:${port}`, child };
}

// The remote cluster: 4 KiB configuration files, with a small delay as a WAN would add.
const files = new Map();
for (let i = 0; i < FILES; i++) {
  const mac = (0x00aa00000000 + i).toString(16).toUpperCase().padStart(12, '0');
  files.set(`SEP${mac}.cnf.xml`, Buffer.alloc(4096, `<device><mac>${mac}</mac></device>\n`));
}
const asked = new Map();
// Every replica asks from 127.0.0.1: without lifting the per-source limits the cluster would
// refuse the 129th fetch at once ("maxSessionsPerSource"), as if the fleet were one hostile host.
const cluster = createServer({
  ...ONE_ADDRESS_FOR_ALL_PHONES,
  maxSessions: 8192,
  handler: async (req) => {
    asked.set(req.filename, (asked.get(req.filename) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 20));
    const data = files.get(req.filename);
    if (!data) throw new FileNotFoundError(req.filename);
    return data;
  },
});
const [clusterAddr] = await cluster.listen(['127.0.0.1:0']);

/**
 * A `ptftp serve -c` replica on a free port. `shared`: the Redis URL of cache.shared; `root`: a
 * local store; `workers`: --workers N (then the admin endpoint is on, to find the workers' pids).
 */
async function startReplica(shared, prefix, { root, workers = 1 } = {}) {
  const port = await freeUdpPort();
  const dir = join(work, `r-${port}`);
  mkdirSync(dir);
  const config = join(dir, 'ptftp.config.json');
  const adminPort = workers > 1 ? await freeTcpPort() : undefined;
  writeFileSync(
    config,
    JSON.stringify({
      listen: [`127.0.0.1:${port}`],
      http: { enabled: false },
      admin: adminPort ? { listen: `127.0.0.1:${adminPort}` } : { enabled: false },
      ...(root ? { store: { root } } : { clusters: [{ id: 'B', tftp: [`127.0.0.1:${clusterAddr.port}`] }] }),
      // Every simulated phone comes from 127.0.0.1: lift the per-address limits, which would
      // see one host where a site has a thousand phones.
      limits: { maxSessionsPerSource: 4096, newSessionsPerSecondPerSource: 100_000, burstPerSource: 100_000 },
      cache: { dir: join(dir, 'cache'), ...(shared && { shared: { url: shared, prefix } }) },
      log: { level: 'warn' },
    }),
  );
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '-c', config, '--log-level', 'warn', '--workers', String(workers)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.add(child);
  await waitForTftp(port, 30_000);
  let pids = [child.pid];
  if (adminPort) {
    // Every worker listening: the kernel shares the storm out only among those.
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${adminPort}/status`)
        .then((r) => r.json())
        .catch(() => undefined);
      const running = status?.workers?.filter((w) => w.state === 'running') ?? [];
      if (running.length === workers) {
        pids = [child.pid, ...running.map((w) => w.pid)];
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    /** CPU seconds of the server's processes (primary and workers). */
    cpu: () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    async stop() {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
      children.delete(child);
    },
  };
}

/** PHONES phones, each file asked by PHONES / FILES phones spread over the replicas. */
async function storm(replicas, onServed) {
  const names = [...files.keys()];
  // bootStorm takes one request per name: each replica's phones go in waves of distinct names.
  const waves = [];
  for (let r = 0; r < replicas.length; r++) {
    const mine = [];
    // Phone i asks for file i % FILES from replica floor(i / FILES): every file on every replica.
    for (let i = 0; i < PHONES; i++)
      if (Math.floor(i / FILES) % replicas.length === r) mine.push(names[i % FILES]);
    while (mine.length > 0) {
      const wave = new Map();
      for (let k = mine.length - 1; k >= 0; k--) {
        if (!wave.has(mine[k])) {
          wave.set(mine[k], files.get(mine[k]));
          mine.splice(k, 1);
        }
      }
      waves.push([replicas[r].port, wave]);
    }
  }
  asked.clear();
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    waves.map(([port, wave]) => bootStorm(port, wave, { rtoMs: 2000, retries: 5, onServed })),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const transfers = results.reduce((n, r) => n + r.transfers, 0);
  const fetches = [...asked.values()].reduce((a, b) => a + b, 0);
  return {
    transfers,
    failures: results.reduce((n, r) => n + r.failures, 0),
    perSecond: transfers / seconds,
    p99: Math.max(...results.map((r) => r.p99)),
    fetchesPerFile: fetches / FILES,
  };
}

const redis = await startRedis();
const sections = [];
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';

if (PARTS.has('workers')) {
  // 1000 phones at once on files in the store: what a second core adds to serving.
  const root = join(work, 'store');
  mkdirSync(root);
  const stormFiles = writeStormFiles(root, 1000);
  const rows = [];
  for (const workers of [1, 2]) {
    const replica = await startReplica(undefined, '', { root, workers });
    await bootStorm(replica.port, stormFiles, { rtoMs: 2000, retries: 5 }); // warm-up
    const rounds = [];
    for (let i = 0; i < 3; i++) {
      const gen0 = process.cpuUsage();
      const srv0 = replica.cpu();
      const r = await bootStorm(replica.port, stormFiles, { rtoMs: 2000, retries: 5 });
      const gen = process.cpuUsage(gen0);
      rounds.push({
        ...r,
        generatorCores: (gen.user + gen.system) / 1e6 / r.seconds,
        serverCores: (replica.cpu() - srv0) / r.seconds,
      });
    }
    await replica.stop();
    const mid = rounds.find((r) => r.perSecond === median(rounds.map((x) => x.perSecond)));
    rows.push({ workers, mid, rounds });
  }
  const base = rows[0].mid.perSecond;
  sections.push(
    markdownTable(
      [
        '1000-phone storm, local files (median of 3)',
        'served',
        'transfers/s',
        'p99 ms',
        'rate vs 1 worker',
        'generator CPU (cores)',
        'server CPU (cores)',
      ],
      rows.map(({ workers, mid, rounds }) => [
        `--workers ${workers} (rates ${rounds.map((r) => r.perSecond.toFixed(0)).join(', ')})`,
        `${mid.transfers}/1000`,
        mid.perSecond.toFixed(0),
        mid.p99.toFixed(1),
        `${(mid.perSecond / base).toFixed(2)}×`,
        mid.generatorCores.toFixed(2),
        mid.serverCores.toFixed(2),
      ]),
    ).join('\n') + `\n\n(load average ${load()} at the end; 2 cores)`,
  );
}

const CASES = [
  { key: '1 replica, own cache', replicas: 1, shared: false },
  ...(BEFORE ? [{ key: '3 replicas, each its own cache (before)', replicas: 3, shared: false }] : []),
  { key: '3 replicas, one cache on Redis (cache.shared)', replicas: 3, shared: true },
];
let n = 0;
if (PARTS.has('replicas')) {
  const rows = [];
  for (const c of CASES) {
    const prefix = `bench${++n}:`;
    const replicas = [];
    for (let i = 0; i < c.replicas; i++)
      replicas.push(await startReplica(c.shared ? redis.url : undefined, prefix));
    const r = await storm(replicas);
    for (const rep of replicas) await rep.stop();
    rows.push([
      c.key,
      `${r.transfers}/${PHONES}`,
      String(r.failures),
      r.fetchesPerFile.toFixed(2),
      r.perSecond.toFixed(0),
      r.p99.toFixed(1),
    ]);
  }
  sections.push(
    markdownTable(
      [
        `${PHONES} phones, ${FILES} uncached files`,
        'served',
        'failed',
        'upstream fetches per file',
        'transfers/s',
        'p99 ms (worst wave)',
      ],
      rows,
    ).join('\n') + `\n\n(load average ${load()} at the end)`,
  );
}

if (PARTS.has('rediskill')) {
  // The same storm over three replicas on Redis; Redis dies once a quarter of the phones are served.
  const replicas = [];
  for (let i = 0; i < 3; i++) replicas.push(await startReplica(redis.url, 'kill:'));
  let served = 0;
  let killedAt;
  const onServed = () => {
    if (++served >= Math.floor(PHONES / 4) && killedAt === undefined) {
      killedAt = served;
      redis.child.kill('SIGKILL');
    }
  };
  const r = await storm(replicas, onServed);
  for (const rep of replicas) await rep.stop();
  sections.push(
    markdownTable(
      [
        'Redis killed mid-storm (3 replicas)',
        'served',
        'failed',
        'upstream fetches per file',
        'killed after',
      ],
      [
        [
          `${PHONES} phones, ${FILES} files`,
          `${r.transfers}/${PHONES}`,
          String(r.failures),
          r.fetchesPerFile.toFixed(2),
          killedAt === undefined ? 'not killed' : `${killedAt} served`,
        ],
      ],
    ).join('\n'),
  );
}

if (PARTS.has('hits')) {
  const live = PARTS.has('rediskill') ? await startRedis() : redis;
  // Over TFTP: replica B serves files only replica A fetched (hits through Redis), then again
  // (hits in its own tier). One phone per file, all at once. Both replicas first serve a storm
  // of other names (so neither runs cold code), then 3 rounds on fresh names; median ratio.
  const [ra, rb] = [await startReplica(live.url, 'pair:'), await startReplica(live.url, 'pair:')];
  const set = (k) => {
    const m = new Map();
    for (let i = 0; i < FILES; i++) {
      const mac = (0x00bb00000000 + k * 0x10000 + i).toString(16).toUpperCase().padStart(12, '0');
      const name = `SEP${mac}.cnf.xml`;
      const body = Buffer.alloc(4096, `<device><mac>${mac}</mac><set>${k}</set></device>\n`);
      files.set(name, body);
      m.set(name, body);
    }
    return m;
  };
  const fetched = () => [...asked.values()].reduce((x, y) => x + y, 0);
  const once = async (replica, names) => {
    const before = fetched();
    const r = await bootStorm(replica.port, names, { rtoMs: 2000, retries: 5 });
    return { ...r, fetches: fetched() - before };
  };
  asked.clear();
  await once(ra, set(100));
  await once(rb, set(101));
  const rounds = [];
  for (let k = 0; k < 3; k++) {
    const names = set(k);
    await once(ra, names);
    const viaRedis = await once(rb, names);
    const viaLocal = await once(rb, names);
    rounds.push({ viaRedis, viaLocal, ratio: viaRedis.p50 / viaLocal.p50 });
  }
  await ra.stop();
  await rb.stop();
  const mid = rounds.find((r) => r.ratio === median(rounds.map((x) => x.ratio)));
  sections.push(
    markdownTable(
      [
        `cache hit over TFTP (${FILES} phones at once, 4 KiB files; median round of 3)`,
        'transfers/s',
        'p50 ms',
        'p99 ms',
        'upstream fetches',
      ],
      [
        [
          "replica's own tier",
          mid.viaLocal.perSecond.toFixed(0),
          mid.viaLocal.p50.toFixed(1),
          mid.viaLocal.p99.toFixed(1),
          String(mid.viaLocal.fetches),
        ],
        [
          'through Redis (fetched by the other replica)',
          mid.viaRedis.perSecond.toFixed(0),
          mid.viaRedis.p50.toFixed(1),
          mid.viaRedis.p99.toFixed(1),
          String(mid.viaRedis.fetches),
        ],
        [
          `ratio (p50; rounds ${rounds.map((r) => `${r.ratio.toFixed(2)}×`).join(', ')})`,
          '',
          `${mid.ratio.toFixed(2)}×`,
          '',
          '',
        ],
      ],
    ).join('\n'),
  );

  // A hit through Redis (the replica never had the file) against a hit in the replica's own tier.
  const hitFile = Buffer.alloc(4096, 'x');
  const writer = new RedisCache({ url: live.url, prefix: 'hits:', local: { dir: '' } });
  await writer.ready();
  const HITS = 2000;
  for (let i = 0; i < HITS; i++) {
    const fill = writer.fill(`f${i}.xml`);
    await fill.write(hitFile);
    await fill.finish({ clusterId: 'B', address: 'x' }, { store: true });
  }
  const reader = new RedisCache({ url: live.url, prefix: 'hits:', local: { dir: '' } });
  await reader.ready();
  const timeGets = async (cache) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < HITS; i++) {
      const hit = await cache.get(`f${i}.xml`);
      if (hit?.kind !== 'file') throw new Error(`f${i}.xml: no hit`);
      hit.file.content.release();
    }
    return Number(process.hrtime.bigint() - t0) / 1e3 / HITS;
  };
  const sharedUs = await timeGets(reader); // first time: from Redis
  const localUs = await timeGets(reader); // again: the replica's own tier
  await writer.close();
  await reader.close();
  sections.push(
    markdownTable(
      ['cache hit (4 KiB file, RedisCache.get, sequential)', 'µs per hit'],
      [
        ["in the replica's own tier", localUs.toFixed(1)],
        ['through Redis (first hit on this replica)', sharedUs.toFixed(1)],
        ['ratio', `${(sharedUs / localUs).toFixed(1)}×`],
      ],
    ).join('\n'),
  );
}
await cluster.close({ graceMs: 0 });

const out = `${sections.join('\n\n')}\n`;
console.log(out);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'scaleout.md'), out);
process.exit(0);
