import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/packet.js';
import { malformedDatagrams, mulberry32 } from '../src/testing/index.js';
import { rawRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

/** Seeded junk: mostly plausible opcodes (1..6) so the parser goes deep, lengths 0..600. */
function junk(seed: number, count: number): Buffer[] {
  const rnd = mulberry32(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(Math.floor(rnd() * 600));
    for (let j = 0; j < b.length; j++) b[j] = rnd() < 0.2 ? 0 : Math.floor(rnd() * 256);
    if (b.length >= 2 && rnd() < 0.8) {
      b[0] = 0;
      b[1] = 1 + Math.floor(rnd() * 6);
    }
    out.push(b);
  }
  return out;
}

describe('hostile datagrams never crash the server (RFC 1350 parsing, every length checked)', () => {
  it('the malformed corpus and 1500 seeded junk datagrams to the listening port, then a clean transfer', async () => {
    const { server, port } = await startServer({
      handler: () => pattern(3000),
      retransmitTimeoutMs: 100,
      firstAckRetries: 0,
    });
    let malformed = 0;
    server.on('malformedPacket', () => malformed++);
    const attacker = await openPeer();
    const corpus = malformedDatagrams().map((e) => e.bytes);
    const all = [...corpus, ...junk(2024, 1500)];
    for (const [i, d] of all.entries()) {
      attacker.send(d, port);
      // Let the server drain now and then: the point is parsing, not filling socket buffers.
      if (i % 100 === 99) await attacker.collect(5);
    }
    await attacker.collect(300);
    expect(malformed).toBeGreaterThan(corpus.length / 2);
    const peer = await openPeer();
    const got = await rawRead(peer, port, 'f.bin');
    expect(got.data).toEqual(pattern(3000));
  });

  it('junk from a stranger on a transfer port gets one ERROR 5 (rationed) and leaves the transfer intact', async () => {
    const { port } = await startServer({ handler: () => pattern(1500), retransmitTimeoutMs: 5000 });
    const peer = await openPeer();
    const stranger = await openPeer();
    peer.rrq(port, 'f.bin');
    const d1 = await peer.next();
    for (const d of junk(7, 300)) stranger.send(d, d1.port);
    // RFC 1350 §4: the stranger learns its TID is unknown, once: replies are rationed to one per
    // source per second, so 300 junk datagrams never turn the transfer port into a reflector.
    const first = await stranger.next();
    expect(first.packet).toMatchObject({ opcode: Opcode.ERROR, errorCode: 5 });
    expect(first.port).toBe(d1.port);
    expect(await stranger.collect(300)).toEqual([]);
    peer.ack(1, d1.port);
    expect((await peer.next()).packet).toMatchObject({ opcode: Opcode.DATA, block: 2 });
  });
});
