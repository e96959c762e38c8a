import {
  DhcpOptionsError,
  decodeOption150,
  decodeOption150Value,
  encodeOption150,
  encodeOption150Value,
} from '@ptftp/dhcp-options';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, toHexString } from './support/messages.js';

function addresses(n: number, base = 10): string[] {
  return Array.from({ length: n }, (_, i) => `${base}.${(i >> 8) & 255}.${i & 255}.${(i % 250) + 1}`);
}

function codeOf(fn: () => unknown): DhcpOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpOptionsError);
    return err as DhcpOptionsError;
  }
  throw new Error('expected a DhcpOptionsError');
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));

describe('DHCPv4 option 150 (RFC 5859)', () => {
  it('spec vector: [10.1.1.10, 10.1.1.11] encodes to 96 08 0a01010a 0a01010b', () => {
    expect(toHexString(encodeOption150(['10.1.1.10', '10.1.1.11']))).toBe('96080a01010a0a01010b');
  });

  it('spec vector: 96 08 0a01010a 0a01010b decodes to [10.1.1.10, 10.1.1.11] in order', () => {
    expect(decodeOption150(hex('96 08 0a 01 01 0a 0a 01 01 0b'))).toEqual(['10.1.1.10', '10.1.1.11']);
  });

  it('keeps the order of preference (no sorting)', () => {
    expect(decodeOption150(encodeOption150(['10.9.9.9', '10.1.1.1']))).toEqual(['10.9.9.9', '10.1.1.1']);
  });

  it('63 addresses (252 bytes) fit one instance', () => {
    const bytes = encodeOption150(addresses(63));
    expect(bytes.length).toBe(2 + 252);
    expect([bytes[0], bytes[1]]).toEqual([150, 252]);
  });

  it('RFC 3396: 64 addresses become two instances split at 252 bytes on whole addresses', () => {
    const list = addresses(64);
    const bytes = encodeOption150(list);
    expect(bytes.length).toBe(2 + 252 + 2 + 4);
    expect([bytes[0], bytes[1]]).toEqual([150, 252]);
    expect([bytes[254], bytes[255]]).toEqual([150, 4]);
    // A receiver without RFC 3396 still reads each instance as whole addresses.
    expect(decodeOption150(bytes.subarray(0, 254))).toEqual(list.slice(0, 63));
    expect(decodeOption150(bytes.subarray(254))).toEqual(list.slice(63));
    expect(decodeOption150(bytes)).toEqual(list);
  });

  it('RFC 3396: 200 addresses become 4 instances (252 + 252 + 252 + 44 bytes)', () => {
    const bytes = encodeOption150(addresses(200));
    const lengths = [bytes[1], bytes[255], bytes[509], bytes[763]];
    expect(lengths).toEqual([252, 252, 252, 44]);
    expect(bytes.length).toBe(800 + 8);
  });

  it('RFC 3396: decoding concatenates byte-wise before splitting (ISC dhcpd splits mid-address)', () => {
    // 10.1.1.10 and 10.1.1.11 split 3 + 5 bytes across two instances.
    expect(decodeOption150(hex('96 03 0a 01 01  96 05 0a 0a 01 01 0b'))).toEqual(['10.1.1.10', '10.1.1.11']);
  });

  it('rejects an IPv6 address, naming the field and the value', () => {
    const err = codeOf(() => encodeOption150(['10.1.1.10', '2001:db8::1']));
    expect(err.code).toBe('PTFTP_ERR_DHCP_INVALID_ADDRESS');
    expect(err.field).toBe('option150[1]');
    expect(err.value).toBe('2001:db8::1');
    expect(err.message).toContain('option150[1]');
    expect(err.message).toContain('2001:db8::1');
  });

  it.each(['10.1', '010.1.1.1', '0x0a.1.1.1', '256.1.1.1', '', 'tftp.example.com', ' 10.1.1.1'])(
    'rejects %j (not a dotted quad)',
    (text) => {
      expect(codeOf(() => encodeOption150([text])).code).toBe('PTFTP_ERR_DHCP_INVALID_ADDRESS');
    },
  );

  it('rejects an empty list', () => {
    const err = codeOf(() => encodeOption150([]));
    expect(err.code).toBe('PTFTP_ERR_DHCP_EMPTY');
    expect(err.field).toBe('option150');
  });

  it('rejects a length that is not a multiple of 4', () => {
    const err = codeOf(() => decodeOption150(hex('96 05 0a 01 01 0a 0a')));
    expect(err.code).toBe('PTFTP_ERR_DHCP_LENGTH');
    expect(err.value).toBe(5);
  });

  it('rejects a zero-length option', () => {
    expect(codeOf(() => decodeOption150(hex('96 00'))).code).toBe('PTFTP_ERR_DHCP_EMPTY');
  });

  it('rejects truncated data', () => {
    const err = codeOf(() => decodeOption150(hex('96 08 0a 01 01 0a 0a 01')));
    expect(err.code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
    expect(err.value).toBe(8);
    expect(codeOf(() => decodeOption150(hex('96'))).code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
    expect(codeOf(() => decodeOption150(new Uint8Array())).code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
  });

  it('rejects bytes of another option', () => {
    const err = codeOf(() => decodeOption150(hex('42 01 41')));
    expect(err.code).toBe('PTFTP_ERR_DHCP_UNEXPECTED_CODE');
    expect(err.value).toBe(0x42);
  });

  it('value-only helpers skip the code and length', () => {
    expect(toHexString(encodeOption150Value(['10.1.1.10']))).toBe('0a01010a');
    expect(decodeOption150Value(hex('0a01010a'))).toEqual(['10.1.1.10']);
  });

  it('round-trips any list of 1..300 IPv4 addresses (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(ipv4, { minLength: 1, maxLength: 300 }), (list) => {
        const bytes = encodeOption150(list);
        expect(decodeOption150(bytes)).toEqual(list);
        // Every instance holds whole addresses.
        let at = 0;
        while (at < bytes.length) {
          expect(bytes[at]).toBe(150);
          expect(bytes[at + 1]! % 4).toBe(0);
          expect(bytes[at + 1]!).toBeLessThanOrEqual(252);
          at += 2 + bytes[at + 1]!;
        }
      }),
    );
  });

  it('decodes any byte-wise re-split of a long option to the same list (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(ipv4, { minLength: 1, maxLength: 100 }),
        fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 20 }),
        (list, cuts) => {
          const value = encodeOption150Value(list);
          const parts: number[] = [];
          let at = 0;
          let i = 0;
          while (at < value.length) {
            const n = Math.min(cuts[i++ % cuts.length]!, value.length - at);
            parts.push(150, n, ...value.subarray(at, at + n));
            at += n;
          }
          expect(decodeOption150(Uint8Array.from(parts))).toEqual(list);
        },
      ),
    );
  });
});
