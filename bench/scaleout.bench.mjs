/**
 * Scale-out on a shared cache (issue 17): three `ptftp serve` replicas on one redis-server and
 * one remote cluster (a @ptftp/protocol server counting what it is asked), 3,000 phones spread
 * over the replicas asking for 300 files nobody has cached (10 phones per file). Beside it: the
 * same storm on one replica, and on three replicas each with its own cache (the old way). Then a
 * cache hit through Redis (a replica that never fetched the file) against a hit in the
 * replica's own tier, on the RedisCache itself. Prints one markdown table and writes it to
 * bench/results/scaleout.md.
 *
 * Environment: PTFTP_BENCH_PHONES (default 3000), PTFTP_BENCH_FILES (default 300).
 * Needs /usr/bin/redis-server (Debian package redis-server).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, FileNotFoundError } from '@ptftp/protocol';
import { RedisCache } from '@ptftp/redis-cache';
import { freeUdpPort, waitForTftp } from './lib/processes.mjs';
import { bootStorm } from './lib/storm.mjs';
import { markdownTable } from './lib/table.mjs';

const PHONES = Number(process.env.PTFTP_BENCH_PHONES ?? 3000);
const FILES = Number(process.env.PTFTP_BENCH_FILES ?? 300);
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
const cluster = createServer({
  handler: async (req) => {
    asked.set(req.filename, (asked.get(req.filename) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 20));
    const data = files.get(req.filename);
    if (!data) throw new FileNotFoundError(req.filename);
    return data;
  },
});
const [clusterAddr] = await cluster.listen(['127.0.0.1:0']);

async function startReplica(shared, prefix) {
  const port = await freeUdpPort();
  const dir = join(work, `r-${port}`);
  mkdirSync(dir);
  const config = join(dir, 'ptftp.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: [`127.0.0.1:${port}`],
      http: { enabled: false },
      admin: { enabled: false },
      clusters: [{ id: 'B', tftp: [`127.0.0.1:${clusterAddr.port}`] }],
      // Every simulated phone comes from 127.0.0.1: lift the per-address limits, which would
      // see one host where a site has a thousand phones.
      limits: { maxSessionsPerSource: 4096, newSessionsPerSecondPerSource: 100_000, burstPerSource: 100_000 },
      cache: { dir: join(dir, 'cache'), ...(shared && { shared: { url: shared, prefix } }) },
      log: { level: 'warn' },
    }),
  );
  const child = spawn(process.execPath, [BIN, 'serve', '-c', config, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  await waitForTftp(port, 10_000);
  return {
    port,
    async stop() {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
      children.delete(child);
    },
  };
}

/** PHONES phones, each file asked by PHONES / FILES phones spread over the replicas. */
async function storm(replicas) {
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
    waves.map(([port, wave]) => bootStorm(port, wave, { rtoMs: 2000, retries: 5 })),
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
const rows = [];
const CASES = [
  { key: '1 replica, own cache', replicas: 1, shared: false },
  { key: '3 replicas, each its own cache (before)', replicas: 3, shared: false },
  { key: '3 replicas, one cache on Redis (cache.shared)', replicas: 3, shared: true },
];
let n = 0;
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

// Over TFTP: replica B serves files only replica A fetched (hits through Redis), then again
// (hits in its own tier). One phone per file, all at once.
const pairPrefix = 'pair:';
const [ra, rb] = [await startReplica(redis.url, pairPrefix), await startReplica(redis.url, pairPrefix)];
const fetched = () => [...asked.values()].reduce((a, b) => a + b, 0);
const once = async (replica) => {
  const before = fetched();
  const r = await bootStorm(replica.port, files, { rtoMs: 2000, retries: 5 });
  return { ...r, fetches: fetched() - before };
};
asked.clear();
await once(ra);
const viaRedis = await once(rb);
const viaLocal = await once(rb);
await ra.stop();
await rb.stop();
const tftpHits = markdownTable(
  [
    `cache hit over TFTP (${FILES} phones at once, 4 KiB files)`,
    'transfers/s',
    'p50 ms',
    'p99 ms',
    'upstream fetches',
  ],
  [
    [
      "replica's own tier",
      viaLocal.perSecond.toFixed(0),
      viaLocal.p50.toFixed(1),
      viaLocal.p99.toFixed(1),
      String(viaLocal.fetches),
    ],
    [
      'through Redis (fetched by the other replica)',
      viaRedis.perSecond.toFixed(0),
      viaRedis.p50.toFixed(1),
      viaRedis.p99.toFixed(1),
      String(viaRedis.fetches),
    ],
    ['ratio (p50)', '', `${(viaRedis.p50 / viaLocal.p50).toFixed(2)}×`, '', ''],
  ],
);

// A hit through Redis (the replica never had the file) against a hit in the replica's own tier.
const hitFile = Buffer.alloc(4096, 'x');
const writer = new RedisCache({ url: redis.url, prefix: 'hits:', local: { dir: '' } });
await writer.ready();
const HITS = 2000;
for (let i = 0; i < HITS; i++) {
  const fill = writer.fill(`f${i}.xml`);
  await fill.write(hitFile);
  await fill.finish({ clusterId: 'B', address: 'x' }, { store: true });
}
const reader = new RedisCache({ url: redis.url, prefix: 'hits:', local: { dir: '' } });
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
await cluster.close({ graceMs: 0 });

const table = markdownTable(
  ['case', 'served', 'failed', 'upstream fetches per file', 'transfers/s', 'p99 ms (worst wave)'],
  rows,
);
const hits = markdownTable(
  ['cache hit (4 KiB file, RedisCache.get, sequential)', 'µs per hit'],
  [
    ["in the replica's own tier", localUs.toFixed(1)],
    ['through Redis (first hit on this replica)', sharedUs.toFixed(1)],
    ['ratio', `${(sharedUs / localUs).toFixed(1)}×`],
  ],
);
const out = `${table.join('\n')}\n\n${tftpHits.join('\n')}\n\n${hits.join('\n')}\n`;
console.log(out);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'scaleout.md'), out);
process.exit(0);
