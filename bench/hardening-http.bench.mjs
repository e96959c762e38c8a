/**
 * Issue 13, part A figures, against the BUILT `ptftp serve -c` in a child process:
 * - fuzz: random request targets, headers and bodies at the admin and HTTP ports; every time
 *   the process dies it is counted and started again, and the fuzz goes on;
 * - slow readers: connections from 127.0.0.2 that send `GET /firmware.bin` and never read
 *   (reopened a moment after the server closes one), while legit clients on 127.0.0.1 fetch a
 *   phone's configuration: the share of legit requests answered in full within 3 s.
 * Prints markdown and writes bench/results/hardening-http.md.
 *
 *   node bench/hardening-http.bench.mjs
 *   PTFTP_BENCH_TREE=/path/to/old/checkout node bench/hardening-http.bench.mjs   # the "before"
 *   PTFTP_BENCH_HTTP_FUZZ=5000 PTFTP_BENCH_SLOW_CONNECTIONS=1100 PTFTP_BENCH_SLOW_SECONDS=20
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { markdownTable } from './lib/table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const tree = resolve(process.env.PTFTP_BENCH_TREE ?? dirname(here));
const BIN = join(tree, 'packages/cli/bin/ptftp.js');
const env = (name, fallback) => Number(process.env[name] ?? fallback);
const FUZZ = env('PTFTP_BENCH_HTTP_FUZZ', 5000);
const SLOW = env('PTFTP_BENCH_SLOW_CONNECTIONS', 1100);
const SLOW_SECONDS = env('PTFTP_BENCH_SLOW_SECONDS', 20);
const out = [];
const emit = (text) => {
  console.log(text);
  out.push(text);
};

const root = mkdtempSync(join(tmpdir(), 'ptftp-hardening-bench-'));
// Larger than loopback's socket buffers fill for a client that never reads.
writeFileSync(join(root, 'firmware.bin'), Buffer.alloc(8 * 1024 * 1024, 0x5a));
const config = Buffer.from('<device><loadInformation>P00308010200</loadInformation></device>\n'.repeat(40));
writeFileSync(join(root, 'SEP001122334455.cnf.xml'), config);
const configFile = join(root, 'ptftp.config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    listen: ['127.0.0.1:0'],
    http: { listen: ['127.0.0.1:0'] },
    admin: { listen: '127.0.0.1:0' },
    store: { root },
    log: { level: 'silent' },
  }),
);

/** Start `ptftp serve -c`; resolves with its ports and a promise of its exit. */
function serve() {
  const child = spawn(process.execPath, [BIN, 'serve', '-c', configFile, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stderr.resume();
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`ptftp serve did not start: ${text}`)), 20_000);
    child.stdout.on('data', (d) => {
      text += d;
      if (!/admin endpoint on/.test(text)) return;
      clearTimeout(timer);
      const port = (re) => Number(/:(\d+)/.exec(text.split('\n').find((l) => re.test(l)))[1]);
      resolveStart({ child, exited, http: port(/\(HTTP\)/), admin: port(/\(health/) });
    });
  });
}

async function stop(server) {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await server.exited;
}

