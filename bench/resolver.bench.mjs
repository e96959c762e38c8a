// Benchmark of @ptftp/resolver (the built package): cache overhead vs the local store, and a
// boot storm of 1000 requests for remote files (upstream fetches per distinct name, latency).
// Run through `npm run bench` (which builds first) or `node bench/resolver.bench.mjs`.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore, Resolver } from '@ptftp/resolver';
import { MemoryUpstream } from '@ptftp/resolver/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const FILE = 'SEP001122334455.cnf.xml';
const payload = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const ms = (v) => v.toFixed(2);

/** ns spent on `iterations` awaited resolve() calls of one name. */
async function batch(resolver, name, iterations) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await resolver.resolve(name);
  return Number(process.hrtime.bigint() - t0);
}

async function cacheVsLocal() {
  const data = payload(4096);
  const local = new Resolver({ clusters: [] }, { store: new MemoryStore({ [FILE]: data }) });
  const upstream = new MemoryUpstream('B', { [FILE]: data });
  const cached = new Resolver(
    { clusters: [{ id: 'B', tftp: ['192.0.2.1'] }] },
    { store: new MemoryStore(), upstreamFactory: () => upstream },
  );
  await cached.resolve(FILE);
  for (let i = 0; i < 5000; i++) {
    await local.resolve(FILE); // warm-up (JIT)
    await cached.resolve(FILE);
  }
  // Interleave small batches of the two paths so load from other processes, GC and CPU
  // frequency changes hit both alike; compare the totals and the median batch ratio.
  const slices = 400;
  const per = 1000;
  let totalL = 0;
  let totalC = 0;
  const ratios = [];
  for (let s = 0; s < slices; s++) {
    const l = await batch(local, FILE, per);
    const c = await batch(cached, FILE, per);
    totalL += l;
    totalC += c;
    ratios.push(c / l);
  }
  ratios.sort((a, b) => a - b);
  const mid = { l: totalL / (slices * per), c: totalC / (slices * per), ratio: ratios[slices / 2] };
  local.close();
  cached.close();
  return {
    localNs: mid.l,
    cacheNs: mid.c,
    ratio: mid.ratio,
    totalRatio: mid.c / mid.l,
    fetches: upstream.fetchCount(),
  };
}

/** 1000 concurrent requests over `names`, against the upstreams `makeResolver` wires. */
async function storm(resolver, names, total) {
  const latencies = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const start = performance.now();
      await resolver.resolve(names[i % names.length]);
      latencies.push(performance.now() - start);
    }),
  );
  const wall = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1), wall };
}

async function memoryStorm(prefix = 'load') {
  const names = Array.from({ length: 10 }, (_, i) => `${prefix}-${i}.bin`);
  const clusters = ['A', 'B', 'C'].map((id, i) => ({ id, tftp: [`192.0.2.${i + 1}`] }));
  const ups = new Map(
    clusters.map(({ id }) => [
      id,
      new MemoryUpstream(
        id,
        id === 'C' ? Object.fromEntries(names.map((n) => [n, payload(64 * 1024)])) : {},
        {
          delayMs: 20,
        },
      ),
    ]),
  );
  const resolver = new Resolver(
    { clusters },
    { store: new MemoryStore(), upstreamFactory: (c) => ups.get(c.id) },
  );
  const r = await storm(resolver, names, 1000);
  const perName = names.map((n) => ups.get('C').fetchCount(n));
  resolver.close();
  return { ...r, names: names.length, maxFetches: Math.max(...perName), minFetches: Math.min(...perName) };
}

async function freeUdpPort(host) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, host, resolve));
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(resolve));
  return port;
}

