import {
  DhcpOptionsError,
  decodeDhcpv6Message,
  decodeVendorOption6,
  encodeCiscoVendorOption6,
} from '@ptftp/dhcp-options';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, toHexString, v6Message, v6Option } from './support/messages.js';

function errorOf(fn: () => unknown): DhcpOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpOptionsError);
    return err as DhcpOptionsError;
  }
  throw new Error('expected a DhcpOptionsError');
}

const SPEC_VECTOR =
  '0011 0028 00000009 0001 0020' + '20010db8000000000000000000000010' + '20010db8000000000000000000000011';

describe('DHCPv6 option 17, enterprise 9 (RFC 8415 §21.17, Cisco sub-options)', () => {
  it('spec vector: [2001:db8::10, 2001:db8::11] encodes to 0011 0028 00000009 0001 0020 ...', () => {
    expect(toHexString(encodeCiscoVendorOption6({ addresses: ['2001:db8::10', '2001:db8::11'] }))).toBe(
      SPEC_VECTOR.replace(/ /g, ''),
    );
  });

  it('spec vector: decodes to enterprise 9 and the two addresses in order', () => {
    expect(decodeVendorOption6(hex(SPEC_VECTOR))).toEqual({
      enterpriseNumber: 9,
      tftpServers: ['2001:db8::10', '2001:db8::11'],
      other: [],
    });
  });

  it('sub-option 2 carries the service name as ASCII without NUL', () => {
    const bytes = encodeCiscoVendorOption6({ serviceName: 'tftp' });
    expect(toHexString(bytes)).toBe('0011000c00000009' + '00020004' + '74667470');
    expect(decodeVendorOption6(bytes)).toEqual({ enterpriseNumber: 9, serviceName: 'tftp', other: [] });
  });

  it('writes addresses in canonical form when decoding (2001:0DB8::0010 -> 2001:db8::10)', () => {
    const bytes = encodeCiscoVendorOption6({ addresses: ['2001:0DB8:0:0::0010'] });
    expect(decodeVendorOption6(bytes).tftpServers).toEqual(['2001:db8::10']);
  });

  it('keeps unknown Cisco sub-options and other enterprises as raw entries', () => {
    const cisco = hex('0011 000c 00000009 0063 0004 deadbeef');
    expect(decodeVendorOption6(cisco)).toEqual({
      enterpriseNumber: 9,
      other: [{ code: 0x63, data: hex('deadbeef') }],
    });
    const msft = hex('0011 000c 00000137 0001 0004 0a01010a');
    expect(decodeVendorOption6(msft)).toEqual({
      enterpriseNumber: 311,
      other: [{ code: 1, data: hex('0a01010a') }],
    });
  });

  it('rejects an IPv4 address in sub-option 1, naming the field and the value', () => {
    const err = errorOf(() => encodeCiscoVendorOption6({ addresses: ['2001:db8::10', '10.1.1.10'] }));
    expect(err.code).toBe('PTFTP_ERR_DHCP_INVALID_ADDRESS');
    expect(err.field).toBe('option17.suboption1[1]');
    expect(err.value).toBe('10.1.1.10');
  });

  it('rejects IPv4-mapped and zoned addresses', () => {
    expect(errorOf(() => encodeCiscoVendorOption6({ addresses: ['::ffff:10.1.1.10'] })).code).toBe(
      'PTFTP_ERR_DHCP_INVALID_ADDRESS',
    );
    expect(errorOf(() => encodeCiscoVendorOption6({ addresses: ['fe80::1%eth0'] })).code).toBe(
      'PTFTP_ERR_DHCP_INVALID_ADDRESS',
    );
  });

  it('rejects an empty list and an empty request', () => {
    expect(errorOf(() => encodeCiscoVendorOption6({ addresses: [] })).code).toBe('PTFTP_ERR_DHCP_EMPTY');
    expect(errorOf(() => encodeCiscoVendorOption6({})).code).toBe('PTFTP_ERR_DHCP_EMPTY');
  });

  it('rejects a sub-option 1 length that is not a multiple of 16', () => {
    const err = errorOf(() => decodeVendorOption6(hex('0011 000c 00000009 0001 0004 20010db8')));
    expect(err.code).toBe('PTFTP_ERR_DHCP_LENGTH');
    expect(err.field).toBe('option17.suboption1');
    expect(err.value).toBe(4);
  });

  it('rejects truncated data at every cut of the spec vector', () => {
    const full = hex(SPEC_VECTOR);
    for (let n = 0; n < full.length; n++) {
      expect(errorOf(() => decodeVendorOption6(full.subarray(0, n))).code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
    }
  });

  it('rejects non-ASCII in the service name', () => {
    expect(errorOf(() => encodeCiscoVendorOption6({ serviceName: 'tftp\u00e9' })).code).toBe(
      'PTFTP_ERR_DHCP_NOT_ASCII',
    );
  });

  it('round-trips any list of IPv6 addresses and service name (fast-check)', () => {
    // Addresses written uncompressed from random bytes, so the expected bytes do not come from
    // the same library the codec uses; IPv4-mapped addresses are refused on purpose.
    const address = fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .filter((b) => !(b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff));
    const name = fc.option(fc.domain(), { nil: undefined });
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 40 }), name, (list, serviceName) => {
        const texts = list.map((b) =>
          Array.from({ length: 8 }, (_, i) => toHexString(b.subarray(2 * i, 2 * i + 2))).join(':'),
        );
        const bytes = encodeCiscoVendorOption6({ addresses: texts, ...(serviceName ? { serviceName } : {}) });
        const decoded = decodeVendorOption6(bytes);
        expect(decoded.tftpServers?.map((a) => toHexString(Uint8Array.from(ipBytes(a))))).toEqual(
          list.map((b) => toHexString(b)),
        );
        expect(decoded.serviceName).toBe(serviceName);
      }),
    );
  });
});