const requestBytes = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'G\x00T'),
    target: fc.oneof(
      fc.constantFrom('///', '//[', '//a:99999/', '//@', '//a%00b/', '*', '/%', '//[::1'),
      fc.string({ unit: fc.constantFrom('/', '[', ']', '@', ':', '%', '?', '#', '.', '\\', 'a', '0') }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.constantFrom('/health', '/metrics', '/status', '/cache/flush', '/reload', '/firmware.bin'),
    ),
    headers: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('Host', 'Content-Type', 'Content-Length', 'Range', 'If-None-Match', 'If-Range'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
        ),
        fc.oneof(
          fc.constantFrom('application/json', '[', '127.0.0.1', 'bytes=0-', '*', '-1'),
          fc.string({ unit: 'binary-ascii', maxLength: 40 }),
        ),
      ),
      { maxLength: 6 },
    ),
    body: fc.oneof(fc.constant(''), fc.json(), fc.string({ unit: 'binary', maxLength: 200 })),
  })
  .map(({ method, target, headers, body }) => {
    const head = [`${method} ${target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    return Buffer.from(`${head}\r\nConnection: close\r\n\r\n${body}`, 'utf8');
  });

function exchange(port, bytes) {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.end(bytes);
  });
}

async function fuzz() {
  const requests = fc.sample(requestBytes, { numRuns: FUZZ, seed: 13 });
  let server = await serve();
  let deaths = 0;
  let sent = 0;
  const started = performance.now();
  for (let i = 0; i < requests.length; i += 8) {
    await Promise.all(
      requests.slice(i, i + 8).map((bytes, j) => {
        sent++;
        return exchange((i + j) % 2 === 0 ? server.admin : server.http, bytes);
      }),
    );
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      deaths++;
      server = await serve();
    }
  }
  const alive = await fetch(`http://127.0.0.1:${server.admin}/health`).then(
    (r) => r.status === 200,
    () => false,
  );
  await stop(server);
  return { sent, deaths, alive, seconds: (performance.now() - started) / 1000 };
}

/** One legit request on a connection of its own: full body within 3 s. */
function legitGet(port) {
  return new Promise((done) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/SEP001122334455.cnf.xml', agent: false, localAddress: '127.0.0.1' },
      (res) => {
        let n = 0;
        res.on('data', (d) => {
          n += d.length;
        });
        res.on('end', () => done(res.statusCode === 200 && n === config.length));
        res.on('error', () => done(false));
      },
    );
    req.setTimeout(3000, () => req.destroy());
    req.on('error', () => done(false));
  });
}

async function slowReaders() {
  const server = await serve();
  let running = true;
  let opened = 0;
  let refused = 0;
  const sockets = new Set();
  const attack = () => {
    if (!running) return;
    const socket = connect({ host: '127.0.0.1', port: server.http, localAddress: '127.0.0.2' });
    opened++;
    sockets.add(socket);
    socket.pause(); // never read
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('GET /firmware.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    // A paused socket never reads the server's FIN: an empty line each second (which a server
    // skips before a request line) fails once the server has closed it, and it is reopened.
    const ping = setInterval(() => socket.write('\r\n'), 1000);
    ping.unref();
    socket.on('close', () => {
      clearInterval(ping);
      sockets.delete(socket);
      if (running) refused++;
      // Slowloris with reconnects: open another a moment later.
      if (running) setTimeout(attack, 500).unref();
    });
  };
  for (let i = 0; i < SLOW; i++) attack();
  await new Promise((r) => setTimeout(r, 2000)); // let the attackers settle in
  let ok = 0;
  let total = 0;
  const deadline = performance.now() + SLOW_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < deadline) {
        total++;
        if (await legitGet(server.http)) ok++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  running = false;
  const held = sockets.size;
  for (const s of sockets) s.destroy();
  const died = server.child.exitCode !== null || server.child.signalCode !== null;
  await stop(server);
  return { ok, total, opened, closedByServer: refused, held, died };
}

try {
  mkdirSync(join(here, 'results'), { recursive: true });
  emit(
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, loopback, ptftp serve -c in a child process (${tree})`,
  );
  emit('');
  const sections = (process.env.PTFTP_BENCH_SECTIONS ?? 'fuzz,slow').split(',');
  if (sections.includes('fuzz')) {
    const f = await fuzz();
    emit('#### Admin/HTTP random-target fuzz (fast-check, seed 13, 8 at a time, half to each port)');
    emit('');
    for (const l of markdownTable(
      ['requests sent', 'process deaths', 'serving at the end', 'seconds'],
      [[f.sent.toLocaleString('en'), String(f.deaths), f.alive ? 'yes' : 'no', f.seconds.toFixed(1)]],
    ))
      emit(l);
    emit('');
  }
  if (sections.includes('slow')) {
    const s = await slowReaders();
    emit(
      `#### Legit HTTP during ${SLOW.toLocaleString('en')} non-reading connections from one address (${SLOW_SECONDS} s, 4 legit clients, 3 s timeout)`,
    );
    emit('');
    for (const l of markdownTable(
      [
        'legit requests',
        'answered in full',
        'success',
        'attacker connections opened',
        'closed by the server',
        'process died',
      ],
      [
        [
          String(s.total),
          String(s.ok),
          `${((100 * s.ok) / Math.max(1, s.total)).toFixed(1)}%`,
          s.opened.toLocaleString('en'),
          s.closedByServer.toLocaleString('en'),
          s.died ? 'yes' : 'no',
        ],
      ],
    ))
      emit(l);
    emit('');
  }
  writeFileSync(join(here, 'results', 'hardening-http.md'), `${out.join('\n')}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
