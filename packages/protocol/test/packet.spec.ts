import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPacketError } from '../src/errors.js';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodePacket,
  encodeRequest,
  Opcode,
  type Packet,
  PacketLimits,
  writeDataHeader,
} from '../src/packet.js';

const bytes = (...parts: Array<number[] | string>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

function expectMalformed(buf: Uint8Array, field: RegExp): MalformedPacketError {
  let caught: unknown;
  try {
    decodePacket(buf);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MalformedPacketError);
  const err = caught as MalformedPacketError;
  expect(err.code).toBe('PTFTP_ERR_MALFORMED_PACKET');
  expect(err.field).toMatch(field);
  return err;
}

describe('RFC 1350 §5 / RFC 2347 packet layouts round-trip with exact bytes', () => {
  it('RRQ: opcode 1, filename NUL, mode NUL, options as name NUL value NUL', () => {
    const wire = bytes([0, 1], 'a.bin', [0], 'octet', [0], 'blksize', [0], '1468', [0]);
    expect(encodeRequest(Opcode.RRQ, 'a.bin', 'octet', { blksize: '1468' })).toEqual(wire);
    expect(decodePacket(wire)).toEqual({
      opcode: 1,
      filename: 'a.bin',
      mode: 'octet',
      options: { blksize: '1468' },
    });
  });

  it('WRQ: opcode 2, netascii mode is case-insensitive on decode', () => {
    const wire = bytes([0, 2], 'up.txt', [0], 'NetASCII', [0]);
    expect(decodePacket(wire)).toEqual({ opcode: 2, filename: 'up.txt', mode: 'netascii', options: {} });
    expect(encodeRequest(Opcode.WRQ, 'up.txt', 'netascii')).toEqual(
      bytes([0, 2], 'up.txt', [0], 'netascii', [0]),
    );
  });

  it('DATA: opcode 3, 16-bit block, payload', () => {
    const wire = bytes([0, 3, 0x12, 0x34], [0xde, 0xad]);
    expect(encodeData(0x1234, Buffer.from([0xde, 0xad]))).toEqual(wire);
    const p = decodePacket(wire);
    expect(p.opcode).toBe(Opcode.DATA);
    if (p.opcode === Opcode.DATA) {
      expect(p.block).toBe(0x1234);
      expect(Buffer.from(p.data)).toEqual(Buffer.from([0xde, 0xad]));
    }
    const header = Buffer.alloc(4);
    writeDataHeader(header, 65535);
    expect(header).toEqual(Buffer.from([0, 3, 0xff, 0xff]));
  });

  it('ACK: opcode 4, 16-bit block', () => {
    expect(encodeAck(65535)).toEqual(Buffer.from([0, 4, 0xff, 0xff]));
    expect(decodePacket(Buffer.from([0, 4, 0, 0]))).toEqual({ opcode: 4, block: 0 });
  });

  it('ERROR: opcode 5, code, message NUL (a missing final NUL is tolerated)', () => {
    const wire = bytes([0, 5, 0, 1], 'File not found', [0]);
    expect(encodeError(1, 'File not found')).toEqual(wire);
    expect(decodePacket(wire)).toEqual({ opcode: 5, errorCode: 1, message: 'File not found' });
    expect(decodePacket(bytes([0, 5, 0, 2], 'denied'))).toEqual({
      opcode: 5,
      errorCode: 2,
      message: 'denied',
    });
  });

  it('OACK: opcode 6, options only (RFC 2347)', () => {
    const wire = bytes([0, 6], 'blksize', [0], '1468', [0], 'tsize', [0], '4096', [0]);
    expect(encodeOack({ blksize: '1468', tsize: '4096' })).toEqual(wire);
    expect(decodePacket(wire)).toEqual({ opcode: 6, options: { blksize: '1468', tsize: '4096' } });
  });

  it('RFC 2347: option names are case-insensitive (decoded lower-case)', () => {
    const wire = bytes([0, 1], 'f', [0], 'octet', [0], 'BlkSize', [0], '8', [0]);
    expect(decodePacket(wire)).toMatchObject({ options: { blksize: '8' } });
  });

  it('an ERROR message longer than the limit is cut, not refused', () => {
    const long = 'x'.repeat(PacketLimits.maxErrorMessageBytes + 100);
    const enc = encodeError(0, long);
    expect(enc.length).toBe(4 + PacketLimits.maxErrorMessageBytes + 1);
    const p = decodePacket(bytes([0, 5, 0, 0], long));
    expect(p.opcode === Opcode.ERROR && p.message.length).toBe(PacketLimits.maxErrorMessageBytes);
  });
});

describe('malformed datagrams yield MalformedPacketError naming the field', () => {
  it('shorter than an opcode', () => {
    expectMalformed(Buffer.from([]), /^opcode$/);
    expectMalformed(Buffer.from([0]), /^opcode$/);
  });
  it('unknown opcodes 0, 7 and 0xffff', () => {
    expectMalformed(Buffer.from([0, 0]), /^opcode$/);
    expectMalformed(Buffer.from([0, 7, 1, 2]), /^opcode$/);
    expectMalformed(Buffer.from([0xff, 0xff]), /^opcode$/);
  });
  it('truncated DATA, ACK and ERROR headers', () => {
    expectMalformed(Buffer.from([0, 3, 0]), /^block$/);
    expectMalformed(Buffer.from([0, 4, 0]), /^block$/);
    expectMalformed(Buffer.from([0, 5, 0]), /^errorCode$/);
  });
  it('request without NUL after the filename or the mode', () => {
    expectMalformed(bytes([0, 1], 'file'), /^filename$/);
    expectMalformed(bytes([0, 1], 'file', [0], 'octet'), /^mode$/);
  });
  it('empty filename', () => {
    expectMalformed(bytes([0, 1], [0], 'octet', [0]), /^filename$/);
  });
  it('unknown transfer mode', () => {
    const err = expectMalformed(bytes([0, 1], 'f', [0], 'binary', [0]), /^mode$/);
    expect(err.message).toContain('binary');
  });
  it('option without value, or without NUL terminator', () => {
    expectMalformed(bytes([0, 1], 'f', [0], 'octet', [0], 'blksize', [0]), /blksize/);
    expectMalformed(bytes([0, 1], 'f', [0], 'octet', [0], 'blksize', [0], '512'), /blksize/);
    expectMalformed(bytes([0, 6], 'tsize'), /options\.name/);
  });
  it('duplicate option (RFC 2347 leaves it undefined; refusing is safest)', () => {
    const err = expectMalformed(
      bytes([0, 1], 'f', [0], 'octet', [0], 'blksize', [0], '512', [0], 'BLKSIZE', [0], '1024', [0]),
      /blksize/,
    );
    expect(err.message).toContain('duplicate');
  });
  it(`filename over ${PacketLimits.maxFilenameBytes} bytes`, () => {
    expectMalformed(
      bytes([0, 1], 'a'.repeat(PacketLimits.maxFilenameBytes + 1), [0], 'octet', [0]),
      /^filename$/,
    );
  });
  it('option name and value over their limits, and too many options', () => {
    expectMalformed(
      bytes([0, 1], 'f', [0], 'octet', [0], 'x'.repeat(PacketLimits.maxOptionNameBytes + 1), [0], '1', [0]),
      /options\.name/,
    );
    expectMalformed(
      bytes(
        [0, 1],
        'f',
        [0],
        'octet',
        [0],
        'tsize',
        [0],
        '9'.repeat(PacketLimits.maxOptionValueBytes + 1),
        [0],
      ),
      /tsize/,
    );
    const many: Array<number[] | string> = [[0, 1], 'f', [0], 'octet', [0]];
    for (let i = 0; i <= PacketLimits.maxOptions; i++) many.push(`o${i}`, [0], '1', [0]);
    expectMalformed(bytes(...many), /^options$/);
  });
  it('invalid UTF-8 in a filename', () => {
    expectMalformed(bytes([0, 1], [0xc3, 0x28], [0], 'octet', [0]), /^filename$/);
  });
  it('DATA payload over the RFC 2348 maximum of 65464 bytes', () => {
    expectMalformed(Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(65465)]), /^data$/);
  });
});

