/**
 * The `ptftp` command as a person runs it: start-up of `--help`, `--version` and
 * `dhcp option150` against a bare `node -e 0` (issue 15: at most 3x), and `ptftp get` of a
 * 20 MB file at blksize 1468 / windowsize 16 against atftp's client, from the same atftpd
 * (windowsize needs atftpd or our own server; issue 15: at least 0.9x atftp). Beside them, in
 * the same runs: tftp-hpa's client (it asks for no options: 512-byte lockstep) and the library's
 * `tftpGet` inside one already-running Node process (the transfer without any start-up), so
 * that `ptftp get`'s time splits into Node's start-up, loading, and the transfer. Runs are
 * interleaved so that a busy machine slows every contender alike; the median is reported.
 *
 *   node bench/cli.bench.mjs            # PTFTP_BENCH_RUNS=N to change the 15 start-up runs
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startAtftpd } from './lib/peers.mjs';
import { markdownTable } from './lib/table.mjs';

const bin = fileURLToPath(new URL('../packages/cli/bin/ptftp.js', import.meta.url));
const results = fileURLToPath(new URL('./results/cli.md', import.meta.url));
const runs = Number(process.env.PTFTP_BENCH_RUNS ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cpuFile = join(tmpdir(), `ptftp-bench-cli-cpu-${process.pid}`);
/**
 * Run a command; wall time, and its CPU time (user + system, from GNU time) when `cpu` is set.
 * On a machine shared with other work the CPU time is the steadier figure: on loopback a client
 * and its server mostly take turns, so the wall time of a transfer is close to the sum of both
 * CPU times, and a busy machine stretches only the wall time.
 */
function timed(cmd, args, { cpu = false } = {}) {
  const start = process.hrtime.bigint();
  const r = cpu
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, cmd, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  let cpuMs;
  if (cpu) {
    const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    cpuMs = (user + sys) * 1000;
  }
  return { ms, cpuMs, stdout: r.stdout, stderr: r.stderr };
}
const useCpu = existsSync('/usr/bin/time');

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
const get = { atftp: [], 'tftp-hpa (512 lockstep)': [], 'ptftp get': [], 'library tftpGet (in process)': [] };
const cpu = { atftp: [], 'tftp-hpa (512 lockstep)': [], 'ptftp get': [], 'library tftpGet (in process)': [] };
const getBreakdown = {
  'node -e 0': [],
  'node -e 0, CPU': [],
  'ptftp get: its own transfer time': [],
};
const hpa = '/usr/bin/tftp';
const protocolEntry = new URL('../packages/protocol/dist/index.js', import.meta.url).href;
// One Node process that downloads with the library each time it reads a line: no start-up in
// the figure, the same server and file as the commands beside it.
const library = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { tftpGet } from ${JSON.stringify(protocolEntry)};
     import { createHash } from 'node:crypto';
     import { createInterface } from 'node:readline';
     for await (const port of createInterface({ input: process.stdin })) {
       const t = performance.now();
       const c = process.cpuUsage();
       const b = await tftpGet({ host: '127.0.0.1', port: Number(port) }, 'big.bin', { blksize: 1468, windowsize: 16 });
       const ms = performance.now() - t;
       const u = process.cpuUsage(c);
       const cpuMs = (u.user + u.system) / 1000;
       process.stdout.write(JSON.stringify({ ms, cpuMs, sha: createHash('sha256').update(b).digest('hex') }) + '\\n');
     }`,
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const libraryLines = createInterface({ input: library.stdout })[Symbol.asyncIterator]();
async function libraryGet(port) {
  library.stdin.write(`${port}\n`);
  const { value } = await libraryLines.next();
  const r = JSON.parse(value);
  if (r.sha !== want) throw new Error('library tftpGet: wrong bytes');
  return { ms: r.ms, cpuMs: r.cpuMs };
}
let summary = '';
try {
  for (let i = 0; i < getRuns; i++) {
    const bare = timed(process.execPath, ['-e', '0'], { cpu: useCpu });
    getBreakdown['node -e 0'].push(bare.ms);
    if (bare.cpuMs !== undefined) getBreakdown['node -e 0, CPU'].push(bare.cpuMs);
    const a = join(out, `a${i}`);
    const record = (name, r) => {
      get[name].push(r.ms);
      if (r.cpuMs !== undefined) cpu[name].push(r.cpuMs);
    };
    record(
      'atftp',
      timed(
        '/usr/bin/atftp',
        [
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
        ],
        { cpu: useCpu },
      ),
    );
    if (sha(a) !== want) throw new Error('atftp: wrong bytes');
    const p = join(out, `p${i}`);
    const r = timed(
      process.execPath,
      [
        bin,
        'get',
        `tftp://127.0.0.1:${server.port}/big.bin`,
        '-o',
        p,
        '--blksize',
        '1468',
        '--windowsize',
        '16',
      ],
      { cpu: useCpu },
    );
    record('ptftp get', r);
    summary = r.stderr.toString().trim();
    const own = /in ([0-9.]+) s/.exec(summary);
    if (own) getBreakdown['ptftp get: its own transfer time'].push(Number(own[1]) * 1000);
    if (sha(p) !== want) throw new Error('ptftp get: wrong bytes');
    const h = join(out, `h${i}`);
    if (existsSync(hpa)) {
      record(
        'tftp-hpa (512 lockstep)',
        timed(hpa, ['-m', 'binary', '127.0.0.1', String(server.port), '-c', 'get', 'big.bin', h], {
          cpu: useCpu,
        }),
      );
      if (sha(h) !== want) throw new Error('tftp-hpa: wrong bytes');
      rmSync(h);
    }
    record('library tftpGet (in process)', await libraryGet(server.port));
    rmSync(a);
    rmSync(p);
  }
} finally {
  library.kill();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(cpuFile, { force: true });
}
const atftpMs = median(get.atftp);
const atftpCpu = cpu.atftp.length > 0 ? median(cpu.atftp) : undefined;
const getRows = Object.entries(get)
  .filter(([, xs]) => xs.length > 0)
  .map(([name, xs]) => [
    name,
    `${median(xs).toFixed(0)} ms`,
    `${(((20_000_000 / median(xs)) * 1000) / 1e6).toFixed(1)} MB/s`,
    `${(atftpMs / median(xs)).toFixed(2)}x`,
    cpu[name].length > 0 ? `${median(cpu[name]).toFixed(0)} ms` : '',
    cpu[name].length > 0 && atftpCpu ? `${(median(cpu[name]) / atftpCpu).toFixed(2)}x` : '',
  ]);
const breakdownRows = Object.entries(getBreakdown)
  .filter(([, xs]) => xs.length > 0)
  .map(([name, xs]) => [name, `${median(xs).toFixed(0)} ms`]);

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
  ...markdownTable(
    ['client', 'wall time', 'throughput', 'vs atftp', 'client CPU (user+sys)', 'CPU vs atftp'],
    getRows,
  ),
  '',
  'Where `ptftp get` spends its wall time (same runs): a bare Node start, and the transfer as `get` measures it itself (from parsing the URL to the last block written).',
  '',
  ...markdownTable(['part', 'median'], breakdownRows),
  '',
];
writeFileSync(results, lines.join('\n'));
console.log(lines.join('\n'));
