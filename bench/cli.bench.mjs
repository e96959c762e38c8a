/**
 * The `ptftp` command as a person runs it: start-up of `--help`, `--version` and
 * `dhcp option150` against a bare `node -e 0` (issue 15: at most 3x), and `ptftp get` of a
 * 20 MB file at blksize 1468 / windowsize 16 against atftp's client, from the same atftpd
 * (windowsize needs atftpd or our own server). Runs are interleaved so that a busy machine
 * slows every contender alike; the median is reported.
 *
 *   node bench/cli.bench.mjs            # PTFTP_BENCH_RUNS=N to change the 15 start-up runs
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAtftpd } from './lib/peers.mjs';
import { markdownTable } from './lib/table.mjs';

const bin = fileURLToPath(new URL('../packages/cli/bin/ptftp.js', import.meta.url));
const results = fileURLToPath(new URL('./results/cli.md', import.meta.url));
const runs = Number(process.env.PTFTP_BENCH_RUNS ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

// Start-up.
const startup = {
  'node -e 0': ['-e', '0'],
  'ptftp --help': [bin, '--help'],
  'ptftp --version': [bin, '--version'],
  'ptftp dhcp option150': [bin, 'dhcp', 'option150', '10.1.1.10', '10.1.1.11'],
  'ptftp dhcp decode': [bin, 'dhcp', 'decode', '96080a01010a0a01010b'],
};
const samples = Object.fromEntries(Object.keys(startup).map((k) => [k, []]));
for (let i = 0; i < runs; i++)
  for (const [name, args] of Object.entries(startup)) samples[name].push(timed(process.execPath, args).ms);
const base = median(samples['node -e 0']);
const startRows = Object.entries(samples).map(([name, xs]) => [
  name,
  `${median(xs).toFixed(0)} ms`,
  `${(median(xs) / base).toFixed(2)}x`,
]);

// get against atftp, from the same atftpd.
const dir = mkdtempSync(join(tmpdir(), 'ptftp-bench-cli-'));
const root = join(dir, 'root');
const out = join(dir, 'out');
spawnSync('mkdir', ['-p', root, out]);
chmodSync(dir, 0o755);
chmodSync(root, 0o755);
const file = Buffer.allocUnsafe(20_000_000);
for (let i = 0; i < file.length; i += 4) file.writeUInt32LE((i * 2654435761) >>> 0, i);
writeFileSync(join(root, 'big.bin'), file, { mode: 0o644 });
const want = createHash('sha256').update(file).digest('hex');
const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const server = await startAtftpd(root, 4);
const getRuns = Math.max(3, Math.ceil(runs / 3));
const get = { atftp: [], 'ptftp get': [] };
let summary = '';
try {
  for (let i = 0; i < getRuns; i++) {
    const a = join(out, `a${i}`);
    get.atftp.push(
      timed('/usr/bin/atftp', [
        '--option',
        'blksize 1468',
        '--option',
        'windowsize 16',
        '-g',
        '-r',
        'big.bin',
        '-l',
        a,
        '127.0.0.1',
        String(server.port),
      ]).ms,
    );
    if (sha(a) !== want) throw new Error('atftp: wrong bytes');
    const p = join(out, `p${i}`);
    const r = timed(process.execPath, [
      bin,
      'get',
      `tftp://127.0.0.1:${server.port}/big.bin`,
      '-o',
      p,
      '--blksize',
      '1468',
      '--windowsize',
      '16',
    ]);
    get['ptftp get'].push(r.ms);
    summary = r.stderr.toString().trim();
    if (sha(p) !== want) throw new Error('ptftp get: wrong bytes');
    rmSync(a);
    rmSync(p);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
const atftpMs = median(get.atftp);
const getRows = Object.entries(get).map(([name, xs]) => [
  name,
  `${median(xs).toFixed(0)} ms`,
  `${(((20_000_000 / median(xs)) * 1000) / 1e6).toFixed(1)} MB/s`,
  `${(atftpMs / median(xs)).toFixed(2)}x`,
]);

const lines = [
  '# CLI start-up and `ptftp get`',
  '',
  `Median of ${runs} interleaved runs (start-up) and ${getRuns} (get); machine: ${process.arch}, Node ${process.version}.`,
  '',
  ...markdownTable(['command', 'wall time', 'vs node -e 0'], startRows),
  '',
  `20 MB from atftpd 0.8 on 127.0.0.1, blksize 1468, windowsize 16 (speed relative to atftp, higher is faster).`,
  `ptftp get said: \`${summary}\``,
  '',
  ...markdownTable(['client', 'wall time', 'throughput', 'vs atftp'], getRows),
  '',
];
writeFileSync(results, lines.join('\n'));
console.log(lines.join('\n'));
