/**
 * The data plane under firmware storms (issue 12), measured on the real `ptftp serve -c`
 * process (the built CLI binary), with the remote cluster played by tftpd-hpa on loopback: the
 * firmware exists only there, so every byte goes through the proxy's streaming cache. Each
 * scenario runs against a fresh proxy and cache folder, is bounded by a deadline, and reports
 * what completed, the SHA-256 check of every completed transfer, and the proxy's peak RSS
 * (VmHWM). A watchdog kills a proxy whose RSS passes PTFTP_BENCH_RSS_KILL_MB (default 1500) so
 * that a regression cannot take the machine down; the row then says so.
 *
 * Environment: PTFTP_BENCH_PHONES (default 1000), PTFTP_BENCH_HTTP (200), PTFTP_BENCH_BIG_MB
 * (100), PTFTP_BENCH_DEADLINE_S (60), PTFTP_BENCH_RSS_KILL_MB (1500).
 * Writes bench/results/dataplane.md.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTftpdHpa } from './lib/peers.mjs';
import { freeUdpPort, waitForTftp } from './lib/processes.mjs';
import { markdownTable } from './lib/table.mjs';
import { fetchOverTftp } from './lib/tftp-phone.mjs';

const PHONES = Number(process.env.PTFTP_BENCH_PHONES ?? 1000);
const HTTP = Number(process.env.PTFTP_BENCH_HTTP ?? 200);
const BIG = Number(process.env.PTFTP_BENCH_BIG_MB ?? 100) * 1024 * 1024;
const DEADLINE_MS = Number(process.env.PTFTP_BENCH_DEADLINE_S ?? 60) * 1000;
const RSS_KILL_MIB = Number(process.env.PTFTP_BENCH_RSS_KILL_MB ?? 1500);
/** `PTFTP_BENCH_SCENARIOS=storm,remote` runs only those (all four by default). */
const ONLY = process.env.PTFTP_BENCH_SCENARIOS?.split(',').map((s) => s.trim());
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'packages', 'cli', 'bin', 'ptftp.js');

const work = mkdtempSync(join(tmpdir(), 'ptftp-bench-dataplane-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const remoteRoot = join(work, 'remote');
mkdirSync(remoteRoot);
chmodSync(work, 0o755);
chmodSync(remoteRoot, 0o755);

/** Deterministic bytes (xorshift), written to the remote cluster's folder; returns the SHA-256. */
function writeFile(name, size, seed) {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff;
  writeFileSync(join(remoteRoot, name), out);
  chmodSync(join(remoteRoot, name), 0o644);
  return createHash('sha256').update(out).digest('hex');
}

const FILES = {
  big: { name: 'P0030801SR02.loads', sha: writeFile('P0030801SR02.loads', BIG, 7) },
  mid: { name: 'P0030801SR03.sbn', sha: writeFile('P0030801SR03.sbn', 3 * 1024 * 1024, 8) },
  small: { name: 'SEP001122334455.cnf.xml', sha: writeFile('SEP001122334455.cnf.xml', 4096, 9) },
};

function memoryMiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
    return { peak: kib('VmHWM'), rss: kib('VmRSS') };
  } catch {
    return undefined;
  }
}