function ipBytes(text: string): number[] {
  // Independent of ipaddr.js: expand :: and embedded IPv4 by hand.
  let t = text.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    t = `${t.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

describe('DHCPv6 messages', () => {
  const vendor = Array.from(hex(SPEC_VECTOR));

  it('finds option 17 in a Reply and decodes the Cisco sub-options', () => {
    const msg = decodeDhcpv6Message(
      v6Message(7, 0x010203, [...v6Option(2, [0, 3, 0, 1, 1, 2, 3, 4, 5, 6]), ...vendor]),
    );
    expect(msg.messageType).toBe(7);
    expect(msg.transactionId).toBe(0x010203);
    expect(msg.tftpServers).toEqual(['2001:db8::10', '2001:db8::11']);
    expect(msg.vendorOptions).toHaveLength(1);
  });

  it('unwraps a Relay-reply to the inner Reply', () => {
    const inner = v6Message(7, 0xabcdef, vendor);
    const link = Array.from(hex('20010db8000000000000000000000001'));
    const peer = Array.from(hex('fe800000000000000000000000000099'));
    const relay = Uint8Array.from([13, 0, ...link, ...peer, ...v6Option(9, inner)]);
    const msg = decodeDhcpv6Message(relay);
    expect(msg.relays).toEqual([
      { messageType: 13, hopCount: 0, linkAddress: '2001:db8::1', peerAddress: 'fe80::99' },
    ]);
    expect(msg.transactionId).toBe(0xabcdef);
    expect(msg.tftpServers).toEqual(['2001:db8::10', '2001:db8::11']);
  });

  it('keeps option 17 of other enterprises next to Cisco', () => {
    const other = v6Option(17, [0, 0, 0x01, 0x37, 0, 1, 0, 1, 0xaa]);
    const msg = decodeDhcpv6Message(v6Message(7, 1, [...other, ...vendor]));
    expect(msg.vendorOptions.map((v) => v.enterpriseNumber)).toEqual([311, 9]);
    expect(msg.tftpServers).toEqual(['2001:db8::10', '2001:db8::11']);
  });

  it('RFC 8415 §21.17: rejects two option-17 instances with the same enterprise number', () => {
    const err = errorOf(() => decodeDhcpv6Message(v6Message(7, 1, [...vendor, ...vendor])));
    expect(err.code).toBe('PTFTP_ERR_DHCP_DUPLICATE');
    expect(err.value).toBe(9);
  });

  it('Kea 2.2 without always-send: an empty option 17 decodes to no TFTP servers', () => {
    const msg = decodeDhcpv6Message(v6Message(7, 1, v6Option(17, [0, 0, 0, 9])));
    expect(msg.tftpServers).toBeUndefined();
    expect(msg.vendorOptions).toEqual([{ enterpriseNumber: 9, other: [] }]);
  });
});
