/**
 * The strongest check: configuration rendered by this package, loaded by the real servers from
 * Debian on loopback (ports picked at run time), makes them send replies whose options this
 * package decodes back to the plan. Requests deliberately leave options 150/66/17 out of the
 * parameter request list (v4) and the option request option (v6), which proves `always-send` /
 * `dhcp-option-force` are rendered too.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type DhcpPlan, decodeDhcpv4Message, decodeDhcpv6Message, render } from '@ptftp/dhcp-options';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DhcpDaemon,
  exchange,
  lacking,
  requireBinary,
  runCommand,
  startDnsmasq,
  startKea4,
  startKea6,
  tempDir,
} from './support/daemons.js';
import { v4Message, v6Message, v6Option } from './support/messages.js';

const running: DhcpDaemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

const CHADDR = [0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc];

/** DHCPINFORM from 127.0.0.1 (ciaddr), asking only for the subnet mask. */
function inform(xid: number): Uint8Array {
  return v4Message({
    op: 1,
    xid,
    ciaddr: [127, 0, 0, 1],
    chaddr: CHADDR,
    options: [53, 1, 8, 55, 1, 1, 61, 7, 1, ...CHADDR, 255],
  });
}

/**
 * An Information-request wrapped in a Relay-forw. Kea drops a client's unicast
 * Information-request (RFC 8415 wants multicast, and lo has no link-local address to
 * multicast from), but a relay may unicast; option 135 (RFC 8357 relay source port) makes Kea
 * answer on our port instead of 547.
 */
function relayedInformationRequest(xid: number, port: number): Uint8Array {
  const duid = [0, 3, 0, 1, ...CHADDR];
  const inner = v6Message(11, xid, [...v6Option(1, duid), ...v6Option(6, [0, 23]), ...v6Option(8, [0, 0])]);
  const link = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const peer = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];
  return Uint8Array.from([
    12,
    0,
    ...link,
    ...peer,
    ...v6Option(9, inner),
    ...v6Option(135, [port >> 8, port & 255]),
  ]);
}

describe.skipIf(lacking('kea4'))(
  'Kea DHCPv4 (kea-dhcp4) loads the kea4 rendering and sends option 150 and 66',
  () => {
    it.each([
      ['global option-data', undefined],
      ['option-data in subnet4 (scope)', '127.0.0.0/8'],
    ])('%s', async (_name, subnet4) => {
      const plan: DhcpPlan = {
        v4: ['10.1.1.10', '10.1.1.11'],
        serverName: 'tftp.example.com',
        ...(subnet4 ? { scope: { subnet4 } } : {}),
      };
      const rendered = JSON.parse(render(plan, 'kea4')).Dhcp4;
      const kea = await startKea4((dir) => ({
        Dhcp4: {
          ...rendered,
          'interfaces-config': { interfaces: ['lo'], 'dhcp-socket-type': 'udp' },
          'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'leases4.csv') },
          subnet4: rendered.subnet4 ?? [{ subnet: '127.0.0.0/8' }],
        },
      }));
      running.push(kea);
      const msg = decodeDhcpv4Message(await exchange('127.0.0.1', kea, inform(0x4b454131)));
      expect(msg.xid).toBe(0x4b454131);
      expect(msg.messageType).toBe(5); // DHCPACK
      expect(msg.tftpServers).toEqual(plan.v4);
      expect(msg.tftpServerName).toBe(plan.serverName);
    });
  },
);

