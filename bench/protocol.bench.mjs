/**
 * Protocol bench: our TFTP server and client against tftpd-hpa, atftpd and dnsmasq, all on
 * 127.0.0.1 in one run. Prints one markdown table (with ours ÷ peer ratios) and writes it to
 * bench/results/protocol.md.
 *
 * Beside the C peers runs node-dgram, a bare node:dgram sender with none of a server's work:
 * what the Node runtime itself reaches on this machine, so that "ptftp ÷ node-dgram" shows how
 * much of a gap to the C peers is ours and how much is Node's.
 *
 * 1. Boot storm: 1000 clients at once, each its own socket, each an own 4 KiB SEP<MAC>.cnf.xml,
 *    no options. Every server is started fresh for it, so its peak RSS is the storm's. Ours
 *    runs it once more with a capped V8 young generation (--max-semi-space-size=1), own row.
 * 2. Throughput: one 64 MiB file at blksize 512/1468/8192 and windowsize 1/16, fetched by a C
 *    client (atftp) and by our Node client; each server runs what it supports.
 * 3. Per-packet cost: server CPU seconds to send the 64 MiB file at blksize 1468 in lockstep,
 *    the server pinned to core 1 and atftp to core 0 (/proc/<pid>/stat utime + stime). Ours
 *    twice: `ptftp serve --root` (the CLI, through the resolver) and the library server alone.
 *
 * Environment: PTFTP_BENCH_RUNS (default 2; best run kept), PTFTP_BENCH_STORM (clients, default 1000),
 * PTFTP_BENCH_BIG_MIB (size of the throughput file, default 64; smaller for a quick smoke run),
 * PTFTP_BENCH_SECTIONS (comma-separated: storm,throughput,cpu; default all).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverCpuPerFile, startPtftpCli } from './lib/cpu.mjs';
import { startAtftpd, startDnsmasq, startNodeDgram, startPtftp, startTftpdHpa } from './lib/peers.mjs';
import { bootStorm, writeStormFiles } from './lib/storm.mjs';
import { markdownTable } from './lib/table.mjs';
import { atftpGet, nodeGet, sha256 } from './lib/throughput.mjs';

const RUNS = Number(process.env.PTFTP_BENCH_RUNS ?? 2);
const STORM = Number(process.env.PTFTP_BENCH_STORM ?? 1000);
const BIG_MIB = Number(process.env.PTFTP_BENCH_BIG_MIB ?? 64);
const BIG = BIG_MIB * 1024 * 1024;
const SECTIONS = new Set((process.env.PTFTP_BENCH_SECTIONS ?? 'storm,throughput,cpu').split(','));
const here = dirname(fileURLToPath(import.meta.url));

const SERVERS = [
  { key: 'tftpd-hpa', start: startTftpdHpa, maxWindow: 1 },
  { key: 'atftpd', start: startAtftpd, maxWindow: 65535 },
  { key: 'dnsmasq', start: startDnsmasq, maxWindow: 32 },
  // Not a peer but the Node ceiling: a bare node:dgram sender (bench/lib/node-dgram-server.mjs).
  { key: 'node-dgram', start: startNodeDgram, maxWindow: 65535 },
  { key: 'ptftp', start: startPtftp, maxWindow: 65535 },
];
const PEERS = SERVERS.filter((s) => s.key !== 'ptftp').map((s) => s.key);

// --- files -----------------------------------------------------------------------------
const root = mkdtempSync(join(tmpdir(), 'ptftp-bench-'));
const outDir = mkdtempSync(join(tmpdir(), 'ptftp-bench-out-'));
process.on('exit', () => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});
// The daemons drop privileges (tftp, nobody): everything must be world-readable.
chmodSync(root, 0o755);
const big = randomBytes(BIG);
const bigSha = sha256(big);
writeFileSync(join(root, 'big.bin'), big, { mode: 0o644 });
const stormFiles = writeStormFiles(root, STORM);

/** results[row][server] = number | string */
const rows = new Map();
function record(row, server, value) {
  if (!rows.has(row)) rows.set(row, {});
  rows.get(row)[server] = value;
}
const log = (s) => process.stderr.write(`${s}\n`);

