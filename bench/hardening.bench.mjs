/**
 * Issue 13's TFTP and upstream figures, before -> after, against the BUILT packages:
 *  1. legit phones' success during a 1,500 RRQ/s flood from 3 addresses (127.0.0.2-4);
 *  2. forged-ACK amplification (bytes delivered / bytes forged) in single-port mode, beside
 *     tftpd-hpa and dnsmasq in their default modes;
 *  3. time to a phone's first answer when its cluster's first address is dead.
 * "Before" is the same build with the old behaviour configured back (no per-source limits, no
 * send budget, no hedging), which is what the old defaults were.
 *
 *   npm run build && node bench/hardening.bench.mjs   # writes bench/results/hardening.md
 */
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, encodeAck, encodeRequest, FileNotFoundError } from '@ptftp/protocol';
import { bootStormFixture, runBootStorm } from '@ptftp/protocol/testing';
import { TftpClusterUpstream } from '@ptftp/resolver';
import { startDnsmasq, startTftpdHpa } from './lib/peers.mjs';
import { markdownTable } from './lib/table.mjs';

const tableText = (head, rows) =>
  markdownTable(
    head,
    rows.map((r) => r.map(String)),
  ).join('\n');

const out = [];
const emit = (t) => {
  console.log(t);
  out.push(t);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const phoneAddress = (i) => `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
const BEFORE = {
  maxSessionsPerSource: Number.POSITIVE_INFINITY,
  newSessionsPerSecondPerSource: Number.POSITIVE_INFINITY,
};

async function mapServer(files, opts = {}) {
  const server = createServer({
    ...opts,
    handler: ({ filename }) => {
      const d = files.get(filename) ?? (filename.startsWith('flood-') ? files.get('big.bin') : undefined);
      if (!d) throw new FileNotFoundError(filename);
      return d;
    },
  });
  const [b] = await server.listen(['127.0.0.1:0']);
  return { server, port: b.port };
}

async function socketOn(host) {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise((r) => s.bind(0, host, r));
  return s;
}

async function floodFigure(label, opts) {
  const PHONES = 200;
  const fx = bootStormFixture({ phones: PHONES, seed: 5 });
  const files = new Map([...fx.files, ['big.bin', Buffer.alloc(1_000_000, 0x41)]]);
  const { server, port } = await mapServer(files, opts);
  let refusedBusy = 0;
  server.on('requestRefused', (e) => {
    if (/server busy/.test(e.message)) refusedBusy++;
  });
  // 3 attackers x 10 ports, 500 RRQ/s each address, never ACK.
  const attackers = [];
  for (const host of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    for (let i = 0; i < 10; i++) attackers.push(await socketOn(host));
  // A new name per request: a repeated RRQ from the same port would count once.
  const rrq = (n) => encodeRequest(1, `flood-${n}.bin`, 'octet', { blksize: '1428' });
  let sent = 0;
  let flooding = true;
  let peak = 0;
  const floodStart = performance.now();
  const flood = (async () => {
    while (flooding) {
      // 1,500 RRQ/s by the clock (timers run late under load), spread over the 30 sockets.
      const due = Math.floor((performance.now() - floodStart) * 1.5);
      for (; sent < due; sent++) attackers[sent % attackers.length].send(rrq(sent), port, '127.0.0.1');
      peak = Math.max(peak, server.activeSessions);
      await sleep(5);
    }
  })();
  await sleep(3000); // the flood fills the session table first
  const started = performance.now();
  const storm = await runBootStorm({
    target: { address: '127.0.0.1', port },
    phones: PHONES,
    seed: 5,
    verify: fx.sha256,
    portPerTransfer: true,
    phoneAddress,
    attempts: 1,
    retries: 3,
  });
  const seconds = (performance.now() - started) / 1000;
  flooding = false;
  await flood;
  for (const a of attackers) a.close();
  await server.close({ graceMs: 0 });
  const ok = storm.transfers - storm.failures;
  return [
    label,
    sent.toLocaleString('en'),
    `${ok}/${storm.transfers}`,
    `${((100 * ok) / storm.transfers).toFixed(1)}%`,
    refusedBusy.toLocaleString('en'),
    peak.toLocaleString('en'),
    seconds.toFixed(1),
  ];
}

/**
 * A victim that forges an RRQ and blind ACKs to `port` and counts what it receives. `stride`:
 * the attacker ACKs every `stride` blocks (1: every block; the granted windowsize: one ACK per
 * window, the most a forged ACK can get). Wire factor counts 28 bytes of IPv4 + UDP header per
 * datagram both ways.
 */
async function forgedAck(port, stride, acks = 100) {
  const victim = await socketOn('127.0.0.1');
  let received = 0;
  let packets = 0;
  victim.on('message', (m) => {
    received += m.length;
    packets++;
  });
  const rrq = encodeRequest(1, 'big.bin', 'octet', { blksize: '1428', windowsize: '64' });
  victim.send(rrq, port, '127.0.0.1');
  let forged = rrq.length;
  await sleep(20);
  for (let i = 0; i < acks; i++) {
    const ack = encodeAck((i * stride) & 0xffff);
    victim.send(ack, port, '127.0.0.1');
    forged += ack.length;
    await sleep(10);
  }
  await sleep(2500);
  victim.close();
  const sentPackets = acks + 1;
  return {
    stride,
    forged,
    received,
    payload: received / forged,
    wire: (received + 28 * packets) / (forged + 28 * sentPackets),
  };
}

async function forgedAckFigure(label, port, strides) {
  let worst;
  for (const stride of strides) {
    const r = await forgedAck(port, stride);
    if (!worst || r.payload > worst.payload) worst = r;
  }
  return [
    label,
    worst.stride === 1 ? 'ACK every block' : `ACK every ${worst.stride} blocks`,
    worst.forged,
    worst.received.toLocaleString('en'),
    `${worst.payload.toFixed(1)}x`,
    `${worst.wire.toFixed(1)}x`,
  ];
}

async function amplificationFigures() {
  const big = Buffer.alloc(10_000_000, 0x42);
  const rows = [];
  // The windows the attacker predicts: 45 = floor(64 KiB / 1428) before; 2 with the budget.
  for (const [label, opts, strides] of [
    ['ptftp single-port, before (no send budget)', { ports: 'single', sendBudget: false }, [1, 45]],
    ['ptftp single-port, after (send budget)', { ports: 'single' }, [1, 2]],
    ['ptftp port per transfer (default)', {}, [1, 45]],
  ]) {
    const { server, port } = await mapServer(new Map([['big.bin', big]]), opts);
    rows.push(await forgedAckFigure(label, port, strides));
    await server.close({ graceMs: 0 });
  }
  const root = mkdtempSync(join(tmpdir(), 'ptftp-bench-amp-'));
  writeFileSync(join(root, 'big.bin'), big);
  for (const [label, start] of [
    ['tftpd-hpa 5.2 (default: port per transfer)', () => startTftpdHpa(root)],
    ['dnsmasq 2.90 (default: port per transfer)', () => startDnsmasq(root)],
  ]) {
    let peer;
    try {
      peer = await start();
      rows.push(await forgedAckFigure(label, peer.port, [1]));
    } catch (err) {
      rows.push([label, '-', '-', `skipped: ${String(err.message).slice(0, 80)}`, '-', '-']);
    } finally {
      await peer?.stop();
    }
  }
  return rows;
}

async function deadFirstAddressFigures() {
  const dead = await socketOn('127.0.0.3'); // takes datagrams, never answers
  const file = Buffer.alloc(5000, 0x43);
  const { server, port } = await mapServer(new Map([['SEP001122334455.cnf.xml', file]]));
  const rows = [];
  for (const [label, hedgeMs] of [
    ['before (no hedging: 2 tries 1000 ms apart, then the next address)', 1e9],
    ['after (hedged: next address after 300 ms)', undefined],
  ]) {
    const times = [];
    for (let i = 0; i < 5; i++) {
      // A fresh upstream each time: the first phone after the address died, the worst case.
      const up = new TftpClusterUpstream(
        { id: 'B', tftp: [`127.0.0.3:${dead.address().port}`, `127.0.0.1:${port}`] },
        hedgeMs === undefined ? {} : { hedgeMs },
      );
      const t0 = performance.now();
      await up.fetch('SEP001122334455.cnf.xml', { signal: AbortSignal.timeout(10_000) });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    rows.push([label, Math.round(times[0]), Math.round(times[2]), Math.round(times[4])]);
  }
  dead.close();
  await server.close({ graceMs: 0 });
  return rows;
}

emit('## Hardening (issue 13)\n');
emit(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, loopback, one process for clients and server.\n`,
);
const only = (process.env.PTFTP_BENCH_SECTIONS ?? '').split(',').filter(Boolean);
if (only.length === 0 || only.includes('flood')) {
  emit('### Legit phones during a 1,500 RRQ/s flood from 3 addresses (200 phones x 5 files, one try each)\n');
  const rows = [
    await floodFigure('before (no per-source limits)', BEFORE),
    await floodFigure('after (defaults: 128 sessions, 50/s burst 100 per source)', {}),
  ];
  emit(
    tableText(
      [
        'server',
        'flood RRQs',
        'legit transfers ok',
        'success',
        '"server busy" refusals',
        'peak sessions',
        'storm seconds',
      ],
      rows,
    ),
  );
}
if (only.length === 0 || only.includes('amplification')) {
  emit(
    '\n### Forged-ACK amplification: an RRQ (blksize 1428, windowsize 64) and 100 blind ACKs from the victim (worst attack shown)\n',
  );
  emit(
    tableText(
      [
        'server',
        'worst attack',
        'bytes forged',
        'bytes delivered',
        'factor (UDP payload)',
        'factor (on the wire)',
      ],
      await amplificationFigures(),
    ),
  );
}
if (only.length === 0 || only.includes('dead')) {
  emit("\n### Time to a phone's first answer when its cluster's first address is dead (ms, 5 runs)\n");
  emit(tableText(['upstream', 'min', 'median', 'max'], await deadFirstAddressFigures()));
}
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, only.length === 0 ? 'hardening.md' : `hardening-${only.join('-')}.md`),
  `${out.join('\n')}\n`,
);
process.exit(0);