describe.skipIf(lacking('kea4', 'kea6'))(
  'control: the same Kea servers without always-send (why the renderer adds it)',
  () => {
    const strip = (data: Array<Record<string, unknown>>) => data.map(({ 'always-send': _, ...rest }) => rest);

    it('kea-dhcp4 leaves option 150 out for a client that did not ask for it', async () => {
      const rendered = JSON.parse(render({ v4: ['10.1.1.10', '10.1.1.11'] }, 'kea4')).Dhcp4;
      const kea = await startKea4((dir) => ({
        Dhcp4: {
          ...rendered,
          'option-data': strip(rendered['option-data']),
          'interfaces-config': { interfaces: ['lo'], 'dhcp-socket-type': 'udp' },
          'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'leases4.csv') },
          subnet4: [{ subnet: '127.0.0.0/8' }],
        },
      }));
      running.push(kea);
      const msg = decodeDhcpv4Message(await exchange('127.0.0.1', kea, inform(0x4b454132)));
      expect(msg.messageType).toBe(5);
      expect(msg.tftpServers).toBeUndefined();
    });

    it.each([
      [
        'on the sub-option only',
        (o: Record<string, unknown>) => o.name !== 'vendor-opts',
        [{ enterpriseNumber: 9, other: [] }],
      ],
      ['anywhere', () => true, []],
    ] as const)('kea-dhcp6 without always-send %s', async (_name, pick, expected) => {
      const rendered = JSON.parse(render({ v6: ['2001:db8::10', '2001:db8::11'] }, 'kea6')).Dhcp6;
      const data = (rendered['option-data'] as Array<Record<string, unknown>>).map((o) =>
        pick(o) ? strip([o])[0]! : o,
      );
      const kea = await startKea6((dir) => ({
        Dhcp6: {
          ...rendered,
          'option-data': data,
          'interfaces-config': { interfaces: ['lo/::1'] },
          'server-id': { type: 'EN', 'enterprise-id': 9, identifier: '0102', persist: false },
          'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'leases6.csv') },
          subnet6: [{ subnet: '2001:db8::/64' }],
        },
      }));
      running.push(kea);
      const msg = decodeDhcpv6Message(
        await exchange('::1', kea, relayedInformationRequest(0x4b4537, kea.clientPort)),
      );
      expect(msg.messageType).toBe(7);
      // Spec: without always-send on the sub-option Kea 2.2 sends an empty option 17.
      expect(msg.vendorOptions).toEqual(expected);
      expect(msg.tftpServers).toBeUndefined();
    });
  },
);

describe.skipIf(lacking('kea6'))(
  'Kea DHCPv6 (kea-dhcp6) loads the kea6 rendering and sends option 17 enterprise 9',
  () => {
    it.each([
      ['global option-data', undefined],
      ['option-data in subnet6 (scope)', '2001:db8::/64'],
    ])('%s', async (_name, subnet6) => {
      const plan: DhcpPlan = {
        v6: ['2001:db8::10', '2001:db8::11'],
        serviceName: 'tftp-svc.example.com',
        ...(subnet6 ? { scope: { subnet6 } } : {}),
      };
      const rendered = JSON.parse(render(plan, 'kea6')).Dhcp6;
      const kea = await startKea6((dir) => ({
        Dhcp6: {
          ...rendered,
          // lo has no link-local address, so Kea listens on ::1 by unicast.
          'interfaces-config': { interfaces: ['lo/::1'] },
          'server-id': { type: 'EN', 'enterprise-id': 9, identifier: '0102', persist: false },
          'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'leases6.csv') },
          subnet6: rendered.subnet6 ?? [{ subnet: '2001:db8::/64' }],
        },
      }));
      running.push(kea);
      const msg = decodeDhcpv6Message(
        await exchange('::1', kea, relayedInformationRequest(0x4b4536, kea.clientPort)),
      );
      expect(msg.relays[0]?.messageType).toBe(13); // Relay-reply
      expect(msg.messageType).toBe(7); // Reply
      expect(msg.transactionId).toBe(0x4b4536);
      expect(msg.vendorOptions.map((v) => v.enterpriseNumber)).toEqual([9]);
      expect(msg.tftpServers).toEqual(plan.v6);
      expect(msg.serviceName).toBe(plan.serviceName);
    });
  },
);

