import { DhcpOptionsError, decodeDhcpv4Message, decodeDhcpv6Message } from '@ptftp/dhcp-options';
import { describe, expect, it } from 'vitest';
import { main } from '../dhcp-payloads.js';

/** A minimal DHCPOFFER (BOOTP header, magic cookie, option 53, the given options, END). */
function dhcpOffer(options: Buffer): Buffer {
  const header = Buffer.alloc(236);
  header[0] = 2; // BOOTREPLY
  header[1] = 1; // Ethernet
  header[2] = 6;
  header.writeUInt32BE(0x12345678, 4);
  return Buffer.concat([header, Buffer.from([99, 130, 83, 99, 53, 1, 2]), options, Buffer.from([255])]);
}

/** A DHCPv6 ADVERTISE (type 2, transaction id) carrying the given options. */
function dhcpv6Advertise(options: Buffer): Buffer {
  return Buffer.concat([Buffer.from([2, 0xab, 0xcd, 0xef]), options]);
}

describe('examples/dhcp-payloads.ts', () => {
  it('option 150 is code 150, length 8, then the two addresses in order (RFC 5859)', async () => {
    const p = await main();
    expect(p.option150Hex).toBe('96080a01010a0a01010b');
    const msg = decodeDhcpv4Message(dhcpOffer(Buffer.from(p.option150Hex, 'hex')));
    expect(msg.tftpServers).toEqual(['10.1.1.10', '10.1.1.11']);
  });

  it('DHCPv6 option 17 carries enterprise 9 and sub-option 1 with both addresses', async () => {
    const p = await main();
    expect(p.option17Hex).toBe(
      `0011002800000009` +
        `00010020` +
        `20010db8000000000000000000000010` +
        `20010db8000000000000000000000011`,
    );
    const msg = decodeDhcpv6Message(dhcpv6Advertise(Buffer.from(p.option17Hex, 'hex')));
    expect(msg.tftpServers).toEqual(['2001:db8::10', '2001:db8::11']);
  });

  it('Kea fragments are JSON that puts the addresses in the phone scopes; dnsmasq forces both options', async () => {
    const p = await main();
    const kea4 = JSON.parse(p.kea4);
    expect(kea4.Dhcp4['option-def'][0]).toMatchObject({ code: 150, type: 'ipv4-address', array: true });
    expect(kea4.Dhcp4.subnet4[0].subnet).toBe('10.1.1.0/24');
    expect(kea4.Dhcp4.subnet4[0]['option-data'][0].data).toBe('10.1.1.10, 10.1.1.11');
    const kea6 = JSON.parse(p.kea6);
    expect(kea6.Dhcp6['option-def'][0]).toMatchObject({ code: 1, space: 'vendor-9', type: 'ipv6-address' });
    expect(JSON.stringify(kea6.Dhcp6.subnet6[0]['option-data'])).toContain('2001:db8::10, 2001:db8::11');
    expect(p.dnsmasq).toContain('dhcp-option-force=150,10.1.1.10,10.1.1.11');
    expect(p.dnsmasq).toContain('vi-encap:9,option6:1,[2001:db8::10],[2001:db8::11]');
  });

  it('a redundant dual-stack plan gets no error or warning; a single IPv4 server for IPv6 phones gets both', async () => {
    const good = await main();
    expect(good.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const bad = await main({ v4: ['10.1.1.10'], v6: [], endpoints: { ipv4: true, ipv6: true } });
    expect(bad.option17Hex).toBe('');
    expect(bad.findings.map((f) => [f.severity, f.code])).toEqual([
      ['error', 'PTFTP_DHCP_V6_ENDPOINTS_WITHOUT_V6_TFTP'],
      ['warning', 'PTFTP_DHCP_SINGLE_SERVER'],
    ]);
  });

  it('refuses an IPv6 address in option 150 with a typed error naming the field', async () => {
    const err = await main({ v4: ['10.1.1.10', '2001:db8::1'], v6: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DhcpOptionsError);
    expect(err).toMatchObject({ code: 'PTFTP_ERR_DHCP_INVALID_ADDRESS', value: '2001:db8::1' });
  });
});