/** The same storm against a real tftpd-hpa on loopback, when it is installed. */
async function tftpdStorm() {
  const daemon = '/usr/sbin/in.tftpd';
  if (!existsSync(daemon)) return undefined;
  const root = await mkdtemp(path.join(tmpdir(), 'ptftp-bench-'));
  await chmod(root, 0o755);
  const names = Array.from({ length: 10 }, (_, i) => `load-${i}.bin`);
  const hashes = new Map();
  for (const [i, n] of names.entries()) {
    const data = payload(64 * 1024, i);
    hashes.set(n, createHash('sha256').update(data).digest('hex'));
    await writeFile(path.join(root, n), data);
    await chmod(path.join(root, n), 0o644);
  }
  const port = await freeUdpPort('127.0.0.1');
  const child = spawn(daemon, ['-L', '-a', `127.0.0.1:${port}`, '-4', '-s', root], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: [`127.0.0.1:${port}`] }], upstreamTimeoutMs: 1000 },
      { store: new MemoryStore() },
    );
    let fetches = 0;
    const perName = new Map();
    resolver.on('upstreamFetch', ({ name }) => {
      fetches++;
      perName.set(name, (perName.get(name) ?? 0) + 1);
    });
    let bad = 0;
    resolver.on('resolved', () => {});
    const r = await storm(resolver, names, 1000);
    for (const n of names) {
      const got = await resolver.resolve(n);
      if (createHash('sha256').update(got.data).digest('hex') !== hashes.get(n)) bad++;
    }
    resolver.close();
    return { ...r, names: names.length, fetches, maxFetches: Math.max(...perName.values()), bad };
  } finally {
    child.kill('SIGTERM');
    await rm(root, { recursive: true, force: true });
  }
}

const cvl = await cacheVsLocal();
await memoryStorm('warm-up'); // JIT-compile the remote path first: the table reports a warm process
const mem = await memoryStorm();
const hpa = await tftpdStorm();

const rows = [
  ['Serve 4 KiB from the local store (MemoryStore)', `${(cvl.localNs / 1000).toFixed(2)} µs/op`, ''],
  ['Serve the same 4 KiB from the cache', `${(cvl.cacheNs / 1000).toFixed(2)} µs/op`, ''],
  [
    'Cache / local overhead ratio (median of 400 interleaved batches; ratio of totals)',
    `${cvl.ratio.toFixed(3)}x (${cvl.totalRatio.toFixed(3)}x)`,
    cvl.ratio <= 1.1 ? '<= 1.1x: met' : '<= 1.1x: MISSED',
  ],
  [
    `Storm: 1000 requests, ${mem.names} remote names, 3 clusters (in-memory, 20 ms upstream)`,
    `fetches per name ${mem.minFetches}..${mem.maxFetches}`,
    mem.maxFetches === 1 && mem.minFetches === 1 ? 'exactly 1: met' : 'exactly 1: MISSED',
  ],
  [
    '  latency p50 / p99 / max',
    `${ms(mem.p50)} / ${ms(mem.p99)} / ${ms(mem.max)} ms`,
    `wall ${ms(mem.wall)} ms`,
  ],
];
if (hpa) {
  rows.push(
    [
      `Storm: 1000 requests, ${hpa.names} names of 64 KiB, tftpd-hpa on loopback`,
      `fetches per name max ${hpa.maxFetches} (${hpa.fetches} total)`,
      hpa.maxFetches === 1 && hpa.bad === 0 ? 'exactly 1, bytes verified: met' : 'MISSED',
    ],
    [
      '  latency p50 / p99 / max',
      `${ms(hpa.p50)} / ${ms(hpa.p99)} / ${ms(hpa.max)} ms`,
      `wall ${ms(hpa.wall)} ms`,
    ],
  );
} else rows.push(['Storm against tftpd-hpa', 'skipped: /usr/sbin/in.tftpd not installed', '']);

const table = [
  `# @ptftp/resolver benchmark`,
  '',
  `Node ${process.version}, ${new Date().toISOString()}`,
  '',
  '| Measure | Result | Target |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
].join('\n');
console.log(table);
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'resolver.md'), table);
