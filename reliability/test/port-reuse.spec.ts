import { encodeAck, encodeRequest } from '@ptftp/protocol';
import { describe, expect, it, vi } from 'vitest';
import { startMapServer } from '../support/servers.js';
import { openProbe } from '../support/udp.js';

/*
 * A phone that keeps one UDP port fetches its next file right after ACKing the last block of
 * the previous one. The ACK (to the transfer port) and the new RRQ (to the listening port) are
 * on different sockets, and under load the server may read the RRQ first, while it still holds
 * the previous session for that client port. A resent RRQ must not start a second session, but
 * an RRQ for another file is not a resend: dropping it made the phone wait a whole retransmit
 * timeout per file (30 of 50 transfers in a 10-phone storm, before the server was fixed).
 * This reproduces the ordering deterministically.
 */
describe('a client that reuses its port for its next file', () => {
  it('gets its next file at once even if the server reads the new RRQ before the last ACK', async () => {
    const srv = await startMapServer(
      new Map([
        ['a.xml', Buffer.from('first file')],
        ['b.xml', Buffer.from('second file')],
      ]),
      { retransmitTimeoutMs: 3000 },
    );
    const phone = await openProbe();
    try {
      await phone.send(encodeRequest(1, 'a.xml'), srv.target);
      await vi.waitFor(() => expect(phone.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
      const tidA = phone.received[0]!.port;
      // The new request first, then the final ACK of the first transfer.
      await phone.send(encodeRequest(1, 'b.xml'), srv.target);
      await phone.send(encodeAck(1), { address: '127.0.0.1', port: tidA });
      await vi.waitFor(() => expect(phone.received).toHaveLength(2), { timeout: 2000, interval: 20 });
      expect(phone.received.map((r) => r.msg.subarray(4).toString())).toEqual(['first file', 'second file']);
    } finally {
      await phone.close();
      await srv.close();
    }
  });
});
