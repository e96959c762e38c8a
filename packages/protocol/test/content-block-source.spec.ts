import { describe, expect, it, vi } from 'vitest';
import { wireBlock } from '../src/block-numbers.js';
import { toBlockSource } from '../src/block-source.js';
import type { Content } from '../src/content.js';
import { ContentBlockSource } from '../src/content-block-source.js';
import { AbortedError } from '../src/errors.js';
import { NetasciiDecoder } from '../src/netascii.js';

const decodeNetascii = (wire: Buffer): Buffer => {
  const d = new NetasciiDecoder();
  return Buffer.concat([d.write(wire), d.end()]);
};

/** Byte at `offset` of the synthetic file: depends on the high bits too, so a 4 GiB slip shows. */
const byteAt = (offset: number): number => ((offset % 251) ^ (Math.floor(offset / 2 ** 32) * 17)) & 0xff;

/** A file of any size whose bytes are computed, with every read recorded. */
class SyntheticContent implements Content {
  readonly version: string | undefined = 'v';
  readonly reads: Array<[number, number]> = [];
  released = 0;
  failFrom: number | undefined;
  constructor(
    readonly size: number | undefined,
    private readonly realSize = size ?? 0,
    readonly readAlign: number | undefined = undefined,
  ) {}
  peek(): Uint8Array | undefined {
    return undefined;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.reads.push([offset, length]);
    if (this.failFrom !== undefined && offset + length > this.failFrom) throw new Error('upstream broke');
    const end = Math.min(this.realSize, offset + length);
    const out = Buffer.allocUnsafe(Math.max(0, end - offset));
    for (let i = 0; i < out.length; i++) out[i] = byteAt(offset + i);
    return out;
  }
  whenSized(): Promise<number> {
    return Promise.resolve(this.realSize);
  }
  retain(): Content {
    return this;
  }
  release(): void {
    this.released++;
  }
}

/** Ask for block n until the source has it (reads complete on the microtask queue). */
async function blockOf(source: ContentBlockSource, n: number): Promise<Buffer> {
  return vi.waitFor(() => {
    const b = source.block(n);
    if (b === undefined) throw new Error(`block ${n} not ready`);
    return b;
  });
}