describe.skipIf(lacking('dnsmasq'))('dnsmasq loads the dnsmasq rendering and sends option 150 and 66', () => {
  const base = (p: { server: number; client: number; dir: string }, range: string) =>
    [
      'port=0',
      'interface=lo',
      'bind-interfaces',
      `dhcp-alternate-port=${p.server},${p.client}`,
      `dhcp-range=${range}127.0.0.100,127.0.0.200,255.0.0.0,1h`,
      `dhcp-leasefile=${path.join(p.dir, 'leases')}`,
      `pid-file=${path.join(p.dir, 'pid')}`,
      'log-dhcp',
    ].join('\n');
  // A DHCP server needs NET_ADMIN (root); the syntax checks below do not.
  const dhcpSkip = lacking('dnsmasqDhcp');

  it.skipIf(dhcpSkip).each([
    ['untagged', undefined],
    ['tagged with the pool name', 'VOICE'],
  ])('%s', async (_name, poolName) => {
    // An IP literal as the option-66 name: it must arrive as text, not 4 binary bytes.
    const plan: DhcpPlan = {
      v4: ['10.1.1.10', '10.1.1.11'],
      serverName: '10.9.9.9',
      ...(poolName ? { scope: { poolName } } : {}),
    };
    const rendered = render(plan, 'dnsmasq');
    const dnsmasq = await startDnsmasq((p) => `${base(p, poolName ? `set:${poolName},` : '')}\n${rendered}`);
    running.push(dnsmasq);
    const msg = decodeDhcpv4Message(await exchange('127.0.0.1', dnsmasq, inform(0x444e5331)));
    expect(msg.messageType).toBe(5);
    expect(msg.tftpServers).toEqual(plan.v4);
    expect(msg.tftpServerName).toBe('10.9.9.9');
  });

  it.skipIf(dhcpSkip)(
    'a tag that the range does not set keeps the options out (the tag is really applied)',
    async () => {
      const rendered = render({ v4: ['10.1.1.10', '10.1.1.11'], scope: { poolName: 'VOICE' } }, 'dnsmasq');
      const dnsmasq = await startDnsmasq((p) => `${base(p, '')}\n${rendered}`);
      running.push(dnsmasq);
      const msg = decodeDhcpv4Message(await exchange('127.0.0.1', dnsmasq, inform(0x444e5332)));
      expect(msg.messageType).toBe(5);
      expect(msg.tftpServers).toBeUndefined();
    },
  );

  // dnsmasq's --dhcp-alternate-port is IPv4 only: its DHCPv6 side always uses 546/547, which
  // tests sharing a machine must not take, so the IPv6 lines get dnsmasq's syntax check only.
  it('the DHCPv6 lines (vi-encap:9) pass dnsmasq --test (a syntax check only)', async () => {
    const rendered = render(
      {
        v4: ['10.1.1.10', '10.1.1.11'],
        v6: ['2001:db8::10', '2001:db8::11'],
        serviceName: 'tftp-svc',
        serverName: 'tftp',
      },
      'dnsmasq',
    );
    expect(rendered).toContain('vi-encap:9,option6:1,[2001:db8::10],[2001:db8::11]');
    const dir = tempDir('ptftp-dnsmasq-test-');
    try {
      const file = path.join(dir, 'dnsmasq.conf');
      writeFileSync(file, `port=0\n${rendered}`);
      const ok = await runCommand(requireBinary('dnsmasq'), ['--test', '-C', file], { timeoutMs: 10_000 });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('syntax check OK');
      // The check runs: a malformed option code fails it. (It does not check the address text.)
      writeFileSync(file, `port=0\ndhcp-option-force=vi-encap:9,option6:zz,[2001:db8::10]\n`);
      const bad = await runCommand(requireBinary('dnsmasq'), ['--test', '-C', file], { timeoutMs: 10_000 });
      expect(bad.code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dnsmasq itself refuses option 150 past 255 bytes, which is why the renderer refuses it first', async () => {
    const list = Array.from({ length: 64 }, (_, i) => `10.6.0.${i + 1}`);
    const dir = tempDir('ptftp-dnsmasq-test-');
    try {
      const file = path.join(dir, 'dnsmasq.conf');
      writeFileSync(file, `port=0\ndhcp-option-force=150,${list.join(',')}\n`);
      const res = await runCommand(requireBinary('dnsmasq'), ['--test', '-C', file], { timeoutMs: 10_000 });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/too long/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
