import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { tftpGet } from '../src/client.js';
import { createLossyLink, instrumentedGet, type LossyLink } from '../src/testing/index.js';
import { pattern, startServer } from './support/server-fixture.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const links: LossyLink[] = [];
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

describe('transfers under a seeded lossy link (drop, duplicate, reorder) complete intact', () => {
  const content = pattern(150_000);
  const serverOptions = {
    handler: () => content,
    retransmitTimeoutMs: 80,
    retries: 30,
    firstAckRetries: 10,
  };

  for (const seed of [7]) {
    it(`lockstep, seed ${seed}: SHA-256 matches and retransmission stays bounded (no Sorcerer's Apprentice)`, async () => {
      const { port } = await startServer(serverOptions);
      const link = await createLossyLink({
        target: { address: '127.0.0.1', port },
        seed,
        drop: 0.08,
        duplicate: 0.1,
        reorder: 0.1,
      });
      links.push(link);
      const out = await instrumentedGet({
        target: { address: link.address, port: link.port },
        name: 'f.bin',
        options: { blksize: '1024' },
        retransmitTimeoutMs: 80,
        retries: 30,
      });
      expect(out.error).toBeUndefined();
      expect(out.ok).toBe(true);
      expect(out.sha256).toBe(sha(content));
      const s = link.stats;
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.duplicated).toBeGreaterThan(0);
      // Each lost DATA or ACK costs about one resend; resending on duplicate ACKs would double this.
      expect(s.dataPacketsToClient / s.dataBlocksToClient).toBeLessThan(1.6);
    });
  }

  it('RFC 7440 windowsize 8 under loss (client of this package): SHA-256 matches', async () => {
    const { port } = await startServer(serverOptions);
    const link = await createLossyLink({
      target: { address: '127.0.0.1', port },
      seed: 3,
      drop: 0.05,
      duplicate: 0.05,
      reorder: 0.05,
    });
    links.push(link);
    const got = await tftpGet({ host: link.address, port: link.port }, 'f.bin', {
      blksize: 1024,
      windowsize: 8,
      retransmitTimeoutMs: 80,
      retries: 30,
    });
    expect(sha(got)).toBe(sha(content));
    expect(link.stats.dropped).toBeGreaterThan(0);
  });
});