describe('ContentBlockSource: block n is the bytes at (n - 1) * blksize', () => {
  it('past 4 GiB: the offsets, the final short block and the 16-bit wire numbers (rollover) are right', async () => {
    const size = 5 * 2 ** 30 + 1000; // 5 GiB + 1000 bytes
    const blksize = 1468;
    const content = new SyntheticContent(size);
    const source = new ContentBlockSource(content, blksize, 16);
    const last = Math.floor(size / blksize) + 1;
    expect(source.lastBlock).toBe(last);
    expect(source.size).toBe(size);
    // The block across 4 GiB: 2^32 / 1468 = 2925727.04, so block 2925728 straddles it.
    const n = 2_925_728;
    source.release(n - 1);
    const b = await blockOf(source, n);
    expect(b.length).toBe(blksize);
    const offset = (n - 1) * blksize;
    expect(offset).toBeLessThan(2 ** 32);
    expect(offset + blksize).toBeGreaterThan(2 ** 32);
    for (let i = 0; i < blksize; i++) expect(b[i]).toBe(byteAt(offset + i));
    // Block numbers wrap: rollover 0 (tftp-hpa) restarts at 0, rollover 1 at 1.
    expect(wireBlock(n, 0)).toBe(n % 65536);
    expect(wireBlock(n, 1)).toBe(((n - 1) % 65535) + 1);
    // The final short block: size mod blksize bytes, the file's own last bytes.
    source.release(last - 1);
    const tail = await blockOf(source, last);
    expect(tail.length).toBe(size % blksize);
    expect(tail[tail.length - 1]).toBe(byteAt(size - 1));
    expect(source.block(last + 1)).toBeUndefined();
    source.close();
    source.close();
    expect(content.released).toBe(1);
  });

  it('reads ahead a window or two, never the file, in ranges aligned to the content readAlign', async () => {
    const content = new SyntheticContent(100 * 2 ** 20, undefined, 65536);
    const blksize = 1468;
    const source = new ContentBlockSource(content, blksize, 16);
    for (let n = 1; n <= 16; n++) await blockOf(source, n);
    const asked = content.reads.reduce((sum, [, len]) => sum + len, 0);
    // Horizon: max(2 windows, one aligned read) blocks ahead of the last ACK.
    expect(asked).toBeLessThanOrEqual((Math.ceil(65536 / blksize) + 1) * blksize);
    expect(asked).toBeGreaterThanOrEqual(16 * blksize);
    // Every range but a straddling block starts and ends on a 64 KiB boundary or a block edge inside one.
    for (const [offset, len] of content.reads) {
      const straddles = Math.floor(offset / 65536) !== Math.floor((offset + len - 1) / 65536);
      if (straddles) expect(len).toBe(blksize);
    }
    source.close();
  });

  it('a content whose size is unknown ends at its first short read (an empty last block on a multiple)', async () => {
    const content = new SyntheticContent(undefined, 4 * 512);
    const source = new ContentBlockSource(content, 512, 4);
    expect(source.lastBlock).toBeUndefined();
    for (let n = 1; n <= 4; n++) expect((await blockOf(source, n)).length).toBe(512);
    source.release(4);
    expect((await blockOf(source, 5)).length).toBe(0);
    expect(source.lastBlock).toBe(5);
    source.close();
  });

  it('a content still arriving (no version yet) is read block 1 alone, then a window at a time: the first DATA waits for one block, not 64 KiB', async () => {
    class Arriving extends SyntheticContent {
      override readonly version = undefined;
    }
    const content = new Arriving(1_000_000);
    const source = new ContentBlockSource(content, 1468, 16);
    expect((await blockOf(source, 1)).length).toBe(1468);
    expect(content.reads[0]).toEqual([0, 1468]);
    expect(content.reads[1]).toEqual([1468, 16 * 1468]);
    source.close();
    // A complete content is read in aligned 64 KiB ranges (fewer, larger reads).
    const complete = new SyntheticContent(1_000_000);
    const whole = new ContentBlockSource(complete, 1468, 16);
    await blockOf(whole, 1);
    expect(complete.reads[0]).toEqual([0, 44 * 1468]);
    whole.close();
  });

  it('a content still arriving holds at most two windows of reads per transfer, however often its next block is missing', async () => {
    // A phone waiting at the arriving edge finds its next block missing again and again; that is
    // the upstream's pace, not a slow disk: the read-ahead must not grow (1000 such phones each
    // holding 1 MiB of reads was the boot storm's peak memory).
    class Stuck extends SyntheticContent {
      override readonly version = undefined;
      override read(offset: number, length: number): Promise<Uint8Array> {
        this.reads.push([offset, length]);
        return offset === 0 ? super.read(offset, length) : new Promise<Uint8Array>(() => {});
      }
    }
    const content = new Stuck(100_000_000);
    const source = new ContentBlockSource(content, 1468, 16);
    await blockOf(source, 1);
    for (let i = 0; i < 200; i++) expect(source.block(2)).toBeUndefined();
    const asked = content.reads.reduce((sum, [, length]) => sum + length, 0);
    expect(asked).toBeLessThanOrEqual((1 + 2 * 16) * 1468);
    source.close();
  });

  it('a content that fails mid-way fails the source: the short last block is never offered', async () => {
    const size = 10 * 512 + 100;
    const content = new SyntheticContent(size);
    content.failFrom = 8 * 512;
    const source = new ContentBlockSource(content, 512, 2);
    const ready = vi.fn();
    source.onReady = ready;
    source.release(0);
    source.block(1);
    await vi.waitFor(() => expect(source.error).toBeInstanceOf(AbortedError));
    expect(source.error?.tftpCode).toBe(0);
    expect(ready).toHaveBeenCalled();
    expect(source.block(11)).toBeUndefined();
    source.close();
    expect(content.released).toBe(1);
  });
});

describe('netascii from a content handle is translated while streaming (no whole copy, no tsize)', () => {
  it('LF becomes CR LF and CR becomes CR NUL across read boundaries; the handle is released once', async () => {
    const text = Buffer.from('line one\nline two\r\nbare\rend\n'.repeat(5000));
    const reads: number[] = [];
    let released = 0;
    const content: Content = {
      size: text.length,
      version: 'v',
      peek: () => undefined,
      read: async (offset, length) => {
        reads.push(length);
        return text.subarray(offset, offset + length);
      },
      whenSized: async () => text.length,
      retain() {
        return this;
      },
      release: () => {
        released++;
      },
    };
    const source = toBlockSource({ kind: 'content', content, size: undefined }, 512, 4, true);
    expect(source.size).toBeUndefined();
    const blocks: Buffer[] = [];
    for (let n = 1; ; n++) {
      const b = await vi.waitFor(() => {
        const got = source.block(n);
        if (got === undefined) throw new Error('not yet');
        return got;
      });
      blocks.push(Buffer.from(b));
      source.release(n);
      if (b.length < 512) break;
    }
    const wire = Buffer.concat(blocks);
    expect(wire.includes(Buffer.from('one\r\nline'))).toBe(true);
    expect(wire.includes(Buffer.from('bare\r\x00end'))).toBe(true);
    expect(decodeNetascii(wire).equals(text)).toBe(true);
    // Read in bounded pieces, not the whole file at once.
    expect(Math.max(...reads)).toBeLessThanOrEqual(64 * 1024);
    source.close();
    source.close();
    expect(released).toBe(1);
  });
});