describe('properties (fast-check)', () => {
  it('random bytes decode or throw MalformedPacketError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (buf) => {
        try {
          decodePacket(buf);
        } catch (err) {
          if (!(err instanceof MalformedPacketError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random datagrams that start with a valid opcode never throw anything but MalformedPacketError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 300 }), (op, rest) => {
        const buf = Buffer.concat([Buffer.from([0, op]), rest]);
        try {
          decodePacket(buf);
        } catch (err) {
          if (!(err instanceof MalformedPacketError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0'));
  const optionName = fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/);
  const options = fc.dictionary(optionName, text, { maxKeys: 8 });
  const packet: fc.Arbitrary<Packet> = fc.oneof(
    fc.record({
      opcode: fc.constantFrom(Opcode.RRQ, Opcode.WRQ),
      filename: text,
      mode: fc.constantFrom('octet', 'netascii', 'mail'),
      options,
    }) as fc.Arbitrary<Packet>,
    fc.record({
      opcode: fc.constant(Opcode.DATA),
      block: fc.integer({ min: 0, max: 65535 }),
      data: fc.uint8Array({ maxLength: 1500 }),
    }) as fc.Arbitrary<Packet>,
    fc.record({
      opcode: fc.constant(Opcode.ACK),
      block: fc.integer({ min: 0, max: 65535 }),
    }) as fc.Arbitrary<Packet>,
    fc.record({
      opcode: fc.constant(Opcode.ERROR),
      errorCode: fc.integer({ min: 0, max: 65535 }),
      message: fc.string({ maxLength: 100 }).filter((s) => !s.includes('\0')),
    }) as fc.Arbitrary<Packet>,
    fc.record({ opcode: fc.constant(Opcode.OACK), options }) as fc.Arbitrary<Packet>,
  );

  it('decode(encode(p)) equals p for every packet type', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const back = decodePacket(encodePacket(p));
        if (p.opcode === Opcode.DATA && back.opcode === Opcode.DATA) {
          expect(back.block).toBe(p.block);
          expect(Buffer.from(back.data)).toEqual(Buffer.from(p.data));
        } else {
          expect(back).toEqual(p);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
