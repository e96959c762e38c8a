/**
 * One phone downloading one (large) file over TFTP with options (blksize, windowsize, tsize;
 * RFC 2348/7440/2349), raw dgram: the bytes are hashed as they arrive and never kept, so a
 * bench of hundreds of 100 MB downloads measures the server, not the client's memory. A phone
 * can also stall: it stops answering after block `stallAfter` (or, `silent`, never answers
 * at all) and holds its session open.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';

const OACK = 6;
const DATA = 3;
const ERROR = 5;

function rrq(name, opts) {
  const parts = [name, 'octet'];
  if (opts.blksize) parts.push('blksize', String(opts.blksize));
  if (opts.windowsize) parts.push('windowsize', String(opts.windowsize));
  parts.push('tsize', '0');
  return Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${parts.join('\0')}\0`, 'latin1')]);
}

const ack = (block) => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

/**
 * Download `name` from 127.0.0.1:port. Resolves (never rejects) with
 * `{ ok, stalled, bytes, sha256, firstDataMs, ms, error }`; `signal` ends it (a run deadline).
 */
export function fetchOverTftp(port, name, opts = {}) {
  const { stallAfter, silent = false, rtoMs = 1000, retries = 5, signal } = opts;
  const sock = dgram.createSocket('udp4');
  const hash = createHash('sha256');
  const t0 = performance.now();
  let firstDataMs;
  let bytes = 0;
  let next = 1; // next block expected (unbounded; the wire carries it mod 65536)
  let tid;
  let last = rrq(name, opts);
  let tries = 0;
  let timer;
  let size;
  let negotiatedBlksize = 512;
  let negotiatedWindow = 1;
  let windowEnd = 1;
  return new Promise((resolve) => {
    let done = false;
    const finish = (result, lastAck) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // After the last ACK has left (closing at once could drop it, and the server would
      // keep retransmitting a transfer the phone thinks is over).
      if (lastAck) sock.send(lastAck, tid, '127.0.0.1', () => sock.close());
      else sock.close();
      resolve({ bytes, firstDataMs, ms: performance.now() - t0, ...result });
    };
    const onAbort = () => finish({ ok: false, stalled: stallAfter !== undefined, error: 'deadline' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish({ ok: false, error: 'timeout' });
        sock.send(last, tid ?? port, '127.0.0.1');
        arm();
      }, rtoMs);
    };
    const send = (buf) => {
      last = buf;
      tries = 0;
      sock.send(buf, tid ?? port, '127.0.0.1');
      arm();
    };
    sock.on('error', (err) => finish({ ok: false, error: err.code ?? err.message }));
    sock.on('message', (msg, rinfo) => {
      if (done) return;
      tid ??= rinfo.port;
      if (silent) {
        // Never ACKs anything (not even the OACK): the server holds the session until it gives up.
        clearTimeout(timer);
        return;
      }
      const op = msg.readUInt16BE(0);
      if (op === ERROR)
        return finish({ ok: false, error: `ERROR ${msg.readUInt16BE(2)}: ${msg.subarray(4, -1)}` });
      if (op === OACK) {
        const fields = msg.subarray(2).toString('latin1').split('\0');
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const [k, v] = [fields[i].toLowerCase(), Number(fields[i + 1])];
          if (k === 'blksize') negotiatedBlksize = v;
          if (k === 'windowsize') negotiatedWindow = v;
          if (k === 'tsize') size = v;
        }
        windowEnd = negotiatedWindow;
        return send(ack(0));
      }
      if (op !== DATA) return;
      firstDataMs ??= performance.now() - t0;
      const block = msg.readUInt16BE(2);
      if (block !== (next & 0xffff)) {
        // Out of order or a repeat: ask again from the last block in order (RFC 7440).
        if (((next - 1) & 0xffff) !== block) {
          windowEnd = next - 1 + negotiatedWindow;
          send(ack((next - 1) & 0xffff));
        }
        return;
      }
      const payload = msg.subarray(4);
      hash.update(payload);
      bytes += payload.length;
      const blockNo = next++;
      if (stallAfter !== undefined && blockNo >= stallAfter) {
        // A stalled phone: silent from now on, its session held until the deadline.
        clearTimeout(timer);
        return;
      }
      const end = payload.length < negotiatedBlksize;
      if (end) {
        return finish({ ok: true, sha256: hash.digest('hex'), size }, ack(block));
      }
      if (blockNo >= windowEnd) {
        windowEnd = blockNo + negotiatedWindow;
        send(ack(block));
      } else arm();
    });
    sock.bind(0, '127.0.0.1', () => send(last));
  });
}
