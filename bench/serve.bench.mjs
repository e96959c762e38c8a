/**
 * The main job under a boot storm: `ptftp serve --root DIR` (the whole proxy server through the
 * CLI binary) against 1000 phones at once, each fetching its own 4 KiB SEP<MAC>.cnf.xml, beside
 * the bare @ptftp/protocol server on the same files. Prints one markdown table and writes it
 * to bench/results/serve.md.
 *
 * Environment: PTFTP_BENCH_STORM (clients, default 1000), PTFTP_BENCH_RUNS (default 2; best
 * rate kept, peak RSS the highest seen).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPtftp } from './lib/peers.mjs';
import { freeUdpPort, waitForTftp } from './lib/processes.mjs';
import { bootStorm, writeStormFiles } from './lib/storm.mjs';
import { markdownTable } from './lib/table.mjs';

const STORM = Number(process.env.PTFTP_BENCH_STORM ?? 1000);
const RUNS = Number(process.env.PTFTP_BENCH_RUNS ?? 2);
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'packages', 'cli', 'bin', 'ptftp.js');

const root = mkdtempSync(join(tmpdir(), 'ptftp-bench-serve-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
chmodSync(root, 0o755);
const files = writeStormFiles(root, STORM);

/** RSS figures of a process, in MiB: peak (VmHWM), now, anonymous and file-backed parts. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { peak: kib('VmHWM'), rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
}

/** `ptftp serve --root` as users run it; logs go to a pipe this process drains. */
async function startServe(extraArgs) {
  const port = await freeUdpPort();
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--root', root, '--listen', `127.0.0.1:${port}`, '--no-admin', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logBytes = 0;
  child.stdout.resume();
  child.stderr.on('data', (d) => {
    logBytes += d.length;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([
    waitForTftp(port),
    exited.then((code) => {
      throw new Error(`ptftp serve exited (${code}) at start`);
    }),
  ]);
  return {
    pid: child.pid,
    port,
    logBytes: () => logBytes,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const CASES = [
  {
    key: 'ptftp serve --root (logs at info, JSON to a pipe)',
    start: () => startServe(['--log-format', 'json']),
  },
  { key: 'ptftp serve --root --log-level warn', start: () => startServe(['--log-level', 'warn']) },
  { key: '@ptftp/protocol server + createFsHandler (reference)', start: () => startPtftp(root) },
];

const rows = [];
for (const c of CASES) {
  let best;
  let peak = 0;
  let idle;
  for (let run = 0; run < RUNS; run++) {
    const server = await c.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      idle ??= memory(server.pid);
      const r = await bootStorm(server.port, files);
      const m = memory(server.pid);
      peak = Math.max(peak, m.peak);
      if (!best || r.perSecond > best.perSecond) best = { ...r, logBytes: server.logBytes?.() };
      process.stderr.write(
        `${c.key}: ${r.perSecond.toFixed(0)}/s p99 ${r.p99.toFixed(0)} ms failures ${r.failures} ` +
          `idle ${idle.rss.toFixed(1)} MiB peak ${m.peak.toFixed(1)} MiB (anon ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)})\n`,
      );
    } finally {
      await server.stop();
    }
  }
  rows.push([
    c.key,
    best.perSecond.toFixed(0),
    best.p50.toFixed(0),
    best.p99.toFixed(0),
    String(best.failures),
    idle.rss.toFixed(1),
    peak.toFixed(1),
    best.logBytes === undefined ? '' : String(best.logBytes),
  ]);
}

const head = [
  'server',
  'transfers/s',
  'p50 ms',
  'p99 ms',
  'failed',
  'idle RSS MiB',
  'peak RSS MiB',
  'log bytes',
];
const md = [
  `Serve bench, ${new Date().toISOString()}: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, loopback.`,
  `A boot storm of ${STORM} phones (own socket, own 4 KiB file, no options) against each server, started fresh; best of ${RUNS} runs, highest peak RSS.`,
  '',
  ...markdownTable(head, rows),
  '',
].join('\n');
console.log(md);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'serve.md'), md);
