import { describe, expect, it } from 'vitest';
import { captureIo } from '../src/io.js';
import { run } from '../src/program.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(['dhcp', ...argv], io);
  return { code, out: io.out, err: io.err };
}

const SPEC_V6 =
  '001100280000000900010020' + '20010db8000000000000000000000010' + '20010db8000000000000000000000011';

describe('ptftp dhcp option150', () => {
  it('contract: prints the spec vector as lowercase hex without separators', async () => {
    expect(await cli('option150', '10.1.1.10', '10.1.1.11')).toEqual({
      code: 0,
      out: '96080a01010a0a01010b\n',
      err: '',
    });
  });

  it('--format base64 prints the same bytes in base64', async () => {
    const { out } = await cli('option150', '10.1.1.10', '10.1.1.11', '--format', 'base64');
    expect(Buffer.from(out.trim(), 'base64').toString('hex')).toBe('96080a01010a0a01010b');
  });

  it.each([
    ['isc', 'option voip-tftp-server 10.1.1.10, 10.1.1.11;'],
    ['kea', '"data": "10.1.1.10, 10.1.1.11"'],
    ['dnsmasq', 'dhcp-option-force=150,10.1.1.10,10.1.1.11'],
    ['ios', ' option 150 ip 10.1.1.10 10.1.1.11'],
    ['windows', 'Set-DhcpServerv4OptionValue -OptionId 150 -Value 10.1.1.10,10.1.1.11'],
  ])('--format %s renders configuration', async (format, line) => {
    const { code, out } = await cli('option150', '10.1.1.10', '10.1.1.11', '--format', format);
    expect(code).toBe(0);
    expect(out).toContain(line);
  });

  it('an IPv6 address fails with exit 1 and a one-line message naming the field and value', async () => {
    const { code, out, err } = await cli('option150', '10.1.1.10', '2001:db8::1');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^ptftp: option150\[1\]: .*"2001:db8::1".*\[PTFTP_ERR_DHCP_INVALID_ADDRESS\]\n$/);
  });

  it('kea refuses 64 addresses (over 255 bytes) with exit 1', async () => {
    const many = Array.from({ length: 64 }, (_, i) => `10.7.0.${i + 1}`);
    const { code, err } = await cli('option150', ...many, '--format', 'kea');
    expect(code).toBe(1);
    expect(err).toContain('PTFTP_ERR_DHCP_TARGET_LIMIT');
  });

  it('usage errors exit 2: no address, unknown format', async () => {
    expect((await cli('option150')).code).toBe(2);
    expect((await cli('option150', '10.1.1.10', '--format', 'xml')).code).toBe(2);
  });

  it('--help shows examples', async () => {
    const { code, out } = await cli('option150', '--help');
    expect(code).toBe(0);
    expect(out).toContain('Examples:');
    expect(out).toContain('ptftp dhcp option150 10.1.1.10 10.1.1.11');
  });
});

describe('ptftp dhcp option17 and option66', () => {
  it('prints the spec DHCPv6 vector as hex', async () => {
    expect(await cli('option17', '2001:db8::10', '2001:db8::11')).toEqual({
      code: 0,
      out: `${SPEC_V6}\n`,
      err: '',
    });
  });

  it('--service adds sub-option 2', async () => {
    const { out } = await cli('option17', '--service', 'tftp');
    expect(out).toBe('0011000c000000090002000474667470\n');
  });

  it.each([
    ['isc', 'option cisco.tftp-servers 2001:db8::10, 2001:db8::11;'],
    ['kea', '"space": "vendor-9"'],
    ['dnsmasq', 'vi-encap:9,option6:1,[2001:db8::10],[2001:db8::11]'],
    ['ios', '  suboption 1 address 2001:db8::10 2001:db8::11'],
    ['windows', '-VendorClass "Cisco" -OptionId 1 -Value 2001:db8::10,2001:db8::11'],
  ])('--format %s renders the IPv6 configuration', async (format, line) => {
    const { code, out } = await cli('option17', '2001:db8::10', '2001:db8::11', '--format', format);
    expect(code).toBe(0);
    expect(out).toContain(line);
  });

  it('an IPv4 address fails with exit 1; nothing at all is a usage error', async () => {
    const bad = await cli('option17', '10.1.1.10');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('PTFTP_ERR_DHCP_INVALID_ADDRESS');
    expect((await cli('option17')).code).toBe(2);
  });

  it('option66 prints the spec vector', async () => {
    expect((await cli('option66', 'tftp.example.com')).out).toBe('4210746674702e6578616d706c652e636f6d\n');
  });
});

