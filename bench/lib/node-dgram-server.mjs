/**
 * The Node ceiling: the least a Node TFTP sender can do, with none of a server's work. It
 * answers RRQs from memory with node:dgram and nothing else: no name checks, no limits, no
 * timers or retransmission of its own (a client's repeated ACK makes it send the window again),
 * no events, files read synchronously once and kept. Beside it in the bench, a C peer shows
 * what the kernel allows and this shows what the Node runtime allows; our server sits between.
 *
 *   node bench/lib/node-dgram-server.mjs ROOT     # prints {"port": N} once listening
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: node-dgram-server.mjs ROOT');
  process.exit(2);
}
const RRQ = 1;
const DATA = 3;
const ACK = 4;
const OACK = 6;
const files = new Map();
const notFound = Buffer.from('\x00\x05\x00\x01not found\x00', 'latin1');

// The same 4 MiB receive buffer as our server: a storm's RRQs must not be dropped at the door.
const listener = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
listener.on('message', (msg, rinfo) => {
  if (msg.length < 4 || msg.readUInt16BE(0) !== RRQ) return;
  const fields = msg.subarray(2).toString('latin1').split('\0');
  let blksize = 512;
  let windowsize = 1;
  const granted = [];
  for (let i = 2; i + 1 < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    if (name === 'blksize') blksize = Number(fields[i + 1]);
    else if (name === 'windowsize') windowsize = Number(fields[i + 1]);
    else continue;
    granted.push(`${name}\0${fields[i + 1]}\0`);
  }
  // No name checks at all (a traversal would be served): a bench reference bound to 127.0.0.1
  // only, never a server to run.
  let data = files.get(fields[0]);
  if (data === undefined) {
    try {
      data = readFileSync(join(root, fields[0]));
    } catch {
      listener.send(notFound, rinfo.port, rinfo.address);
      return;
    }
    files.set(fields[0], data);
  }
  serve(data, blksize, windowsize, granted, rinfo.port, rinfo.address);
});
listener.bind(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: listener.address().port })}\n`);
});

function serve(data, blksize, windowsize, granted, port, address) {
  const lastBlock = Math.floor(data.length / blksize) + 1;
  const socket = dgram.createSocket('udp4');
  let acked = 0;
  const send = (n) => {
    const start = (n - 1) * blksize;
    const packet = Buffer.allocUnsafe(4 + Math.max(0, Math.min(blksize, data.length - start)));
    packet.writeUInt16BE(DATA, 0);
    packet.writeUInt16BE(n & 0xffff, 2);
    data.copy(packet, 4, start, start + blksize);
    socket.send(packet, port, address);
  };
  const sendWindow = () => {
    for (let n = acked + 1; n <= Math.min(acked + windowsize, lastBlock); n++) send(n);
  };
  socket.on('message', (msg) => {
    if (msg.length < 4 || msg.readUInt16BE(0) !== ACK) return;
    // Block numbers wrap at 65536: take the acknowledged block nearest above what was acked.
    const n = acked + ((msg.readUInt16BE(2) - (acked & 0xffff)) & 0xffff);
    if (n > acked + windowsize) return;
    acked = n;
    if (acked >= lastBlock) socket.close();
    else sendWindow();
  });
  socket.bind(0, '127.0.0.1', () => {
    if (granted.length === 0) sendWindow();
    else
      socket.send(
        Buffer.from(`\x00${String.fromCharCode(OACK)}${granted.join('')}`, 'latin1'),
        port,
        address,
      );
  });
}

process.on('SIGTERM', () => process.exit(0));
