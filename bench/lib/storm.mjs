/**
 * A boot storm: N phones at once, each its own UDP socket, each fetching its own small
 * configuration file with a plain RFC 1350 RRQ (no options, 512-byte blocks), the way a
 * Cisco phone does after a power cut. Raw dgram, no library code: the client must not be
 * what is measured.
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;

function rrq(filename) {
  return Buffer.concat([Buffer.from([0, RRQ]), Buffer.from(`${filename}\0octet\0`, 'latin1')]);
}

function ack(block) {
  return Buffer.from([0, ACK, (block >> 8) & 0xff, block & 0xff]);
}

/**
 * Run the storm against 127.0.0.1:port. `files` maps names to expected contents.
 * Resolves { transfers, failures, retransmissions, seconds, perSecond, p50, p99, max }.
 * `onServed` is called as each phone gets its whole file (a bench may act mid-storm).
 */
export async function bootStorm(port, files, { rtoMs = 1000, retries = 5, onServed } = {}) {
  const names = [...files.keys()];
  const sockets = [];
  for (let i = 0; i < names.length; i++) {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
  }
  // Each phone from its own loopback address, as real phones are separate hosts (and the
  // per-source limits of a server see 1,000 phones, not one host sending 1,000 requests).
  const phoneAddress = (i) => `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  await Promise.all(sockets.map((s, i) => new Promise((resolve) => s.bind(0, phoneAddress(i), resolve))));

  const latencies = [];
  let failures = 0;
  let retransmissions = 0;
  let pending = names.length;
  let finishAll;
  const allDone = new Promise((resolve) => {
    finishAll = resolve;
  });

  const start = process.hrtime.bigint();
  names.forEach((name, i) => {
    const sock = sockets[i];
    const expected = files.get(name);
    const chunks = [];
    let next = 1;
    let tid;
    let tries = 0;
    let last = rrq(name);
    let timer;
    let done = false;
    const t0 = process.hrtime.bigint();
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        onServed?.();
      } else failures++;
      sock.close();
      if (--pending === 0) finishAll();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish(false);
        retransmissions++;
        sock.send(last, tid ?? port, '127.0.0.1');
        arm();
      }, rtoMs);
    };
    sock.on('message', (msg, rinfo) => {
      if (done || msg.length < 4) return;
      const op = msg.readUInt16BE(0);
      if (op === ERROR) return finish(false);
      if (op !== DATA) return;
      if (tid === undefined) tid = rinfo.port;
      else if (rinfo.port !== tid) return;
      const block = msg.readUInt16BE(2);
      if (block !== next) {
        // A repeat of the previous block: our ACK was lost, send it again.
        if (block === next - 1) sock.send(last, tid, '127.0.0.1');
        return;
      }
      chunks.push(msg.subarray(4));
      last = ack(block);
      next++;
      tries = 0;
      if (msg.length - 4 < 512) {
        // Close only once the final ACK is out: dgram sends after a lookup tick, and a socket
        // closed before then drops it, leaving the server to retransmit and time out instead.
        const ok = Buffer.concat(chunks).equals(expected);
        clearTimeout(timer);
        sock.send(last, tid, '127.0.0.1', () => finish(ok));
        return;
      }
      sock.send(last, tid, '127.0.0.1');
      arm();
    });
    sock.on('error', () => finish(false));
    sock.send(last, port, '127.0.0.1');
    arm();
  });
  await allDone;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN;
  return {
    transfers: latencies.length,
    failures,
    retransmissions,
    seconds,
    perSecond: latencies.length / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
    max: latencies.at(-1) ?? NaN,
  };
}

/**
 * Write `count` phone configuration files into `root` (SEP<MAC>.cnf.xml, 4 KiB each,
 * world-readable for daemons that drop privileges). Returns the map name → content that
 * {@link bootStorm} checks against.
 */
export function writeStormFiles(root, count) {
  const files = new Map();
  for (let i = 0; i < count; i++) {
    const mac = (0x001122000000 + i).toString(16).toUpperCase().padStart(12, '0');
    const name = `SEP${mac}.cnf.xml`;
    const body = Buffer.alloc(4096, `<device><mac>${mac}</mac></device>\n`);
    files.set(name, body);
    writeFileSync(join(root, name), body, { mode: 0o644 });
  }
  return files;
}