/** An unused TCP port on 127.0.0.1 (bound, then released). */
function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `ptftp serve -c` with a cluster on tftpd-hpa, a cache folder of its own, and a watchdog. */
async function startProxy(upstreamPort, label) {
  const [tftp, http, admin] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
  const cacheDir = join(work, `cache-${label}`);
  const config = {
    listen: [`127.0.0.1:${tftp}`],
    // Every simulated phone comes from 127.0.0.1: the per-address limits (which would see one
    // host, not a thousand phones) are lifted so the data plane is what is measured.
    http: { listen: [`127.0.0.1:${http}`], maxConnectionsPerAddress: 4096 },
    admin: { listen: `127.0.0.1:${admin}` },
    clusters: [{ id: 'remote', tftp: [`127.0.0.1:${upstreamPort}`] }],
    cache: { dir: cacheDir },
    limits: {
      maxSessions: 4096,
      inactivityTimeoutMs: 120_000,
      maxSessionsPerSource: 4096,
      newSessionsPerSecondPerSource: 100_000,
      burstPerSource: 100_000,
    },
    upstream: { timeoutMs: 2000 },
  };
  const file = join(work, `ptftp-${label}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [BIN, 'serve', '-c', file, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 2000) stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
  let killedAt;
  const watchdog = setInterval(() => {
    const m = memoryMiB(child.pid);
    if (m && m.rss > RSS_KILL_MIB) {
      killedAt = m.rss;
      child.kill('SIGKILL');
    }
  }, 100);
  await Promise.race([
    waitForTftp(tftp, 10_000),
    exited.then((c) => {
      throw new Error(`ptftp serve exited (${c}) at start: ${stderr}`);
    }),
  ]);
  return {
    tftp,
    httpUrl: `http://127.0.0.1:${http}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    peak: () => memoryMiB(child.pid)?.peak,
    killedAt: () => killedAt,
    async metric(name) {
      const text = await fetch(`${this.adminUrl}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line ? Number(line.split(' ').at(-1)) : undefined;
    },
    async stop() {
      clearInterval(watchdog);
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One HTTP download, hashed as it arrives; `read: false` plays a client that never reads. */
function httpGet(url, { signal, read = true } = {}) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const req = request(url, { signal });
    req.on('error', (err) => resolve({ ok: false, bytes, error: err.code ?? err.message }));
    req.on('response', (res) => {
      if (!read) {
        res.pause();
        signal?.addEventListener('abort', () => req.destroy(), { once: true });
        return;
      }
      res.on('data', (d) => {
        hash.update(d);
        bytes += d.length;
      });
      res.on('end', () =>
        resolve({
          ok: res.statusCode === 200,
          bytes,
          sha256: hash.digest('hex'),
          ms: performance.now() - t0,
        }),
      );
      res.on('error', (err) => resolve({ ok: false, bytes, error: err.code ?? err.message }));
    });
    req.end();
  });
}

const pct = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
/** Megabytes received by all the clients of a scenario, completed or not. */
const mb = (...lists) => f0(lists.flat().reduce((n, r) => n + (r.bytes ?? 0), 0) / 1e6);
const f0 = (n) => (Number.isFinite(n) ? n.toFixed(0) : '-');

/** Completed transfers and how many of them matched the file's SHA-256. */
function exact(results, sha) {
  const done = results.filter((r) => r.ok);
  return { done: done.length, exact: done.filter((r) => r.sha256 === sha).length };
}

/** The most frequent failure of a scenario's clients, with its count. */
function topError(...lists) {
  const counts = new Map();
  for (const r of lists.flat()) if (!r.ok && r.error) counts.set(r.error, (counts.get(r.error) ?? 0) + 1);
  const [error, n] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
  return error ? `${error} ×${n}` : '-';
}

/**
 * Phones that wait for the first DATA as long as the cold upstream fetch may take (30 tries
 * of 1 s), as real phones re-send their request; stalled phones stop after block 1.
 */
const PATIENT = { blksize: 1468, windowsize: 16, retries: 30 };

async function scenario(label, upstreamPort, body) {
  if (ONLY && !ONLY.includes(label)) return undefined;
  console.error(`dataplane: ${label}: starting`);
  const proxy = await startProxy(upstreamPort, label);
  console.error(`dataplane: ${label}: proxy up`);
  const started = performance.now();
  const deadline = new AbortController();
  setMaxListeners(0, deadline.signal);
  const timer = setTimeout(() => deadline.abort(), DEADLINE_MS);
  // The start-up probe (an RRQ for a name nobody has) was asked upstream too: not counted.
  const before = (await proxy.metric('ptftp_upstream_fetches_total')) ?? 0;
  try {
    const row = await body(proxy, deadline.signal);
    row.fetches = ((await proxy.metric('ptftp_upstream_fetches_total')) ?? 0) - before;
    row.peak = proxy.peak();
    row.killed = proxy.killedAt();
    console.error(`dataplane: ${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return row;
  } catch (err) {
    return { note: `failed: ${err.message}`, peak: proxy.peak(), killed: proxy.killedAt() };
  } finally {
    clearTimeout(timer);
    deadline.abort();
    await proxy.stop();
  }
}

const upstream = await startTftpdHpa(remoteRoot);
const rows = [];
try {
  // 1. 1000 phones (half stall after block 1) + 200 HTTP downloads of one 100 MB file.
  const storm = await scenario('storm', upstream.port, async (p, signal) => {
    const tftp = Array.from({ length: PHONES }, (_, i) =>
      fetchOverTftp(p.tftp, FILES.big.name, { ...PATIENT, signal, ...(i % 2 === 1 && { stallAfter: 1 }) }),
    );
    const http = Array.from({ length: HTTP }, () => httpGet(`${p.httpUrl}/${FILES.big.name}`, { signal }));
    const t = await Promise.all(tftp);
    const h = await Promise.all(http);
    const te = exact(t, FILES.big.sha);
    const he = exact(h, FILES.big.sha);
    return {
      what: `${PHONES} TFTP (half stall after block 1) + ${HTTP} HTTP, ${BIG >> 20} MB remote file`,
      completed: `TFTP ${te.done}/${PHONES - Math.floor(PHONES / 2)} live, HTTP ${he.done}/${HTTP} (${mb(t, h)} MB sent)`,
      exact: `${te.exact + he.exact}/${te.done + he.done}`,
      latency: `first DATA p99 ${f0(
        pct(
          t.filter((r) => r.firstDataMs !== undefined).map((r) => r.firstDataMs),
          99,
        ),
      )} ms`,
      target: 'peak ≤ 256 MiB, byte-exact',
      errors: topError(t, h),
    };
  });
  if (storm) rows.push(storm);

  // 2. 40 never-ACKing RRQs + 35 non-reading GETs, while a legit phone fetches its config.
  const idle = await scenario('idle', upstream.port, async (p, signal) => {
    const stalled = Array.from({ length: 40 }, () =>
      fetchOverTftp(p.tftp, FILES.big.name, { blksize: 1468, windowsize: 16, silent: true, signal }),
    );
    const readers = Array.from({ length: 35 }, () =>
      httpGet(`${p.httpUrl}/${FILES.big.name}`, { signal, read: false }),
    );
    // The legit phone's config is fetched once from the cluster; then it comes from the cache.
    const warm = await fetchOverTftp(p.tftp, FILES.small.name, { signal });
    const legit = [];
    const until = performance.now() + Math.min(20_000, DEADLINE_MS / 2);
    while (performance.now() < until && !signal.aborted) {
      legit.push(await fetchOverTftp(p.tftp, FILES.small.name, { signal }));
      await new Promise((r) => setTimeout(r, 50));
    }
    const row = {
      what: '40 never-ACKing RRQs + 35 non-reading GETs (100 MB) + a legit phone',
      completed: `legit ${legit.filter((r) => r.ok).length}/${legit.length}`,
      exact: `${exact(legit, FILES.small.sha).exact}/${legit.filter((r) => r.ok).length}`,
      latency: `legit p99 ${f0(
        pct(
          legit.filter((r) => r.ok).map((r) => r.ms),
          99,
        ),
      )} ms (first, from the cluster: ${f0(warm.ms)} ms)`,
      target: 'peak ≤ 200 MiB, legit p99 < 200 ms',
      errors: topError(legit),
      peakDuring: p.peak(),
    };
    void stalled;
    void readers;
    return row;
  });
  if (idle) rows.push(idle);

  // 3. Cold start: 1000 RRQs at once for one 3 MB file.
  const cold = await scenario('cold', upstream.port, async (p, signal) => {
    const t = await Promise.all(
      Array.from({ length: PHONES }, () => fetchOverTftp(p.tftp, FILES.mid.name, { ...PATIENT, signal })),
    );
    const te = exact(t, FILES.mid.sha);
    return {
      what: `cold start, ${PHONES} RRQs for one 3 MB remote file`,
      completed: `${te.done}/${PHONES} (${mb(t)} MB sent)`,
      exact: `${te.exact}/${te.done}`,
      latency: `first DATA p99 ${f0(
        pct(
          t.filter((r) => r.firstDataMs !== undefined).map((r) => r.firstDataMs),
          99,
        ),
      )} ms, complete p99 ${f0(
        pct(
          t.filter((r) => r.ok).map((r) => r.ms),
          99,
        ),
      )} ms`,
      target: 'peak ≤ 150 MiB, p99 < 2 s',
      errors: topError(t),
    };
  });
  if (cold) rows.push(cold);

  // 4. 100 phones for a 100 MB file only the remote cluster has: one fetch, first DATA soon.
  const direct = await fetchOverTftp(upstream.port, FILES.big.name, {
    blksize: 1468,
    windowsize: 1,
    stallAfter: 1,
    signal: AbortSignal.timeout(2000),
  });
  const remote = await scenario('remote', upstream.port, async (p, signal) => {
    const t = await Promise.all(
      Array.from({ length: 100 }, () => fetchOverTftp(p.tftp, FILES.big.name, { ...PATIENT, signal })),
    );
    const te = exact(t, FILES.big.sha);
    const first = Math.min(...t.map((r) => r.firstDataMs ?? Number.POSITIVE_INFINITY));
    return {
      what: `100 phones, ${BIG >> 20} MB file only on the remote cluster`,
      completed: `${te.done}/100 (${mb(t)} MB sent)`,
      exact: `${te.exact}/${te.done}`,
      latency: `first phone's first DATA ${f0(first)} ms (upstream's first block direct: ${f0(direct.firstDataMs)} ms)`,
      target: 'one fetch, first DATA ≤ 1 s after upstream, peak ≤ 256 MiB',
      errors: topError(t),
    };
  });
  if (remote) rows.push(remote);
} finally {
  await upstream.stop();
}

const table = markdownTable(
  [
    'scenario',
    'completed',
    'byte-exact (SHA-256)',
    'latency',
    'upstream fetches',
    'peak RSS (MiB)',
    'most frequent failure',
    'target',
  ],
  rows.map((r) => [
    r.what ?? r.note ?? '-',
    r.completed ?? '-',
    r.exact ?? '-',
    r.latency ?? '-',
    r.fetches === undefined ? '-' : String(r.fetches),
    r.killed ? `killed at ${f0(r.killed)}` : f0(r.peak),
    r.errors ?? '-',
    r.target ?? '-',
  ]),
);
const text = `# Data plane (issue 12)

\`ptftp serve -c\` (built CLI), remote cluster tftpd-hpa on loopback, cache on disk; run deadline
${DEADLINE_MS / 1000} s per scenario; TFTP blksize 1468, windowsize 16. ${new Date().toISOString()}.

${table.join('\n')}
`;
console.log(text);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'dataplane.md'), text);