// --- 1. boot storm --------------------------------------------------------------------
const STORM_ROWS = {
  rate: `storm: ${STORM} clients, transfers/s`,
  p50: 'storm: p50 latency, ms (lower is better)',
  p99: 'storm: p99 latency, ms (lower is better)',
  failures: 'storm: failed transfers',
  rexmt: 'storm: client retransmissions',
  rss: 'storm: server peak RSS, MiB (lower is better)',
  idle: 'server RSS when idle after start, MiB',
};
for (const s of SECTIONS.has('storm') ? SERVERS : []) {
  let server;
  try {
    server = await s.start(root);
    const idle = server.peakRssKiB();
    if (idle !== undefined && s.key !== 'tftpd-hpa') record(STORM_ROWS.idle, s.key, idle / 1024);
    const r = await bootStorm(server.port, stormFiles);
    const rss = server.peakRssKiB();
    record(STORM_ROWS.rate, s.key, r.perSecond);
    record(STORM_ROWS.p50, s.key, r.p50);
    record(STORM_ROWS.p99, s.key, r.p99);
    record(STORM_ROWS.failures, s.key, r.failures);
    record(STORM_ROWS.rexmt, s.key, r.retransmissions);
    // tftpd-hpa forks one process per transfer: its parent's RSS says nothing.
    record(
      STORM_ROWS.rss,
      s.key,
      s.key === 'tftpd-hpa' ? 'n/a (forks)' : rss === undefined ? 'n/a' : rss / 1024,
    );
    log(
      `storm ${s.key}: ${r.perSecond.toFixed(0)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms ` +
        `failures ${r.failures} rexmt ${r.retransmissions} rss ${rss} KiB`,
    );
  } catch (err) {
    log(`storm ${s.key}: ${err.message}`);
    record(STORM_ROWS.rate, s.key, `error: ${err.message.slice(0, 60)}`);
  } finally {
    await server?.stop();
  }
}

// The same storm against our server with V8's young generation capped (its semi-spaces grow to
// 16 MiB each by default under a storm's allocation rate): what a memory-bound deployment runs.
const TUNED_FLAGS = ['--max-semi-space-size=1'];
const TUNED_ROW = `storm: server peak RSS with ${TUNED_FLAGS.join(' ')}, MiB`;
if (SECTIONS.has('storm')) {
  let server;
  try {
    server = await startPtftp(root, TUNED_FLAGS);
    const r = await bootStorm(server.port, stormFiles);
    const rss = server.peakRssKiB();
    if (rss !== undefined) record(TUNED_ROW, 'ptftp', rss / 1024);
    log(
      `storm ptftp ${TUNED_FLAGS.join(' ')}: ${r.perSecond.toFixed(0)}/s failures ${r.failures} rss ${rss} KiB`,
    );
  } catch (err) {
    log(`storm ptftp ${TUNED_FLAGS.join(' ')}: ${err.message}`);
  } finally {
    await server?.stop();
  }
}

// --- 2. throughput --------------------------------------------------------------------
const started = {};
for (const s of SECTIONS.has('throughput') ? SERVERS : []) {
  try {
    started[s.key] = await s.start(root);
  } catch (err) {
    log(`start ${s.key}: ${err.message}`);
  }
}
const CONFIGS = !SECTIONS.has('throughput')
  ? []
  : [
      [512, 1],
      [1468, 1],
      [8192, 1],
      [512, 16],
      [1468, 16],
      [8192, 16],
    ];
const throughputRows = [];
for (const [blksize, windowsize] of CONFIGS) {
  for (const client of ['atftp', 'ptftp']) {
    const row = `${BIG_MIB} MiB b${blksize} w${windowsize}, ${client} client, MB/s`;
    throughputRows.push(row);
    for (const s of SERVERS) {
      const server = started[s.key];
      if (windowsize > s.maxWindow) {
        record(row, s.key, '—');
        continue;
      }
      if (!server) {
        record(row, s.key, 'not started');
        continue;
      }
      let best;
      let error;
      for (let run = 0; run < RUNS; run++) {
        const r =
          client === 'atftp'
            ? await atftpGet(server.port, 'big.bin', join(outDir, 'big.out'), BIG, blksize, windowsize)
            : await nodeGet(server.port, 'big.bin', bigSha, blksize, windowsize);
        if (r.error) {
          error = r.error;
          break; // a failed cell is not repeated: each failure can cost the client's full timeout
        }
        if (!best || r.mbps > best.mbps) best = r;
        if (r.granted && r.granted.windowsize !== windowsize)
          error = `granted windowsize ${r.granted.windowsize}`;
      }
      record(row, s.key, best ? best.mbps : `fail: ${error.slice(0, 60)}`);
      log(`${row} ${s.key}: ${best ? best.mbps.toFixed(1) : error}`);
    }
  }
}
const peakRss = started.ptftp?.peakRssKiB();
for (const s of Object.values(started)) await s.stop();
if (peakRss !== undefined) record('throughput phase: ptftp server peak RSS, MiB', 'ptftp', peakRss / 1024);

// --- 3. per-packet cost --------------------------------------------------------------
const CPU_ROW = `server CPU s per ${BIG_MIB} MiB, b1468 w1, pinned to one core (ptftp = \`ptftp serve --root\`; lower is better)`;
const CPU_LIB_ROW = `server CPU s per ${BIG_MIB} MiB, b1468 w1, pinned (ptftp = library server, createFsHandler)`;
const CPU_SERVERS = [
  { key: 'ptftp', row: CPU_ROW, start: startPtftpCli },
  { key: 'ptftp', row: CPU_LIB_ROW, start: startPtftp },
  { key: 'node-dgram', row: CPU_ROW, start: startNodeDgram },
  { key: 'atftpd', row: CPU_ROW, start: startAtftpd },
  { key: 'dnsmasq', row: CPU_ROW, start: startDnsmasq },
];
for (const s of SECTIONS.has('cpu') ? CPU_SERVERS : []) {
  let server;
  try {
    server = await s.start(root);
    const r = await serverCpuPerFile(server, {
      remote: 'big.bin',
      out: join(outDir, 'cpu.out'),
      size: BIG,
      runs: RUNS,
    });
    record(s.row, s.key, r.error ? `fail: ${r.error}` : r.cpu);
    if (s.row === CPU_ROW && s.key !== 'ptftp') record(CPU_LIB_ROW, s.key, r.error ? '' : r.cpu);
    log(
      `cpu ${s.key} (${s.row === CPU_ROW ? 'row 1' : 'row 2'}): ${r.error ?? `${r.cpu.toFixed(2)} s in ${r.ms.toFixed(0)} ms`}`,
    );
  } catch (err) {
    log(`cpu ${s.key}: ${err.message}`);
    record(s.row, s.key, `error: ${err.message.slice(0, 60)}`);
  } finally {
    await server?.stop();
  }
}
if (SECTIONS.has('cpu')) record(CPU_ROW, 'tftpd-hpa', 'n/a (forks)');