describe('ptftp dhcp option150 warns about a payload that will not do what was meant', () => {
  it('a duplicate address: the payload as given on stdout, one warning on stderr, exit 0', async () => {
    const r = await cli('option150', '10.1.1.10', '10.1.1.10');
    expect(r.code).toBe(0);
    expect(r.out).toBe('96080a01010a0a01010a\n');
    expect(r.err).toMatch(/^warning \[PTFTP_DHCP_DUPLICATE_ADDRESS\]: [^\n]*10\.1\.1\.10[^\n]*\n$/);
  });

  it('256 addresses: the RFC 3396 long option and the ISC dhcpd drop are both named', async () => {
    const many = Array.from({ length: 256 }, (_, i) => `10.4.${i >> 8}.${(i & 255) + 0}`);
    const r = await cli('option150', ...many);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning [PTFTP_DHCP_LONG_OPTION]: 256 IPv4 TFTP addresses');
    expect(r.err).toContain(
      'warning [PTFTP_DHCP_ISC_DROPS_OPTION150]: 256 IPv4 TFTP addresses need 1024 bytes',
    );
    expect(r.err.trim().split('\n')).toHaveLength(2);
  });

  it('two distinct addresses: no warning', async () => {
    expect((await cli('option150', '10.1.1.10', '10.1.1.11')).err).toBe('');
  });
});

describe('ptftp dhcp decode', () => {
  it('decodes option 150', async () => {
    expect(await cli('decode', '96080a01010a0a01010b')).toEqual({
      code: 0,
      out: 'option 150 (TFTP server address): 10.1.1.10, 10.1.1.11\n',
      err: '',
    });
  });

  it('decodes option 66 with the dnsmasq trailing NUL, and accepts separators', async () => {
    const { out } = await cli('decode', '0x42:11:74:66:74:70:2e:65:78:61:6d:70:6c:65:2e:63:6f:6d:00');
    expect(out).toBe('option 66 (TFTP server name): tftp.example.com\n');
  });

  it('decodes DHCPv6 option 17 (spec vector) and --json gives the addresses', async () => {
    expect((await cli('decode', SPEC_V6)).out).toBe(
      'option 17 enterprise 9 (Cisco) sub-option 1 (TFTP servers): 2001:db8::10, 2001:db8::11\n',
    );
    const json = JSON.parse((await cli('decode', SPEC_V6, '--json')).out);
    expect(json).toEqual({
      kind: 'option17',
      vendor: { enterpriseNumber: 9, tftpServers: ['2001:db8::10', '2001:db8::11'], other: [] },
    });
  });

  it('decodes a whole DHCPv4 ACK (header + cookie + options)', async () => {
    const msg = Buffer.alloc(240);
    msg[0] = 2;
    msg.writeUInt32BE(0xcafe0001, 4);
    Buffer.from([99, 130, 83, 99]).copy(msg, 236);
    const hex = Buffer.concat([msg, Buffer.from('350105' + '96080a01010a0a01010b' + 'ff', 'hex')]).toString(
      'hex',
    );
    const { code, out } = await cli('decode', hex);
    expect(code).toBe(0);
    expect(out).toContain('DHCPv4 BOOTREPLY DHCPACK, xid 0xcafe0001');
    expect(out).toContain('option 150 (TFTP server address): 10.1.1.10, 10.1.1.11');
    const json = JSON.parse((await cli('decode', hex, '--json')).out);
    expect(json.message.tftpServers).toEqual(['10.1.1.10', '10.1.1.11']);
  });

  it('decodes a whole DHCPv6 Reply', async () => {
    const { out } = await cli('decode', `07010203${SPEC_V6}`);
    expect(out).toContain('DHCPv6 REPLY, transaction 0x010203');
    expect(out).toContain('sub-option 1 (TFTP servers): 2001:db8::10, 2001:db8::11');
  });

  it('malformed option bytes fail with exit 1 and the typed error code', async () => {
    const { code, err } = await cli('decode', '96050a01010a0a');
    expect(code).toBe(1);
    expect(err).toContain('PTFTP_ERR_DHCP_LENGTH');
  });

  it('text that is not hex is a usage error (exit 2), one line naming the argument', async () => {
    expect((await cli('decode', 'xyz')).code).toBe(2);
    const odd = await cli('decode', '960');
    expect(odd.code).toBe(2);
    expect(odd.err).toMatch(/^ptftp: [^\n]*hex[^\n]*even number of hex digits[^\n]*\n$/);
  });

  it('bytes that are nothing DHCP (deadbeef: first byte 222) fail with exit 1, not "DHCPv6 type 222"', async () => {
    const r = await cli('decode', 'deadbeef');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'ptftp: dhcpv6.msgType: not a DHCPv6 message type (1..35) (value: 222) [PTFTP_ERR_DHCP_UNEXPECTED_CODE]\n',
    );
  });

  it('a DHCPv4 message cut before its magic cookie is reported as a truncated DHCPv4 message', async () => {
    // op 2 (reply), Ethernet, hlen 6, then a header cut at 40 bytes.
    const r = await cli('decode', `020106${'00'.repeat(37)}`);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'ptftp: dhcpv4: a DHCPv4 message is at least 240 bytes (header and magic cookie) (value: 40) [PTFTP_ERR_DHCP_TRUNCATED]\n',
    );
  });

  it('bytes pasted unquoted (one argument per byte, as Wireshark copies them) are joined', async () => {
    expect(await cli('decode', '96', '08', '0a', '01', '01', '0a', '0a', '01', '01', '0b')).toEqual({
      code: 0,
      out: 'option 150 (TFTP server address): 10.1.1.10, 10.1.1.11\n',
      err: '',
    });
  });
});

