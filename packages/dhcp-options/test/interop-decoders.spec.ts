/**
 * An independent decoder agrees: payloads written by this package into a pcap are decoded by
 * tshark and by scapy (Debian's /usr/bin/python3) to the same addresses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeCiscoVendorOption6, encodeOption66, encodeOption150 } from '@ptftp/dhcp-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacking, requireBinary, runCommand } from './support/daemons.js';
import { v4Message, v6Message } from './support/messages.js';
import { pcap, udp4Frame, udp6Frame } from './support/pcap.js';

const TWO = ['10.1.1.10', '10.1.1.11'];
const LONG = Array.from({ length: 70 }, (_, i) => `10.5.${i >> 8}.${(i & 255) + 1}`);
const V6 = ['2001:db8::10', '2001:db8::11'];

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ptftp-dhcp-pcap-'));
  file = path.join(dir, 'replies.pcap');
  const ack = [53, 1, 5];
  const frames = [
    udp4Frame(
      v4Message({ options: [...ack, ...encodeOption150(TWO), ...encodeOption66('tftp.example.com'), 255] }),
      67,
      68,
    ),
    udp4Frame(v4Message({ options: [...ack, ...encodeOption150(LONG), 255] }), 67, 68),
    udp6Frame(
      v6Message(
        7,
        0x010203,
        Array.from(encodeCiscoVendorOption6({ addresses: V6, serviceName: 'tftp-svc' })),
      ),
      547,
      546,
    ),
  ];
  writeFileSync(file, pcap(frames));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(lacking('tshark'))('tshark decodes our payloads to the same values', () => {
  async function fields(...names: string[]): Promise<string[][]> {
    const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,'];
    for (const n of names) args.push('-e', n);
    const { code, stdout, stderr } = await runCommand(requireBinary('tshark'), args, { timeoutMs: 60_000 });
    expect(code, stderr).toBe(0);
    return stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('|'));
  }

  it('option 150 is "TFTP Server Address" with each address in order, and option 66 the name', async () => {
    const rows = await fields('dhcp.option.tftp_server_address', 'dhcp.option.tftp_server_name');
    expect(rows[0]).toEqual([TWO.join(','), 'tftp.example.com']);
  });

  it('RFC 3396: our long option 150 (split on whole addresses) reads as valid addresses, in order', async () => {
    const rows = await fields('dhcp.option.tftp_server_address');
    // tshark lists the addresses of both instances; concatenated they are the whole list.
    expect(rows[1]?.[0]?.split(',')).toEqual(LONG);
  });

  it('DHCPv6 option 17: enterprise 9, sub-options 1 and 2, the same bytes', async () => {
    const rows = await fields(
      'dhcpv6.vendoropts.enterprise',
      'dhcpv6.vendoropts.enterprise.option_code',
      'dhcpv6.vendoropts.enterprise.option_data',
    );
    const [enterprise, codes, data] = rows[2] ?? [];
    expect(enterprise).toBe('9');
    expect(codes).toBe('1,2');
    expect(data?.split(',')).toEqual([
      '20010db800000000000000000000001020010db8000000000000000000000011',
      Buffer.from('tftp-svc').toString('hex'),
    ]);
  });
});

describe.skipIf(lacking('scapy'))('scapy decodes our payloads to the same values', () => {
  const script = `
import json, sys
from scapy.all import rdpcap, DHCP, DHCP6OptVendorSpecificInfo, IPv6
out = []
for p in rdpcap(sys.argv[1]):
    if p.haslayer(DHCP):
        opts = {}
        for o in p[DHCP].options:
            if isinstance(o, tuple):
                opts.setdefault(o[0], []).extend(x.decode() if isinstance(x, bytes) else x for x in o[1:])
        out.append({'v4': opts})
    elif p.haslayer(DHCP6OptVendorSpecificInfo):
        v = p[DHCP6OptVendorSpecificInfo]
        out.append({'v6': {'enterprise': v.enterprisenum,
                           'vso': [[s.optcode, bytes(s.optdata).hex()] for s in v.vso]}})
print(json.dumps(out))
`;

  it('option 150 as tftp_server_address, RFC 3396 instances in order, option 66, and option 17', async () => {
    const py = requireBinary('scapy');
    const { code, stdout, stderr } = await runCommand(py, ['-c', script, file], { timeoutMs: 60_000 });
    expect(code, stderr).toBe(0);
    const [a, b, c] = JSON.parse(stdout);
    expect(a.v4.tftp_server_address).toEqual(TWO);
    expect(a.v4.tftp_server_name).toEqual(['tftp.example.com']);
    expect(b.v4.tftp_server_address).toEqual(LONG);
    expect(c.v6).toEqual({
      enterprise: 9,
      vso: [
        [1, '20010db800000000000000000000001020010db8000000000000000000000011'],
        [2, Buffer.from('tftp-svc').toString('hex')],
      ],
    });
  });
});
