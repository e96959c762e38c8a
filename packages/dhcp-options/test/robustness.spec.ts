import {
  DhcpOptionsError,
  decodeDhcpv4Message,
  decodeDhcpv6Message,
  decodeOption66,
  decodeOption150,
  decodeVendorOption6,
} from '@ptftp/dhcp-options';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { v4Message } from './support/messages.js';

/** A decoder may return or throw a DhcpOptionsError; anything else (RangeError...) is a bug. */
function onlyTypedErrors(decode: (b: Uint8Array) => unknown) {
  return (bytes: Uint8Array) => {
    try {
      decode(bytes);
    } catch (err) {
      if (!(err instanceof DhcpOptionsError)) throw err;
      expect(err.code).toMatch(/^PTFTP_ERR_DHCP_/);
    }
  };
}

const bytes = fc.uint8Array({ maxLength: 600 });
// Options areas made of plausible TLVs reach deeper code than uniform noise.
const tlvs = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(0, 52, 53, 66, 150, 255), fc.nat(255)),
      fc.uint8Array({ maxLength: 40 }),
    ),
  )
  .map((list) => list.flatMap(([code, data]) => [code, data.length, ...data]));

describe('decoders never crash on random bytes', () => {
  const runs = { numRuns: 2000 };

  it('decodeOption150', () => fc.assert(fc.property(bytes, onlyTypedErrors(decodeOption150)), runs));
  it('decodeOption66', () => fc.assert(fc.property(bytes, onlyTypedErrors(decodeOption66)), runs));
  it('decodeVendorOption6', () => fc.assert(fc.property(bytes, onlyTypedErrors(decodeVendorOption6)), runs));
  it('decodeDhcpv6Message', () => fc.assert(fc.property(bytes, onlyTypedErrors(decodeDhcpv6Message)), runs));
  it('decodeDhcpv4Message (noise)', () =>
    fc.assert(fc.property(bytes, onlyTypedErrors(decodeDhcpv4Message)), runs));

  it('decodeDhcpv4Message (random TLVs in options, file and sname, random overload)', () => {
    fc.assert(
      fc.property(tlvs, tlvs, tlvs, fc.nat(3), (options, file, sname, overload) => {
        const msg = v4Message({
          options: [52, 1, overload, ...options],
          file: file.slice(0, 128),
          sname: sname.slice(0, 64),
        });
        onlyTypedErrors(decodeDhcpv4Message)(msg);
      }),
      runs,
    );
  });

  it('Option 17 with random sub-options of enterprise 9', () => {
    const sub = fc.tuple(fc.constantFrom(1, 2, 3), fc.uint8Array({ maxLength: 50 }));
    fc.assert(
      fc.property(fc.array(sub, { maxLength: 5 }), (subs) => {
        const body = [0, 0, 0, 9, ...subs.flatMap(([c, d]) => [0, c, d.length >> 8, d.length & 255, ...d])];
        onlyTypedErrors(decodeVendorOption6)(
          Uint8Array.from([0, 17, body.length >> 8, body.length & 255, ...body]),
        );
      }),
      runs,
    );
  });
});