describe('ptftp dhcp plan', () => {
  it('prints advice only without --format', async () => {
    const { code, out } = await cli('plan', '--v4', '10.1.1.10');
    expect(code).toBe(0);
    expect(out).toContain('warning [PTFTP_DHCP_SINGLE_SERVER]');
    expect(out).toContain('fix: ');
  });

  it('with --format: configuration on stdout, advice on stderr', async () => {
    const { code, out, err } = await cli(
      'plan',
      '--v4',
      '10.1.1.10',
      '10.1.1.11',
      '--v6',
      '2001:db8::10',
      '2001:db8::11',
      '--endpoints',
      'dual',
      '--format',
      'kea6',
    );
    expect(code).toBe(0);
    expect(JSON.parse(out).Dhcp6['option-data'][1].data).toBe('2001:db8::10, 2001:db8::11');
    expect(err).toContain('PTFTP_DHCP_PROXY_MUST_LISTEN_V6');
  });

  it('an error in the advice exits 1 and renders nothing, unless --force', async () => {
    const bad = await cli('plan', '--v4', '10.1.1.10', '--endpoints', 'dual', '--format', 'isc');
    expect(bad.code).toBe(1);
    expect(bad.out).toBe('');
    expect(bad.err).toContain('error [PTFTP_DHCP_V6_ENDPOINTS_WITHOUT_V6_TFTP]');
    expect(bad.err).toContain('ptftp: the plan has 1 error');
    const forced = await cli(
      'plan',
      '--v4',
      '10.1.1.10',
      '--endpoints',
      'dual',
      '--format',
      'isc',
      '--force',
    );
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('option voip-tftp-server 10.1.1.10;');
  });

  it('the target limit is an error in the advice (dnsmasq, 64 addresses)', async () => {
    const many = Array.from({ length: 64 }, (_, i) => `10.8.0.${i + 1}`);
    const { code, err } = await cli('plan', '--v4', ...many, '--format', 'dnsmasq');
    expect(code).toBe(1);
    expect(err).toContain('PTFTP_DHCP_TARGET_LIMIT');
  });

  it('--json prints findings and config; comma lists and scope options are taken', async () => {
    const { code, out } = await cli(
      'plan',
      '--v4',
      '10.1.1.10,10.1.1.11',
      '--subnet4',
      '10.1.1.0/24',
      '--pool-name',
      'VOICE',
      '--format',
      'ios',
      '--json',
    );
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.findings).toEqual([]);
    expect(json.config).toContain(
      'ip dhcp pool VOICE\n network 10.1.1.0 255.255.255.0\n option 150 ip 10.1.1.10 10.1.1.11',
    );
  });

  it('an unknown --format is a usage error', async () => {
    expect((await cli('plan', '--v4', '10.1.1.10', '--format', 'bind')).code).toBe(2);
  });

  it.each(['option66', 'option17', 'decode', 'plan'])('%s --help shows examples', async (verb) => {
    const { code, out } = await cli(verb, '--help');
    expect(code).toBe(0);
    expect(out).toContain('Examples:');
  });
});
