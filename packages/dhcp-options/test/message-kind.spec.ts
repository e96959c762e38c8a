/**
 * Bytes that are no DHCP message are refused, not decoded as something exotic (issue 15:
 * `deadbeef` came out as "DHCPv6 type 222"), and the ISC dhcpd size limit is named.
 */
import { analyze, decodeDhcpv6Message } from '@ptftp/dhcp-options';
import { describe, expect, it } from 'vitest';

describe('DHCPv6 message type (RFC 8415 §7.3 and the IANA registry: 1..35)', () => {
  it.each([
    [0xde, 'deadbeef'],
    [0, '00010203'],
    [36, '24010203'],
  ])('type %i is refused with PTFTP_ERR_DHCP_UNEXPECTED_CODE on dhcpv6.msgType', (type, hex) => {
    expect.assertions(1);
    try {
      decodeDhcpv6Message(Buffer.from(hex, 'hex'));
    } catch (err) {
      expect(err).toMatchObject({
        code: 'PTFTP_ERR_DHCP_UNEXPECTED_CODE',
        field: 'dhcpv6.msgType',
        value: type,
      });
    }
  });

  it('a Reply (7) and an Information-request (11) still decode', () => {
    expect(decodeDhcpv6Message(Buffer.from('07010203', 'hex'))).toMatchObject({
      messageType: 7,
      transactionId: 0x010203,
    });
    expect(decodeDhcpv6Message(Buffer.from('0b000001', 'hex')).messageType).toBe(11);
  });
});

describe('analyze: ISC dhcpd drops option 150 from 72 addresses (default 576-byte message)', () => {
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.6.0.${i + 1}`);
  const codes = (n: number, target?: 'isc' | 'kea4') =>
    analyze({ v4: addresses(n) }, target ? { target } : {}).map((f) => f.code);
  it('71 addresses: no ISC warning; 72: the warning, for isc and for no target, not for kea4', () => {
    expect(codes(71)).not.toContain('PTFTP_DHCP_ISC_DROPS_OPTION150');
    expect(codes(72)).toContain('PTFTP_DHCP_ISC_DROPS_OPTION150');
    expect(codes(72, 'isc')).toContain('PTFTP_DHCP_ISC_DROPS_OPTION150');
    expect(codes(72, 'kea4')).not.toContain('PTFTP_DHCP_ISC_DROPS_OPTION150');
  });
});
