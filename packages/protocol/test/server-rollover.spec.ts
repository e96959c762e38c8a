import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawWindowRead } from './support/raw-peer.js';
import { openPeer, pattern, startServer } from './support/server-fixture.js';

// blksize 8 makes block 65535 arrive after 512 KiB instead of 32 MiB; windowsize 64 keeps the
// 65539 blocks quick (one ACK per window). Lockstep rollover is covered by the curl 40 MiB test.
const content = pattern(8 * 65538 + 3);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('16-bit block numbers roll over past 65535 (checked on the wire, blksize 8)', () => {
  it('default: 65534, 65535, 0, 1, 2 and the file is intact', async () => {
    const { port } = await startServer({ handler: () => content });
    const peer = await openPeer();
    const got = await rawWindowRead(peer, port, 'big', { blksize: '8', windowsize: '64' });
    expect(got.blocks.length).toBe(65539);
    expect(got.blocks.slice(65533)).toEqual([65534, 65535, 0, 1, 2, 3]);
    expect(sha(got.data)).toBe(sha(content));
  });

  it('rollover=1 requested by the client: 65535 is followed by 1, and the option is echoed', async () => {
    const { port } = await startServer({ handler: () => content });
    const peer = await openPeer();
    const got = await rawWindowRead(peer, port, 'big', { blksize: '8', windowsize: '64', rollover: '1' });
    expect(got.oack).toEqual({ blksize: '8', windowsize: '64', rollover: '1' });
    expect(got.blocks.slice(65533)).toEqual([65534, 65535, 1, 2, 3, 4]);
    expect(sha(got.data)).toBe(sha(content));
  });
});