// --- table ----------------------------------------------------------------------------
const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : (v ?? ''));
const ratio = (ours, peer) =>
  typeof ours === 'number' && typeof peer === 'number' && peer > 0 ? `${(ours / peer).toFixed(2)}x` : '';
const head = ['measure', ...SERVERS.map((s) => s.key), ...PEERS.map((p) => `ptftp ÷ ${p}`)];
const body = [...rows].map(([row, values]) => [
  row,
  ...SERVERS.map((s) => fmt(values[s.key])),
  ...PEERS.map((p) => ratio(values.ptftp, values[p])),
]);
const lines = markdownTable(head, body);

// --- targets --------------------------------------------------------------------------
const get = (row, key) => rows.get(row)?.[key];
const checks = [];
function target(name, ok, detail) {
  checks.push(`- ${ok ? 'met' : 'MISSED'}: ${name}: ${detail}`);
}
const lockRow = `${BIG_MIB} MiB b1468 w1, atftp client, MB/s`;
const lock = ratio(get(lockRow, 'ptftp'), get(lockRow, 'tftpd-hpa'));
target('lockstep 1468 >= 1.0x tftpd-hpa', Number.parseFloat(lock) >= 1, lock || 'n/a');
for (const b of [1468, 8192]) {
  const r = `${BIG_MIB} MiB b${b} w16, atftp client, MB/s`;
  const x = ratio(get(r, 'ptftp'), get(r, 'atftpd'));
  target(`w16 b${b} >= 1.0x atftpd`, Number.parseFloat(x) >= 1, x || 'n/a');
}
const stormX = ratio(get(STORM_ROWS.rate, 'ptftp'), get(STORM_ROWS.rate, 'dnsmasq'));
target('storm >= 1.0x dnsmasq', Number.parseFloat(stormX) >= 1, stormX || 'n/a');
const fails = get(STORM_ROWS.failures, 'ptftp');
target('storm with zero failures', fails === 0, String(fails));
const rss = get(STORM_ROWS.rss, 'ptftp');
target('storm peak RSS < 60 MiB', typeof rss === 'number' && rss < 60, `${fmt(rss)} MiB`);
const tuned = get(TUNED_ROW, 'ptftp');
target(
  `storm peak RSS < 60 MiB with ${TUNED_FLAGS.join(' ')}`,
  typeof tuned === 'number' && tuned < 60,
  `${fmt(tuned)} MiB`,
);

const cpuX = ratio(get(CPU_ROW, 'ptftp'), get(CPU_ROW, 'node-dgram'));
target(
  'server CPU per file (serve --root) <= 1.1x node-dgram',
  Number.parseFloat(cpuX) <= 1.1,
  cpuX || 'n/a',
);

// Where the Node runtime itself stands against the C peers, in this same run.
const context = [];
const ceiling = (name, row, peer) => {
  const node = ratio(get(row, 'node-dgram'), get(row, peer));
  const ours = ratio(get(row, 'ptftp'), get(row, 'node-dgram'));
  if (node && ours) context.push(`- ${name}: node-dgram ${node} ${peer}; ptftp ${ours} node-dgram`);
};
ceiling('lockstep 1468', lockRow, 'tftpd-hpa');
ceiling('w16 b1468', `${BIG_MIB} MiB b1468 w16, atftp client, MB/s`, 'atftpd');
const nodeRss = get(STORM_ROWS.rss, 'node-dgram');
if (typeof nodeRss === 'number' && typeof rss === 'number')
  context.push(`- storm peak RSS: node-dgram ${fmt(nodeRss)} MiB, ptftp ${fmt(rss)} MiB`);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const md = [
  `Protocol bench, ${new Date().toISOString()}: Node ${process.version}, ${cpus().length} x ${cpu}, loopback.`,
  `Best of ${RUNS} runs per throughput cell; "—" = the server does not support that window size.`,
  '',
  ...lines,
  '',
  'Targets:',
  '',
  ...checks,
  '',
  'The Node ceiling (node-dgram, a bare node:dgram sender), same run:',
  '',
  ...context,
  '',
].join('\n');
console.log(md);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'protocol.md'), md);
