import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeNetascii, NetasciiDecoder } from '../src/netascii.js';

const bytes = (...b: number[]) => Buffer.from(b);

function decodeChunks(chunks: readonly Uint8Array[]): Buffer {
  const d = new NetasciiDecoder();
  const parts = chunks.map((c) => d.write(c));
  parts.push(d.end());
  return Buffer.concat(parts);
}

/** Cut `data` at the given (sorted, deduplicated) offsets. */
function split(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    out.push(data.subarray(start, p));
    start = p;
  }
  out.push(data.subarray(start));
  return out;
}

describe('encodeNetascii (RFC 1350 netascii, RFC 764 NVT line ends)', () => {
  it('RFC 764: LF becomes CR LF', () => {
    expect(encodeNetascii(Buffer.from('a\nb\n'))).toEqual(bytes(0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x0a));
  });
  it('RFC 764: a bare CR becomes CR NUL', () => {
    expect(encodeNetascii(bytes(0x61, 0x0d, 0x62))).toEqual(bytes(0x61, 0x0d, 0x00, 0x62));
  });
  it('RFC 764: a local CR LF is sent as CR NUL CR LF (CR and LF are translated independently)', () => {
    expect(encodeNetascii(bytes(0x0d, 0x0a))).toEqual(bytes(0x0d, 0x00, 0x0d, 0x0a));
  });
  it('passes other bytes through, including NUL and 8-bit bytes', () => {
    expect(encodeNetascii(bytes(0x00, 0xff, 0x41))).toEqual(bytes(0x00, 0xff, 0x41));
    expect(encodeNetascii(new Uint8Array(0))).toEqual(Buffer.alloc(0));
  });
  it('is stateless: encoding per chunk equals encoding the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (data, cuts) => {
        const whole = encodeNetascii(data);
        const parts = Buffer.concat(split(data, cuts).map((c) => encodeNetascii(c)));
        expect(parts).toEqual(whole);
      }),
    );
  });
});

describe('NetasciiDecoder (RFC 1350 netascii)', () => {
  it('RFC 764: CR LF becomes LF and CR NUL becomes CR', () => {
    expect(decodeChunks([bytes(0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x00, 0x63)])).toEqual(
      bytes(0x61, 0x0a, 0x62, 0x0d, 0x63),
    );
  });
  it('keeps a lone CR followed by another byte', () => {
    expect(decodeChunks([bytes(0x0d, 0x41)])).toEqual(bytes(0x0d, 0x41));
    expect(decodeChunks([bytes(0x0d, 0x0d, 0x0a)])).toEqual(bytes(0x0d, 0x0a));
  });
  it('joins a CR at the end of one DATA block with LF or NUL at the start of the next', () => {
    const d = new NetasciiDecoder();
    expect(d.write(bytes(0x61, 0x0d))).toEqual(bytes(0x61));
    expect(d.write(bytes(0x0a, 0x62, 0x0d))).toEqual(bytes(0x0a, 0x62));
    expect(d.write(bytes(0x00))).toEqual(bytes(0x0d));
    expect(d.end()).toEqual(Buffer.alloc(0));
  });
  it('keeps a lone CR held across a boundary when the next chunk starts with another CR', () => {
    expect(decodeChunks([bytes(0x0d), bytes(0x0d), bytes(0x0a)])).toEqual(bytes(0x0d, 0x0a));
  });
  it('holds a CR across an empty chunk', () => {
    expect(decodeChunks([bytes(0x0d), new Uint8Array(0), bytes(0x0a)])).toEqual(bytes(0x0a));
  });
  it('end() flushes a trailing CR', () => {
    expect(decodeChunks([bytes(0x61, 0x0d)])).toEqual(bytes(0x61, 0x0d));
  });
  it('property: decode(encode(x)) == x for any split of the wire bytes into chunks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        // Bias towards CR/LF/NUL so that boundary cases occur often.
        fc.array(fc.constantFrom(0x0d, 0x0a, 0x00, 0x41), { maxLength: 40 }),
        (random, cuts, crlf) => {
          const data = Buffer.concat([Buffer.from(random), Buffer.from(crlf)]);
          const wire = encodeNetascii(data);
          expect(decodeChunks(split(wire, cuts))).toEqual(data);
        },
      ),
      { numRuns: 500 },
    );
  });
});
