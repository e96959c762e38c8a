import { describe, expect, it } from 'vitest';
import { sequenceOf, wireBlock } from '../src/block-numbers.js';
import { negotiateOptions, type OptionLimits, parseOptionInteger } from '../src/options.js';

const limits: OptionLimits = { maxBlksize: 1468, maxWindowsize: 64, maxWindowBytes: 1 << 20 };
const read = (
  requested: Record<string, string>,
  extra: Partial<Parameters<typeof negotiateOptions>[1]> = {},
) => negotiateOptions(requested, { direction: 'read', size: 4096, limits, ...extra });

describe('RFC 2348 blksize', () => {
  it('grants a value inside 8..ceiling as asked', () => {
    expect(read({ blksize: '1024' })).toMatchObject({ blksize: 1024, oack: { blksize: '1024' } });
    expect(read({ blksize: '8' })).toMatchObject({ blksize: 8, oack: { blksize: '8' } });
  });
  it('clamps a value over the ceiling (and over 65464) to the ceiling', () => {
    expect(read({ blksize: '9000' })).toMatchObject({ blksize: 1468, oack: { blksize: '1468' } });
    expect(read({ blksize: '70000' })).toMatchObject({ blksize: 1468, oack: { blksize: '1468' } });
  });
  it('ignores values under 8 and non-numbers (no OACK entry, default 512)', () => {
    for (const v of ['7', '0', '-1', 'abc', '1e3', ' 512', '']) {
      const n = read({ blksize: v });
      expect(n.blksize).toBe(512);
      expect(n.oack).toEqual({});
    }
  });
});

describe('RFC 2349 timeout and tsize', () => {
  it('timeout 1..255 is echoed unchanged and becomes the retransmit timeout', () => {
    expect(read({ timeout: '3' })).toMatchObject({ timeoutMs: 3000, oack: { timeout: '3' } });
    expect(read({ timeout: '255' }).oack).toEqual({ timeout: '255' });
  });
  it('timeout 0 or 256 is ignored (the server may not change the value)', () => {
    expect(read({ timeout: '0' }).oack).toEqual({});
    expect(read({ timeout: '256' }).oack).toEqual({});
  });
  it('tsize in an RRQ is answered with the size when known, left out when not', () => {
    expect(read({ tsize: '0' })).toMatchObject({ tsize: 4096, oack: { tsize: '4096' } });
    expect(read({ tsize: '0' }, { size: undefined }).oack).toEqual({});
  });
  it("tsize in a WRQ echoes the client's size", () => {
    const n = negotiateOptions({ tsize: '123456' }, { direction: 'write', limits });
    expect(n).toMatchObject({ tsize: 123456, oack: { tsize: '123456' } });
  });
});

describe('RFC 7440 windowsize', () => {
  it('grants 1..ceiling in blocks', () => {
    expect(read({ windowsize: '16' })).toMatchObject({ windowsize: 16, oack: { windowsize: '16' } });
    expect(read({ windowsize: '500' })).toMatchObject({ windowsize: 64, oack: { windowsize: '64' } });
  });
  it('clamps to the byte budget after blksize is settled: floor(65536 / 1468) = 44', () => {
    const n = negotiateOptions(
      { windowsize: '64', blksize: '1468' },
      { direction: 'read', limits: { ...limits, maxWindowBytes: 65536 } },
    );
    expect(n).toMatchObject({ windowsize: 44, blksize: 1468, oack: { windowsize: '44', blksize: '1468' } });
  });
  it('ignores 0 and 65536', () => {
    expect(read({ windowsize: '0' }).oack).toEqual({});
    expect(read({ windowsize: '65536' }).oack).toEqual({});
  });
});

describe('rollover, unknown options and policies', () => {
  it('rollover 0/1 is granted; other values ignored; the server default applies otherwise', () => {
    expect(read({ rollover: '1' })).toMatchObject({ rollover: 1, oack: { rollover: '1' } });
    expect(read({ rollover: '0' }, { defaultRollover: 1 })).toMatchObject({ rollover: 0 });
    expect(read({ rollover: '2' })).toMatchObject({ rollover: 0, oack: {} });
    expect(read({}, { defaultRollover: 1 }).rollover).toBe(1);
  });
  it('RFC 2347: unknown options are not echoed; OACK keeps request order', () => {
    const n = read({ multicast: '', tsize: '0', foo: 'bar', blksize: '1024' });
    expect(Object.entries(n.oack)).toEqual([
      ['tsize', '4096'],
      ['blksize', '1024'],
    ]);
  });
  it('a policy can refuse named options, all options, or lower the ceilings per client', () => {
    expect(read({ blksize: '1400', tsize: '0' }, { policy: { refuse: ['BLKSIZE'] } }).oack).toEqual({
      tsize: '4096',
    });
    expect(read({ blksize: '1400', tsize: '0' }, { policy: { refuseAll: true } })).toMatchObject({
      blksize: 512,
      oack: {},
    });
    expect(
      read({ blksize: '1400', windowsize: '32' }, { policy: { maxBlksize: 1200, maxWindowsize: 4 } }).oack,
    ).toEqual({
      blksize: '1200',
      windowsize: '4',
    });
  });
  it('parseOptionInteger accepts plain decimals only', () => {
    expect(parseOptionInteger('0012')).toBe(12);
    expect(parseOptionInteger('0x10')).toBeUndefined();
    expect(parseOptionInteger('99999999999')).toBeUndefined();
  });
});

describe('16-bit block numbers past 65535', () => {
  it('rollover 0 wraps 65535 -> 0; rollover 1 wraps 65535 -> 1', () => {
    expect([65534, 65535, 65536, 65537].map((n) => wireBlock(n, 0))).toEqual([65534, 65535, 0, 1]);
    expect([65534, 65535, 65536, 65537].map((n) => wireBlock(n, 1))).toEqual([65534, 65535, 1, 2]);
    expect(wireBlock(131071, 1)).toBe(1);
  });
  it('an ACK maps back to the block sequence inside (base, limit], across the wrap', () => {
    expect(sequenceOf(0, 65535, 65540, 0)).toBe(65536);
    expect(sequenceOf(1, 65535, 65540, 1)).toBe(65536);
    expect(sequenceOf(0, 65535, 65540, 1)).toBeUndefined();
    // A duplicate ACK of the base, or a block beyond the limit, means nothing.
    expect(sequenceOf(10, 10, 20, 0)).toBeUndefined();
    expect(sequenceOf(21, 10, 20, 0)).toBeUndefined();
    expect(sequenceOf(15, 10, 20, 0)).toBe(15);
  });
});
