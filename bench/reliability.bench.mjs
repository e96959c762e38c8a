/**
 * Reliability figures at full size (the reliability test project runs the same checks small):
 * boot storms over a lossy link, a fuzzer and the hostile corpora at a live server, reflection,
 * concurrent sessions and their memory, a soak, graceful close, and a dead remote cluster.
 * Runs against the BUILT packages. Prints markdown and writes bench/results/reliability.md.
 *
 *   node bench/reliability.bench.mjs
 *   PTFTP_BENCH_PHONES=1000 PTFTP_BENCH_FUZZ=100000 PTFTP_BENCH_SESSIONS=5000 \
 *   PTFTP_BENCH_SOAK_SECONDS=600 PTFTP_BENCH_DEAD_REQUESTS=100000 node bench/reliability.bench.mjs
 * One section alone: PTFTP_BENCH_SECTIONS=soak node bench/reliability.bench.mjs
 *
 * Clients and server share this one process (so the heap figures per session are an upper
 * bound for the server alone) and every number below comes from counting, not from sampling.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createFsHandler, createServer, encodeRequest, FileNotFoundError } from '@ptftp/protocol';
import {
  bootStormFixture,
  createLossyLink,
  createTraversalFixture,
  instrumentedGet,
  malformedDatagrams,
  measureAmplification,
  rawReadRequest,
  runBootStorm,
} from '@ptftp/protocol/testing';
import fc from 'fast-check';
import { ONE_ADDRESS_FOR_ALL_PHONES } from './lib/one-address.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const PHONES = env('PTFTP_BENCH_PHONES', 1000);
const FUZZ = env('PTFTP_BENCH_FUZZ', 100_000);
const SESSIONS = env('PTFTP_BENCH_SESSIONS', 5000);
const SOAK_SECONDS = env('PTFTP_BENCH_SOAK_SECONDS', 600);
const DEAD_REQUESTS = env('PTFTP_BENCH_DEAD_REQUESTS', 100_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash('sha256').update(b).digest('hex');
const mb = (n) => (n / 1024 / 1024).toFixed(1);
const ms = (n) => Math.round(n).toLocaleString('en');
const out = [];
const emit = (text) => {
  console.log(text);
  out.push(text);
};
const table = (head, rows) => {
  emit(`| ${head.join(' | ')} |`);
  emit(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) emit(`| ${r.join(' | ')} |`);
  emit('');
};
// Each phone its own loopback source address, as real phones have (127.0.0.0/8 is all lo).
const phoneAddress = (i) => `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;

async function mapServer(files, opts = {}) {
  const server = createServer({
    ...ONE_ADDRESS_FOR_ALL_PHONES,
    ...opts,
    handler: ({ filename }) => {
      const d = files.get(filename);
      if (!d) throw new FileNotFoundError(filename);
      return d;
    },
  });
  const [b] = await server.listen(['127.0.0.1:0']);
  return { server, target: { address: '127.0.0.1', port: b.port } };
}

async function drained(server, maxMs = 30_000) {
  for (let t = 0; t < maxMs && server.activeSessions > 0; t += 50) await sleep(50);
  return server.activeSessions;
}

async function stormSection() {
  emit(`### Boot storm: ${PHONES} phones, 5 files each\n`);
  const fx = bootStormFixture({ phones: PHONES, seed: 2026 });
  const { server, target } = await mapServer(fx.files, {
    retransmitTimeoutMs: 500,
    retries: 8,
    maxSessions: 8192,
  });
  const rows = [];
  const scenarios = [
    { label: 'clean link, new port per file', loss: false, portPerTransfer: true },
    { label: '5% drop, 1% dup, 1% reorder, new port per file', loss: true, portPerTransfer: true },
    { label: '5% drop, 1% dup, 1% reorder, one port per phone', loss: true, portPerTransfer: false },
  ];
  for (const s of scenarios) {
    const link = s.loss
      ? await createLossyLink({ target, seed: 5, drop: 0.05, duplicate: 0.01, reorder: 0.01, idleMs: 5000 })
      : undefined;
    const r = await runBootStorm({
      target: link ? { address: link.address, port: link.port } : target,
      phones: PHONES,
      seed: 2026,
      verify: fx.sha256,
      retransmitTimeoutMs: 1000,
      retries: 8,
      portPerTransfer: s.portPerTransfer,
      lingerMs: 3000,
      attempts: 2,
      phoneAddress,
    });
    const st = link?.stats;
    rows.push([
      s.label,
      r.transfers,
      r.retriedTransfers + r.failures,
      r.failures,
      ms(r.p50Ms),
      ms(r.p99Ms),
      ms(r.maxMs),
      st ? (st.dataPacketsToClient / st.dataBlocksToClient).toFixed(3) : '1.000',
      r.packetsPerBlock.toFixed(3),
      r.retransmissions,
      st ? `${st.dropped}/${st.duplicated}/${st.reordered}` : '-',
      (r.durationMs / 1000).toFixed(1),
    ]);
    if (r.failures > 0) emit(`failures (${s.label}): ${JSON.stringify(r.errors)}`);
    await link?.close();
  }
  const left = await drained(server);
  await server.close();
  table(
    [
      'link',
      'transfers',
      'failed at 1st request',
      'failed after 2nd',
      'boot p50 ms',
      'boot p99 ms',
      'boot max ms',
      'server DATA/block',
      'client DATA/block',
      'client resends',
      'dropped/dup/reordered',
      'seconds',
    ],
    rows,
  );
  emit(`Sessions left after the storms drained: ${left}. Every file's SHA-256 was checked.\n`);
}

const tftpish = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(
      fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 255, 0xffff),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            'octet',
            'netascii',
            'mail',
            'blksize',
            'tsize',
            'timeout',
            'windowsize',
            'rollover',
          ),
          fc.constantFrom('0', '1', '8', '512', '65464', '65465', '-1', '', '1e9', 'ok.bin', '../ok.bin'),
          fc.string({ maxLength: 40 }),
        ),
        { maxLength: 12 },
      ),
      fc.boolean(),
    )
    .map(([op, parts, terminate]) =>
      Buffer.concat([
        Buffer.from([op >> 8, op & 0xff]),
        Buffer.from(parts.join('\0') + (terminate ? '\0' : '')),
      ]),
    ),
);

function describeReply(msg) {
  const op = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
  if (op === 3) return 'DATA';
  if (op === 6) return 'OACK';
  if (op === 5) return `ERROR ${msg.readUInt16BE(2)}`;
  return `opcode ${op}`;
}

async function openSocket(host = '127.0.0.1') {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise((r) => s.bind(0, host, r));
  return s;
}

async function badInputSection() {
  emit('### Bad input at a live server\n');
  const file = Buffer.alloc(3000, 0x42);
  const { server, target } = await mapServer(new Map([['ok.bin', file]]), {
    retransmitTimeoutMs: 100,
    retries: 2,
    firstAckRetries: 1,
    maxSessions: 100_000,
  });
  let malformed = 0;
  server.on('malformedPacket', () => malformed++);
  const before = heap();
  // The corpus, one socket per entry so each answer belongs to its datagram.
  const corpus = malformedDatagrams('ok.bin');
  const socks = await Promise.all(corpus.map(() => openSocket()));
  const answers = corpus.map(() => []);
  for (const [i, s] of socks.entries()) s.on('message', (m) => answers[i].push(describeReply(m)));
  for (const [i, c] of corpus.entries()) socks[i].send(c.bytes, target.port, target.address);
  await sleep(500);
  for (const s of socks) s.close();
  const byAnswer = {};
  corpus.forEach((_, i) => {
    const k = answers[i].length === 0 ? 'no answer' : [...new Set(answers[i])].join(', ');
    byAnswer[k] = (byAnswer[k] ?? 0) + 1;
  });
  // The fuzzer.
  const fuzz = await openSocket();
  const samples = fc.sample(tftpish, { numRuns: FUZZ, seed: 20261126 });
  const started = performance.now();
  for (let i = 0; i < samples.length; i++) {
    fuzz.send(samples[i], target.port, target.address);
    if (i % 200 === 199) await sleep(2);
  }
  const fuzzSeconds = (performance.now() - started) / 1000;
  fuzz.close();
  const left = await drained(server);
  const after = heap();
  const check = await instrumentedGet({ target, name: 'ok.bin' });
  await server.close();
  table(
    ['malformed corpus answer', 'entries'],
    Object.entries(byAnswer).map(([k, v]) => [k, v]),
  );
  table(
    [
      'fuzzed datagrams',
      'seconds',
      'malformed events',
      'sessions left',
      'heap growth MiB',
      'served afterwards',
    ],
    [
      [
        FUZZ.toLocaleString('en'),
        fuzzSeconds.toFixed(1),
        malformed.toLocaleString('en'),
        left,
        mb(after - before),
        check.ok && check.sha256 === sha(file) ? 'yes, SHA-256 ok' : `NO: ${check.error}`,
      ],
    ],
  );
}

async function traversalSection() {
  emit('### Path traversal corpus (createFsHandler)\n');
  const fx = createTraversalFixture();
  const server = createServer({ handler: createFsHandler(fx.root), retransmitTimeoutMs: 100, retries: 1 });
  const [b] = await server.listen(['127.0.0.1:0']);
  const socks = await Promise.all(fx.names.map(() => openSocket()));
  const got = fx.names.map(() => []);
  for (const [i, s] of socks.entries())
    s.on('message', (m) =>
      got[i].push({ kind: describeReply(m), leak: m.includes(fx.secretContent.subarray(0, 20)) }),
    );
  for (const [i, t] of fx.names.entries()) socks[i].send(rawReadRequest(t.bytes), b.port, '127.0.0.1');
  await sleep(1000);
  const allowed = await instrumentedGet({
    target: { address: '127.0.0.1', port: b.port },
    name: fx.allowedName,
  });
  for (const s of socks) s.close();
  await server.close();
  fx.cleanup();
  const families = {};
  fx.names.forEach((t, i) => {
    families[t.family] ??= { names: 0, error: 0, silent: 0, served: 0, leaked: 0 };
    const f = families[t.family];
    f.names++;
    if (got[i].length === 0) f.silent++;
    else if (got[i].every((g) => g.kind.startsWith('ERROR'))) f.error++;
    else f.served++;
    if (got[i].some((g) => g.leak)) f.leaked++;
  });
  table(
    ['family', 'names', 'refused with ERROR', 'dropped (malformed)', 'served', 'secret leaked'],
    Object.entries(families).map(([k, f]) => [k, f.names, f.error, f.silent, f.served, f.leaked]),
  );
  emit(
    `Control: the legitimate file was ${allowed.ok ? 'served' : 'NOT served'}; ${fx.names.length} hostile names in all.\n`,
  );
}

async function amplificationSection() {
  emit('### Reflection: bytes to a spoofed source per request byte (default firstAckRetries)\n');
  const fx = new Map([['big.bin', Buffer.alloc(1_000_000, 0x41)]]);
  const { server, target } = await mapServer(fx, { retransmitTimeoutMs: 200 });
  const rows = [];
  for (const [label, options] of [
    ['no options (DATA 1 at once)', {}],
    ['blksize 1428', { blksize: '1428' }],
    ['blksize 65464 + tsize', { blksize: '65464', tsize: '0' }],
    ['tsize', { tsize: '0' }],
    ['windowsize 64 + blksize 8192', { windowsize: '64', blksize: '8192' }],
  ]) {
    const r = await measureAmplification({ target, name: 'big.bin', options, quietMs: 1500 });
    rows.push([
      label,
      r.requestBytes,
      r.responseBytes,
      r.responsePackets,
      JSON.stringify(r.byOpcode),
      `${r.factor.toFixed(2)}x`,
    ]);
  }
  await server.close();
  table(['forged request', 'request bytes', 'bytes to victim', 'packets', 'by opcode', 'factor'], rows);

  emit(
    'Flood: 1,000 forged requests from 200 ports of one address (limits: 20/s, burst 20, 8 per source):\n',
  );
  const attackers = await Promise.all(Array.from({ length: 200 }, () => openSocket('127.0.0.2')));
  const got = { bytes: 0, data: 0, error: 0, ports: new Set() };
  for (const a of attackers)
    a.on('message', (m, r) => {
      got.bytes += m.length;
      if (m.readUInt16BE(0) === 3) {
        got.data++;
        got.ports.add(r.port);
      } else got.error++;
    });
  const rrq = encodeRequest(1, 'big.bin');
  const phonesFx = bootStormFixture({ phones: 50, seed: 9 });
  const phoneSrv = await mapServer(new Map([...phonesFx.files, ...fx]), {
    retransmitTimeoutMs: 200,
    maxSessionsPerSource: 8,
    newSessionsPerSecondPerSource: 20,
    burstPerSource: 20,
  });
  const started = performance.now();
  const flood = (async () => {
    for (let round = 0; round < 5; round++) {
      for (const a of attackers) a.send(rrq, phoneSrv.target.port, '127.0.0.1');
      await sleep(100);
    }
  })();
  const storm = await runBootStorm({
    target: phoneSrv.target,
    phones: 50,
    seed: 9,
    verify: phonesFx.sha256,
    portPerTransfer: true,
    phoneAddress,
  });
  await flood;
  await sleep(1500);
  const seconds = (performance.now() - started) / 1000;
  for (const a of attackers) a.close();
  await phoneSrv.server.close();
  table(
    [
      'requests',
      'request bytes',
      'bytes to victim',
      'sessions opened',
      'DATA',
      'ERROR',
      'factor',
      'seconds',
      'phones served meanwhile',
    ],
    [
      [
        1000,
        1000 * rrq.length,
        got.bytes,
        got.ports.size,
        got.data,
        got.error,
        `${(got.bytes / (1000 * rrq.length)).toFixed(2)}x`,
        seconds.toFixed(1),
        `${storm.transfers - storm.failures}/${storm.transfers}`,
      ],
    ],
  );
}

async function loadSection() {
  emit(`### ${SESSIONS.toLocaleString('en')} concurrent sessions\n`);
  const file = Buffer.alloc(4000, 0x33);
  const { server, target } = await mapServer(new Map([['cfg.xml', file]]), {
    retransmitTimeoutMs: 30_000,
    inactivityTimeoutMs: 120_000,
    maxSessions: SESSIONS + 100,
  });
  const base = heap();
  const rssBase = process.memoryUsage().rss;
  let release;
  const gate = new Promise((r) => {
    release = r;
  });
  const transfers = [];
  const started = performance.now();
  for (let i = 0; i < SESSIONS; i++) {
    transfers.push(
      instrumentedGet({
        target,
        name: 'cfg.xml',
        gate,
        retransmitTimeoutMs: 20_000,
        keepData: false,
        bindAddress: phoneAddress(i),
      }),
    );
    if (i % 100 === 99) await sleep(20);
  }
  for (let t = 0; t < 60_000 && server.activeSessions < SESSIONS; t += 50) await sleep(50);
  const held = server.activeSessions;
  const perSession = (heap() - base) / SESSIONS;
  const rssPer = (process.memoryUsage().rss - rssBase) / SESSIONS;
  release();
  const outcomes = await Promise.all(transfers);
  const seconds = (performance.now() - started) / 1000;
  const failed = outcomes.filter((o) => !o.ok || o.sha256 !== sha(file)).length;
  const left = await drained(server);
  await server.close();
  table(
    [
      'sessions held at once',
      'heap per session (client+server)',
      'RSS per session',
      'failed',
      'sessions left',
      'seconds',
    ],
    [[held, `${Math.round(perSession)} B`, `${Math.round(rssPer)} B`, failed, left, seconds.toFixed(1)]],
  );
}

async function soakSection() {
  emit(`### Soak: ${SOAK_SECONDS} s of continuous boot storms (50 phones, 2% drop)\n`);
  const fx = bootStormFixture({ phones: 50, seed: 31 });
  const { server, target } = await mapServer(fx.files, { retransmitTimeoutMs: 300, retries: 8 });
  const link = await createLossyLink({ target, seed: 31, drop: 0.02, idleMs: 3000 });
  const samples = [];
  const deadline = performance.now() + SOAK_SECONDS * 1000;
  let transfers = 0;
  let failures = 0;
  let rounds = 0;
  const every = Math.max(1, Math.floor(SOAK_SECONDS / 10));
  let nextSample = performance.now();
  while (performance.now() < deadline) {
    const r = await runBootStorm({
      target: { address: link.address, port: link.port },
      phones: 50,
      seed: 31,
      verify: fx.sha256,
      retransmitTimeoutMs: 500,
      retries: 8,
      portPerTransfer: true,
      lingerMs: 1000,
      phoneAddress,
    });
    transfers += r.transfers;
    failures += r.failures;
    rounds++;
    if (performance.now() >= nextSample) {
      samples.push([Math.round((performance.now() - deadline) / 1000 + SOAK_SECONDS), mb(heap()), transfers]);
      nextSample += every * 1000;
    }
  }
  await link.close();
  const left = await drained(server);
  await server.close();
  table(['t (s)', 'heap after GC (MiB)', 'transfers so far'], samples);
  emit(
    `${rounds} storms, ${transfers.toLocaleString('en')} transfers, ${failures} failed, ${left} sessions left.\n`,
  );
}

async function gracefulSection() {
  emit('### Graceful close with transfers in flight\n');
  const file = Buffer.alloc(300_000, 0x44);
  const { server, target } = await mapServer(new Map([['load.bin', file]]), { maxSessions: 4096 });
  const link = await createLossyLink({ target, seed: 2, delayMs: [1, 5], drop: 0.01, idleMs: 5000 });
  const N = 200;
  const transfers = Array.from({ length: N }, (_, i) =>
    instrumentedGet({
      target: { address: link.address, port: link.port },
      name: 'load.bin',
      keepData: false,
      bindAddress: phoneAddress(i),
    }),
  );
  for (let t = 0; t < 10_000 && server.activeSessions < N; t += 20) await sleep(20);
  const inFlight = server.activeSessions;
  const closed = server.close({ graceMs: 120_000 });
  const outcomes = await Promise.all(transfers);
  await closed;
  await link.close();
  const ok = outcomes.filter((o) => o.ok && o.sha256 === sha(file)).length;
  table(
    ['transfers in flight at close()', 'completed with right SHA-256', 'failed'],
    [[inFlight, ok, N - ok]],
  );
}

async function deadClusterSection() {
  emit(`### Dead remote cluster: ${DEAD_REQUESTS.toLocaleString('en')} requests\n`);
  let resolver;
  try {
    const { MemoryStore, Resolver, UpstreamUnreachableError } = await import('@ptftp/resolver');
    // A dead cluster that keeps nothing per call (the harness's fault upstream records every
    // name it is asked for, which would be measured too).
    let calls = 0;
    const upstream = {
      id: 'B',
      async fetch() {
        calls++;
        await sleep(1);
        throw new UpstreamUnreachableError('B', [{ address: '127.0.0.1:9', error: new Error('no answer') }]);
      },
    };
    resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: ['127.0.0.1:9'] }], cache: { negativeTtlSeconds: 0 } },
      { store: new MemoryStore(), upstreamFactory: () => upstream },
    );
    const round = async (n, offset) => {
      for (let i = 0; i < n; i += 100)
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            resolver.resolve(`SEP${(offset + i + j).toString(16).padStart(12, '0')}.cnf.xml`).catch(() => {}),
          ),
        );
    };
    await round(5000, 0);
    const rows = [];
    const base = heap();
    const step = Math.max(100, Math.floor(DEAD_REQUESTS / 5));
    for (let done = 0; done < DEAD_REQUESTS; done += step) {
      await round(step, 1e7 + done);
      rows.push([
        (done + step).toLocaleString('en'),
        mb(heap()),
        `${((heap() - base) / 1024).toFixed(0)} KiB`,
      ]);
    }
    table(['requests', 'heap after GC (MiB)', 'growth since warm-up'], rows);
    emit(`${calls.toLocaleString('en')} fetches reached the dead cluster (no negative caching).\n`);
  } catch (err) {
    emit(`skipped: ${err.message}\n`);
  } finally {
    resolver?.close();
  }
}

emit('## Reliability\n');
emit(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, loopback, one process for clients and server.\n`,
);
// PTFTP_BENCH_SECTIONS=soak,storm runs only those sections (and writes reliability-<names>.md).
const only = (process.env.PTFTP_BENCH_SECTIONS ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
for (const section of [
  stormSection,
  badInputSection,
  traversalSection,
  amplificationSection,
  loadSection,
  gracefulSection,
  deadClusterSection,
  soakSection,
].filter((f) => only.length === 0 || only.includes(f.name.replace(/Section$/, '')))) {
  try {
    await section();
  } catch (err) {
    emit(`${section.name} FAILED: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
}
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
const file = only.length === 0 ? 'reliability.md' : `reliability-${only.join('-')}.md`;
writeFileSync(join(dir, file), `${out.join('\n')}\n`);
